// Issue 2, "What must hold": tuf-js's Updater, given only 1.root.json, downloads and verifies every
// target of a repository built by `init` + `add`, over real HTTP, by hash-prefixed names
// (consistent snapshots); and a client with old cached metadata follows the repository through
// `remove`, more `add`s and `bump --force`.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { tufpipRepo } from './helpers/cli.js';
import { expectOk, makeRepo, serve } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { readPublished, TufClient } from './helpers/tuf-client.js';
import { sha256File } from './helpers/hash.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';

describe('repo: a tuf-js client over real HTTP', function () {
  this.timeout(120_000);
  let repo: string;
  let dists: string;
  let server: RunningServer;
  const requests: string[] = [];
  const local = new Map<string, string>(); // target path of a package -> the file the test wrote
  let client: TufClient;

  const addAll = async (...files: string[]) => {
    const r = expectOk(await tufpipRepo(['add', repo, '--json', ...files]), 'add');
    for (const f of (JSON.parse(r.stdout) as { files: { targetPath: string; filename: string }[] }).files) {
      local.set(f.targetPath, files.find((x) => path.basename(x) === f.filename)!);
    }
  };

  before(async () => {
    const base = tmpDir('tufpip-tufclient-');
    repo = path.join(base, 'repo');
    dists = path.join(base, 'dists');
    await makeRepo({ dir: repo, bins: 16 });
    await addAll(
      await writeWheel(dists, { name: 'alpha', version: '1.0', deps: ['beta'] }),
      await writeWheel(dists, { name: 'alpha', version: '1.1', deps: ['beta'] }),
      await writeWheel(dists, { name: 'beta', version: '1.0' }),
      await writeWheel(dists, { name: 'Gamma.Delta', version: '2.0' }),
      writeSdist(dists, 'beta', '1.0'),
    );
    await addAll(await writeWheel(dists, { name: 'big', version: '1.0', padding: 300_000 }), writeSdist(dists, 'epsilon', '0.1'));
    server = await serve(repo, (l) => requests.push(l));
  });

  after(async () => {
    await server?.close();
  });

  it('given only 1.root.json, downloads and verifies every target listed in the bins, by hash-prefixed URLs', async () => {
    const pub = readPublished(repo);
    const paths = [...pub.targets.keys()].sort();
    // Every package the test added and every simple page is a target, each in a bin.
    const expected = [...local.keys(), 'simple/index.html', ...['alpha', 'beta', 'gamma-delta', 'big', 'epsilon'].map((p) => `simple/${p}/index.html`)].sort();
    expect(paths).to.deep.equal(expected);
    for (const t of pub.targets.values()) expect(t.role).to.match(/^bin-[0-9a-f]$/);

    client = new TufClient(server.url, path.join(repo, 'site', 'metadata', '1.root.json'));
    expect(fs.readdirSync(client.metadataDir)).to.deep.equal(['root.json']);
    requests.length = 0;
    const view = await client.view(paths);
    expect(view.missing).to.deep.equal([]);
    expect(view.timestampVersion).to.equal(pub.timestampVersion);
    for (const p of paths) {
      expect(view.resolved.get(p), p).to.deep.equal({ length: pub.targets.get(p)!.length, sha256: pub.targets.get(p)!.sha256 });
      if (local.has(p)) expect(view.resolved.get(p)!.sha256, `${p} is the file that was added`).to.equal(sha256File(local.get(p)!));
    }

    // TUF spec 5.7.3 (consistent snapshots): each target was fetched as <dir>/<sha256>.<name>,
    // never by its plain name; metadata as N.<role>.json, except timestamp.json.
    const got = requests.filter((l) => / 200$/.test(l)).map((l) => l.split(' ')[1]);
    for (const p of paths) {
      const i = p.lastIndexOf('/');
      const hashed = `/${p.slice(0, i)}/${pub.targets.get(p)!.sha256}.${p.slice(i + 1)}`;
      expect(got, `fetched ${hashed}`).to.include(hashed);
      expect(got, `never fetched plain /${p}`).to.not.include(`/${p}`);
    }
    const metadataGets = got.filter((u) => u.startsWith('/metadata/'));
    expect(metadataGets).to.include('/metadata/timestamp.json');
    for (const u of metadataGets) expect(u).to.match(/^\/metadata\/(timestamp\.json|\d+\.[a-z0-9-]+\.json)$/);
    expect(metadataGets).to.include(`/metadata/${pub.snapshotVersion}.snapshot.json`);
    expect(metadataGets).to.include(`/metadata/${pub.roles.get('targets')}.targets.json`);
  });

  it('a client with the old cached metadata follows remove, more adds and bump --force', async () => {
    const before = readPublished(repo);
    expectOk(await tufpipRepo(['remove', repo, 'alpha', '--file', 'alpha-1.0-py3-none-any.whl']), 'remove --file');
    expectOk(await tufpipRepo(['remove', repo, 'epsilon']), 'remove project');
    await addAll(await writeWheel(dists, { name: 'alpha', version: '2.0' }), await writeWheel(dists, { name: 'zeta', version: '0.1' }));
    expectOk(await tufpipRepo(['bump', repo, '--force']), 'bump --force');
    await addAll(await writeWheel(dists, { name: 'beta', version: '1.1' }));
    const after = readPublished(repo);
    expect(after.timestampVersion).to.equal(before.timestampVersion + 5);
    expect(after.targets.has('packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal(false);
    expect(after.targets.has('simple/epsilon/index.html')).to.equal(false);

    // Same cache as the first test (it holds the old timestamp, snapshot, targets, bins...).
    expect(client.cachedVersions().timestampVersion).to.equal(before.timestampVersion);
    const gone = ['packages/alpha/alpha-1.0-py3-none-any.whl', 'packages/epsilon/epsilon-0.1.tar.gz', 'simple/epsilon/index.html'];
    const paths = [...after.targets.keys()];
    const view = await client.view([...paths, ...gone]);
    expect(view.timestampVersion).to.equal(after.timestampVersion);
    expect(view.snapshotVersion).to.equal(after.snapshotVersion);
    expect(view.missing.sort()).to.deep.equal([...gone].sort());
    for (const p of paths) expect(view.resolved.get(p), p).to.deep.equal({ length: after.targets.get(p)!.length, sha256: after.targets.get(p)!.sha256 });
    expect(view.resolved.get('packages/beta/beta-1.1-py3-none-any.whl')!.sha256).to.equal(sha256File(local.get('packages/beta/beta-1.1-py3-none-any.whl')!));

    // The project page the client verified no longer lists the removed file.
    const u = new Updater({ metadataDir: client.metadataDir, metadataBaseUrl: `${server.url}metadata/`, targetBaseUrl: server.url, targetDir: client.downloadDir });
    await u.refresh();
    const page = await u.getTargetInfo('simple/alpha/index.html');
    const file = await u.downloadTarget(page!, path.join(client.downloadDir, 'alpha.html'));
    const html = fs.readFileSync(file, 'utf8');
    expect(html).to.include('alpha-1.1-py3-none-any.whl').and.include('alpha-2.0-py3-none-any.whl').and.not.include('alpha-1.0-py3-none-any.whl');
  });

  it('a client that starts from 1.root.json after all that also verifies every target', async () => {
    const pub = readPublished(repo);
    const fresh = new TufClient(server.url, path.join(repo, 'site', 'metadata', '1.root.json'));
    const view = await fresh.view(pub.targets.keys());
    expect(view.missing).to.deep.equal([]);
    expect(view.resolved.size).to.equal(pub.targets.size);
  });
});
