// Issue 11 "Day one of real use": files are immutable, names and versions are checked (as PyPI).
// Real CLIs as child processes, real wheels and sdists, real pip in a real venv over loopback.
// - Filenames are forever: a withdrawn file is refused with other bytes after `remove` and after
//   `gc` (add, sync, add --signed), and its identical bytes restore it ("restored").
// - The record survives real SIGKILLs at exact points (test/helpers/kill-at.ts): a removal killed
//   before timestamp.json leaves the file published and the record true; one killed right after it
//   is published with its record; an add killed before timestamp.json records nothing, so the
//   corrected file is then published.
// - PEP 440: METADATA `1.0` in a `1.0.0` file is accepted; other tags under another spelling are
//   accepted; `remove --version 1.0` removes 1.0.0 and 1.0+local, and pip can no longer install
//   `==1.0` (it could before).
// - PEP 480 first release: `release sign --index` takes the registered keys and threshold; a key
//   outside them is an error naming them; a bundle short of the registered threshold is never
//   reported complete.
// (Each refusal's one-line message and unchanged repository: test/repo-bad-input.test.ts.)
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tufpipRepo, type RunResult } from './helpers/cli.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { freshVenv, pipEnv, type Venv } from './helpers/python.js';
import { startServeCli } from './helpers/serve-cli.js';
import { readPublished } from './helpers/tuf-client.js';
import { runRepoKillable, type KillOptions } from './helpers/faults.js';
import { wheelBytes, writeWheel } from './helpers/wheels.js';
import { wheelMembers, writeBytes, writeSdistAs, writeZip } from './helpers/bad-dists.js';
import { claim, maintainers } from './helpers/pep480-fixture.js';
import { loadRetired } from '../repo-tools/storage/retired-files.js';
import { RepoLayout } from '../repo-tools/storage/layout.js';
import { sha256File } from './helpers/hash.js';

const run = promisify(execFile);

async function newRepo(): Promise<{ base: string; repo: string }> {
  const base = tmpDir('tufpip-filenames-');
  const repo = path.join(base, 'repo');
  await makeRepo({ dir: repo, bins: 4 });
  return { base, repo };
}

const refusedWithOtherBytes = (r: RunResult, filename: string) => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(1);
  expect(r.stderr).to.include(`${filename} was published before with other content`);
  expect(r.stderr).to.include('a filename is never reused with other bytes');
};

const verifyOk = async (repo: string) => expectOk(await tufpipRepo(['verify', repo]), 'verify');

async function pip(venv: Venv, indexUrl: string, ...reqs: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run(venv.python, ['-m', 'pip', 'install', '--index-url', indexUrl, ...reqs], { env: pipEnv(), maxBuffer: 16 << 20 });
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('repo: filenames are forever, names and versions are checked (as PyPI)', function () {
  this.timeout(180_000);

  it('a withdrawn file: other bytes refused after remove and after gc (add and sync); the identical bytes restore it', async () => {
    const { base, repo } = await newRepo();
    const a = await writeWheel(path.join(base, 'a'), { name: 'ret', version: '1.0' });
    const b = await writeWheel(path.join(base, 'b'), { name: 'ret', version: '1.0', body: 'VERSION = "other bytes"\n' });
    const name = 'ret-1.0-py3-none-any.whl';
    const target = `packages/ret/${name}`;
    expect(sha256File(a)).to.not.equal(sha256File(b));
    expectOk(await tufpipRepo(['add', repo, a]), 'add');
    expectOk(await tufpipRepo(['remove', repo, 'ret', '--file', name]), 'remove');
    expect(readPublished(repo).targets.has(target)).to.equal(false);

    // The record: private state outside site/, 0600, naming the file and the bytes it had.
    const record = path.join(repo, 'retired-files');
    expect(fs.statSync(record).mode & 0o777).to.equal(0o600);
    expect([...(loadRetired(new RepoLayout(repo)).get(target) ?? [])]).to.deep.equal([sha256File(a)]);
    expect(fs.readdirSync(path.join(repo, 'site'))).to.not.include('retired-files');

    const ts = readPublished(repo).timestampVersion;
    refusedWithOtherBytes(await tufpipRepo(['add', repo, b]), name);
    refusedWithOtherBytes(await tufpipRepo(['sync', repo, path.join(base, 'b')]), name);
    expect(readPublished(repo).timestampVersion, 'nothing published').to.equal(ts);

    // gc deletes every copy of the withdrawn file; the record stays.
    expectOk(await tufpipRepo(['gc', repo, '--keep', '0s']), 'gc');
    expect(fs.existsSync(path.join(repo, 'site', 'packages', 'ret', `${sha256File(a)}.${name}`)), 'gc removed the hash-named copy').to.equal(false);
    refusedWithOtherBytes(await tufpipRepo(['add', repo, b]), name);

    // Honest control: the identical bytes come back, and say so.
    const r = expectOk(await tufpipRepo(['add', repo, a]), 'add the identical bytes');
    expect(r.stdout).to.match(new RegExp(`restored +${target.replace(/\./g, '\\.')} +sha256:${sha256File(a)} +\\(withdrawn before; identical bytes restored\\)`));
    expect(readPublished(repo).targets.get(target)?.sha256).to.equal(sha256File(a));
    expect(fs.readFileSync(path.join(repo, 'site', 'packages', 'ret', name)).equals(fs.readFileSync(a))).to.equal(true);
    await verifyOk(repo);
    // A sync of the identical bytes after another removal restores too, and reports it.
    expectOk(await tufpipRepo(['remove', repo, 'ret', '--version', '1.0']), 'remove again');
    const s = expectOk(await tufpipRepo(['sync', repo, path.join(base, 'a')]), 'sync');
    expect(s.stdout).to.include('0 added, 1 restored (identical bytes of withdrawn files), 0 unchanged');
  });

  it('the record after a torn line (an append cut by a crash): the next entry starts on its own line and counts', async () => {
    const { base, repo } = await newRepo();
    const a = await writeWheel(path.join(base, 'a'), { name: 'torn', version: '1.0' });
    const b = await writeWheel(path.join(base, 'b'), { name: 'torn', version: '1.0', body: 'VERSION = "b"\n' });
    expectOk(await tufpipRepo(['add', repo, a]), 'add');
    fs.writeFileSync(path.join(repo, 'retired-files'), '{"path":"packages/x/x-1.0.tar.gz","sha', { mode: 0o600 });
    expectOk(await tufpipRepo(['remove', repo, 'torn', '--file', 'torn-1.0-py3-none-any.whl']), 'remove');
    expect([...(loadRetired(new RepoLayout(repo)).get('packages/torn/torn-1.0-py3-none-any.whl') ?? [])]).to.deep.equal([sha256File(a)]);
    refusedWithOtherBytes(await tufpipRepo(['add', repo, b]), 'torn-1.0-py3-none-any.whl');
  });

  it('add --signed (PEP 480) refuses a withdrawn filename with other bytes, and publishes the identical bytes', async () => {
    const { base, repo } = await newRepo();
    const a = await writeWheel(path.join(base, 'a'), { name: 'gamma', version: '1.0' });
    const b = await writeWheel(path.join(base, 'b'), { name: 'gamma', version: '1.0', body: 'VERSION = "maintainers rebuilt it"\n' });
    expectOk(await tufpipRepo(['add', repo, a]), 'add (index-signed, before the claim)');
    expectOk(await tufpipRepo(['remove', repo, 'gamma', '--file', 'gamma-1.0-py3-none-any.whl']), 'remove');
    const [m1] = await maintainers(['m1']);
    expectOk(await claim(repo, 'gamma', [m1], 1), 'claim');
    const sign = (file: string, out: string) =>
      tufpipRepo(['release', 'sign', file, '--project', 'gamma', '--key', m1.pem, '--out', out, '--maintainer-key', m1.pub, '--threshold', '1']);
    const bad = path.join(base, 'bad.release.json');
    expectOk(await sign(b, bad), 'release sign (other bytes)');
    refusedWithOtherBytes(await tufpipRepo(['add', repo, '--signed', bad, b]), 'gamma-1.0-py3-none-any.whl');
    const good = path.join(base, 'good.release.json');
    expectOk(await sign(a, good), 'release sign (identical bytes)');
    expectOk(await tufpipRepo(['add', repo, '--signed', good, a]), 'add --signed');
    expect(readPublished(repo).targets.get('packages/gamma/gamma-1.0-py3-none-any.whl')).to.include({ sha256: sha256File(a), role: 'project-gamma--1.0' });
    await verifyOk(repo);
  });

  it('a takedown (PEP 480) records the maintainers\' files: re-established, the name comes back only with its bytes', async () => {
    const { base, repo } = await newRepo();
    const [m1] = await maintainers(['m1']);
    expectOk(await claim(repo, 'zeta', [m1], 1), 'claim');
    const a = await writeWheel(path.join(base, 'a'), { name: 'zeta', version: '1.0' });
    const b = await writeWheel(path.join(base, 'b'), { name: 'zeta', version: '1.0', body: 'VERSION = "other"\n' });
    const sign = async (file: string, out: string, extra: string[] = []) => {
      const copy = path.join(tmpDir('tufpip-md-'), 'metadata');
      fs.cpSync(path.join(repo, 'site', 'metadata'), copy, { recursive: true });
      return tufpipRepo(['release', 'sign', file, '--project', 'zeta', '--key', m1.pem, '--out', out, '--from', copy, ...extra]);
    };
    const first = path.join(base, 'first.release.json');
    expectOk(await sign(a, first), 'release sign');
    expectOk(await tufpipRepo(['add', repo, '--signed', first, a]), 'add --signed');
    expectOk(await tufpipRepo(['takedown', repo, 'zeta', '--offline-key', path.join(repo, 'keys', 'claimed.pem')]), 'takedown');
    const target = 'packages/zeta/zeta-1.0-py3-none-any.whl';
    expect([...(loadRetired(new RepoLayout(repo)).get(target) ?? [])]).to.deep.equal([sha256File(a)]);
    expectOk(await claim(repo, 'zeta', [m1], 1), 'claim again');
    const other = path.join(base, 'other.release.json');
    expectOk(await sign(b, other, ['--fresh']), 'release sign --fresh (other bytes)');
    refusedWithOtherBytes(await tufpipRepo(['add', repo, '--signed', other, b]), 'zeta-1.0-py3-none-any.whl');
  });

  describe('the record under real SIGKILLs', () => {
    const killed = (args: string[], killAt: KillOptions['killAt']) => runRepoKillable(args, { env: { ...process.env, TUFPIP_LOCK_STALE_MS: '2000' }, killAt });

    it('remove killed after the record, before timestamp.json: still published, the record true, other bytes refused, the next remove completes', async () => {
      const { base, repo } = await newRepo();
      const a = await writeWheel(path.join(base, 'a'), { name: 'kr', version: '1.0' });
      const b = await writeWheel(path.join(base, 'b'), { name: 'kr', version: '1.0', body: 'VERSION = "b"\n' });
      const target = 'packages/kr/kr-1.0-py3-none-any.whl';
      expectOk(await tufpipRepo(['add', repo, a]), 'add');
      const ts = readPublished(repo).timestampVersion;
      const r = await killed(['remove', repo, 'kr', '--file', 'kr-1.0-py3-none-any.whl'], { beforeAppend: 'journal' });
      expect(r.signal, `${r.stdout}\n${r.stderr}`).to.equal('SIGKILL');
      expect(readPublished(repo).timestampVersion, 'the removal was not published').to.equal(ts);
      expect(readPublished(repo).targets.get(target)?.sha256).to.equal(sha256File(a));
      // The record names the bytes the file is in fact published with: it blocks nothing honest.
      expect([...(loadRetired(new RepoLayout(repo)).get(target) ?? [])]).to.deep.equal([sha256File(a)]);
      await verifyOk(repo);
      const again = expectOk(await tufpipRepo(['add', repo, a, '--json']), 'the same bytes again');
      expect((JSON.parse(again.stdout) as { files: { status: string }[] }).files[0].status).to.equal('unchanged');
      expect((await tufpipRepo(['add', repo, b])).code).to.equal(1);
      expectOk(await tufpipRepo(['remove', repo, 'kr', '--file', 'kr-1.0-py3-none-any.whl']), 'remove');
      refusedWithOtherBytes(await tufpipRepo(['add', repo, b]), 'kr-1.0-py3-none-any.whl');
    });

    it('remove killed right after timestamp.json is replaced: the removal is published and its record is already there', async () => {
      const { base, repo } = await newRepo();
      const a = await writeWheel(path.join(base, 'a'), { name: 'kt', version: '1.0' });
      const b = await writeWheel(path.join(base, 'b'), { name: 'kt', version: '1.0', body: 'VERSION = "b"\n' });
      const target = 'packages/kt/kt-1.0-py3-none-any.whl';
      expectOk(await tufpipRepo(['add', repo, a]), 'add');
      const ts = readPublished(repo).timestampVersion;
      const r = await killed(['remove', repo, 'kt', '--file', 'kt-1.0-py3-none-any.whl'], { afterRename: 'timestamp.json' });
      expect(r.signal, `${r.stdout}\n${r.stderr}`).to.equal('SIGKILL');
      expect(readPublished(repo).timestampVersion, 'the removal was published').to.equal(ts + 1);
      expect(readPublished(repo).targets.has(target)).to.equal(false);
      expect([...(loadRetired(new RepoLayout(repo)).get(target) ?? [])]).to.deep.equal([sha256File(a)]);
      // The next command finishes the transaction (journal), then refuses the other bytes.
      refusedWithOtherBytes(await tufpipRepo(['add', repo, b]), 'kt-1.0-py3-none-any.whl');
      await verifyOk(repo);
    });

    it('add killed before timestamp.json records nothing: the corrected file (other bytes) is then published', async () => {
      const { base, repo } = await newRepo();
      const a = await writeWheel(path.join(base, 'a'), { name: 'ka', version: '1.0' });
      const b = await writeWheel(path.join(base, 'b'), { name: 'ka', version: '1.0', body: 'VERSION = "corrected"\n' });
      const ts = readPublished(repo).timestampVersion;
      const r = await killed(['add', repo, a], { beforeAppend: 'journal' });
      expect(r.signal, `${r.stdout}\n${r.stderr}`).to.equal('SIGKILL');
      expect(readPublished(repo).timestampVersion).to.equal(ts);
      expect(fs.existsSync(path.join(repo, 'retired-files'))).to.equal(false);
      expectOk(await tufpipRepo(['add', repo, b]), 'add the corrected file');
      expect(readPublished(repo).targets.get('packages/ka/ka-1.0-py3-none-any.whl')?.sha256).to.equal(sha256File(b));
      await verifyOk(repo);
    });
  });

  it('names and versions compare normalized: METADATA 1.0 in a 1.0.0 file, another project spelling in PKG-INFO, other tags under another spelling', async () => {
    const { base, repo } = await newRepo();
    const files = [
      await writeZip(path.join(base, 'in'), 'norm-1.0.0-py3-none-any.whl', wheelMembers('norm', '1.0.0', 'Norm', '1.0')),
      writeSdistAs(path.join(base, 'in'), 'Foo_Bar-1.0.tar.gz', { top: 'Foo_Bar-1.0', name: 'foo.bar', version: '1.0.0' }),
      await writeWheel(path.join(base, 'in'), { name: 'tags', version: '1.0' }),
      writeBytes(path.join(base, 'in'), 'tags-1.0.0-cp311-cp311-linux_x86_64.whl', await wheelBytes({ name: 'tags', version: '1.0.0' })),
    ];
    expectOk(await tufpipRepo(['add', repo, ...files]), 'add');
    const published = readPublished(repo).targets;
    for (const t of ['packages/norm/norm-1.0.0-py3-none-any.whl', 'packages/foo-bar/Foo_Bar-1.0.tar.gz', 'packages/tags/tags-1.0-py3-none-any.whl', 'packages/tags/tags-1.0.0-cp311-cp311-linux_x86_64.whl']) {
      expect(published.has(t), t).to.equal(true);
    }
    // The same tags under the other spelling are one distribution twice (the refusal).
    const dup = writeBytes(path.join(base, 'dup'), 'tags-1.0.0-py3-none-any.whl', await wheelBytes({ name: 'tags', version: '1.0.0' }));
    const r = await tufpipRepo(['add', repo, dup]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('tags-1.0.0-py3-none-any.whl and tags-1.0-py3-none-any.whl are the same wheel (both for py3-none-any) of tags: version 1.0.0 == 1.0 (PEP 440)');
  });

  it('remove --version 1.0 removes 1.0.0 and 1.0+local (==1.0 selects them); real pip installs ==1.0 before and not after', async () => {
    const { base, repo } = await newRepo();
    const dists = path.join(base, 'dists');
    for (const version of ['1.0.0', '1.0+cpu', '1.0.post1', '1.1']) await writeWheel(dists, { name: 'rv', version });
    expectOk(await tufpipRepo(['sync', repo, dists]), 'sync');
    const server = await startServeCli(repo);
    try {
      const index = `${server.url}simple/`;
      const before = freshVenv();
      const ok = await pip(before, index, 'rv==1.0');
      expect(ok.ok, ok.out).to.equal(true);
      expect(before.run('import rv; print(rv.VERSION)').trim()).to.be.oneOf(['1.0.0', '1.0+cpu']);

      const r = expectOk(await tufpipRepo(['remove', repo, 'rv', '--version', '1.0', '--json']), 'remove --version 1.0');
      expect((JSON.parse(r.stdout) as { removed: string[] }).removed.sort()).to.deep.equal(['rv-1.0+cpu-py3-none-any.whl', 'rv-1.0.0-py3-none-any.whl']);
      expect([...readPublished(repo).targets.keys()].filter((t) => t.startsWith('packages/rv/')).sort()).to.deep.equal([
        'packages/rv/rv-1.0.post1-py3-none-any.whl',
        'packages/rv/rv-1.1-py3-none-any.whl',
      ]);

      const after = freshVenv();
      const refused = await pip(after, index, 'rv==1.0');
      expect(refused.ok, refused.out).to.equal(false);
      expect(refused.out).to.match(/No matching distribution found for rv==1\.0/);
      expect(after.installed()).to.not.include('rv');
      const latest = await pip(after, index, 'rv');
      expect(latest.ok, latest.out).to.equal(true);
      expect(after.run('import rv; print(rv.VERSION)').trim()).to.equal('1.1');
    } finally {
      expect(await server.stop()).to.equal(0);
    }
    await verifyOk(repo);
  });

  describe('PEP 480 first release: the keys and threshold the index registered', () => {
    it('release sign --index takes them from the verified delegation; a key outside them is named; a short bundle is never complete', async () => {
      const { base, repo } = await newRepo();
      const [m1, m2, m3, stranger] = await maintainers(['m1', 'm2', 'm3', 'stranger']);
      expectOk(await claim(repo, 'delta', [m1, m2, m3], 2), 'claim delta 2 of 3');
      const file = await writeWheel(path.join(base, 'in'), { name: 'delta', version: '1.0' });
      const server = await startServeCli(repo);
      try {
        const out = path.join(base, 'delta.release.json');
        const root = path.join(repo, 'site', 'metadata', '1.root.json');
        // A key the index did not register: refused, naming the registered keys and threshold.
        const r = await tufpipRepo(['release', 'sign', file, '--project', 'delta', '--key', stranger.pem, '--out', out, '--index', server.url, '--root', root]);
        expect(r.code).to.equal(1);
        const short = (k: string) => k.slice(0, 8);
        expect(r.stderr).to.include(`your key ${short(stranger.keyid)} is not one of the maintainer keys the index registered for delta (claimed: 2 of `);
        for (const m of [m1, m2, m3]) expect(r.stderr).to.include(short(m.keyid));
        expect(fs.existsSync(out)).to.equal(false);

        // Declaring fewer keys or a lower threshold than registered: refused before anything is signed.
        const low = await tufpipRepo(['release', 'sign', file, '--project', 'delta', '--key', m1.pem, '--out', out, '--index', server.url, '--maintainer-key', m1.pub, '--threshold', '1']);
        expect(low.code).to.equal(2);
        expect(low.stderr).to.match(/the index registered 2 of .* for delta; this release would declare 1 of /);

        // Honest path: no --maintainer-key, no --threshold: both from the index.
        const s = expectOk(await tufpipRepo(['release', 'sign', file, '--project', 'delta', '--key', m1.pem, '--out', out, '--index', server.url, '--json']), 'release sign --index');
        const status = JSON.parse(s.stdout) as { role: string; threshold: number; keyids: string[]; complete: boolean }[];
        expect(status.map((x) => x.role).sort()).to.deep.equal(['project-delta', 'project-delta--1.0']);
        for (const x of status) expect(x, x.role).to.include({ threshold: 2, complete: false });
        expect(status.find((x) => x.role === 'project-delta')!.keyids.sort()).to.deep.equal([m1.keyid, m2.keyid, m3.keyid].sort());
        const st1 = JSON.parse(expectOk(await tufpipRepo(['release', 'status', out, '--json'])).stdout) as { complete: boolean }[];
        expect(st1.every((x) => !x.complete), 'one of two signatures: not complete').to.equal(true);
        // Publishing it now is refused by the index (the same threshold).
        expect((await tufpipRepo(['add', repo, '--signed', out, file])).code).to.equal(1);

        expectOk(await tufpipRepo(['release', 'sign', '--add-signature', out, '--key', m2.pem]), 'm2 signs');
        const st2 = JSON.parse(expectOk(await tufpipRepo(['release', 'status', out, '--json', '--index', server.url])).stdout) as { complete: boolean }[];
        expect(st2.every((x) => x.complete)).to.equal(true);
        expectOk(await tufpipRepo(['add', repo, '--signed', out, file]), 'add --signed');
        expect(readPublished(repo).targets.get('packages/delta/delta-1.0-py3-none-any.whl')?.role).to.equal('project-delta--1.0');
      } finally {
        expect(await server.stop()).to.equal(0);
      }
      await verifyOk(repo);
    });

    it('--from a copy of the metadata folder works the same; a tampered claimed role is refused, not believed', async () => {
      const { base, repo } = await newRepo();
      const [m1, m2] = await maintainers(['m1', 'm2']);
      expectOk(await claim(repo, 'eps', [m1, m2], 1), 'claim eps 1 of 2');
      const file = await writeWheel(path.join(base, 'in'), { name: 'eps', version: '1.0' });
      const copy = path.join(base, 'metadata-copy');
      fs.cpSync(path.join(repo, 'site', 'metadata'), copy, { recursive: true });
      const out = path.join(base, 'eps.release.json');
      const s = expectOk(await tufpipRepo(['release', 'sign', file, '--project', 'eps', '--key', m2.pem, '--out', out, '--from', copy, '--json']), 'release sign --from');
      expect((JSON.parse(s.stdout) as { complete: boolean; threshold: number }[]).every((x) => x.complete && x.threshold === 1)).to.equal(true);
      expectOk(await tufpipRepo(['add', repo, '--signed', out, file]), 'add --signed');

      // An attacker's key slipped into the copy's claimed role (signature no longer valid).
      const tampered = path.join(base, 'tampered');
      fs.cpSync(path.join(repo, 'site', 'metadata'), tampered, { recursive: true });
      const claimedFile = fs.readdirSync(tampered).filter((f) => /^\d+\.claimed\.json$/.test(f)).sort((x, y) => parseInt(y) - parseInt(x))[0];
      const md = JSON.parse(fs.readFileSync(path.join(tampered, claimedFile), 'utf8'));
      const [evil] = await maintainers(['evil']);
      const evilKey = JSON.parse(fs.readFileSync(evil.pub, 'utf8'));
      md.signed.delegations.keys[evil.keyid] = evilKey;
      const d = md.signed.delegations.roles.find((x: { name: string }) => x.name === 'project-eps');
      d.keyids.push(evil.keyid);
      fs.writeFileSync(path.join(tampered, claimedFile), JSON.stringify(md));
      const r = await tufpipRepo(['release', 'sign', file, '--project', 'eps', '--key', evil.pem, '--out', path.join(base, 'evil.json'), '--from', tampered]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/does not verify at (claimed|snapshot).*refusing to take the maintainer keys from it/);
    });
  });
});
