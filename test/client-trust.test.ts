// `tufpip trust add/list/remove` (the real CLI as a child process) and the trust store: one
// directory per index under the data directory (--data-dir, $TUFPIP_DATA_DIR, $XDG_DATA_HOME/tufpip),
// roots checked before they are stored, URLs normalised, root rotations followed and kept.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { IndexClient, TrustStore, type TrustedIndexStatus } from '../client/index.js';
import { defaultDataDir } from '../client/lib/data-dir.js';
import { TufFixture, newKey, signEnvelope } from './helpers/tuf-fixture.js';
import { tufpip, type RunResult } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

function ok(r: RunResult): RunResult {
  expect(r.code, `${r.stderr}\n${r.stdout}`).to.equal(0);
  return r;
}

async function list(dataDir: string): Promise<TrustedIndexStatus[]> {
  return JSON.parse(ok(await tufpip(['trust', 'list', '--json', '--data-dir', dataDir])).stdout) as TrustedIndexStatus[];
}

describe('client: tufpip trust and the trust store', () => {
  let fx: TufFixture;
  beforeEach(() => {
    fx = new TufFixture();
    fx.publish();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('adds an index (normalised URL, default name host:port), lists it, removes it', async () => {
    const dataDir = tmpDir();
    const add = ok(await tufpip(['trust', 'add', 'http://127.0.0.1:8080/sub', '--root', fx.rootFile(1), '--data-dir', dataDir, '--json']));
    const added = JSON.parse(add.stdout) as TrustedIndexStatus;
    expect(added).to.include({ name: '127.0.0.1:8080', url: 'http://127.0.0.1:8080/sub/', rootVersion: 1 });
    expect(added.dir).to.equal(path.join(dataDir, 'indexes', '127.0.0.1%3A8080'));
    expect(fs.readFileSync(path.join(added.metadataDir, 'root.json'))).to.deep.equal(fs.readFileSync(fx.rootFile(1)));
    const all = await list(dataDir);
    expect(all.map((i) => [i.name, i.url, i.rootVersion, i.rootHistory])).to.deep.equal([['127.0.0.1:8080', 'http://127.0.0.1:8080/sub/', 1, [1]]]);
    const text = ok(await tufpip(['trust', 'list', '--data-dir', dataDir])).stdout;
    expect(text).to.contain('127.0.0.1:8080  http://127.0.0.1:8080/sub/  root v1');
    ok(await tufpip(['trust', 'remove', '127.0.0.1:8080', '--data-dir', dataDir]));
    expect(await list(dataDir)).to.deep.equal([]);
    expect(fs.existsSync(added.dir)).to.equal(false);
  });

  it('takes the data directory from $TUFPIP_DATA_DIR, else $XDG_DATA_HOME/tufpip', async () => {
    const a = tmpDir();
    const x = tmpDir();
    ok(await tufpip(['trust', 'add', 'http://127.0.0.1:1/', '--root', fx.rootFile(1), '--name', 'viaenv'], { env: { ...process.env, TUFPIP_DATA_DIR: a } }));
    expect(fs.existsSync(path.join(a, 'indexes', 'viaenv', 'index.json'))).to.equal(true);
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: x };
    delete env.TUFPIP_DATA_DIR;
    ok(await tufpip(['trust', 'add', 'http://127.0.0.1:1/', '--root', fx.rootFile(1), '--name', 'viaxdg'], { env }));
    expect(fs.existsSync(path.join(x, 'tufpip', 'indexes', 'viaxdg', 'index.json'))).to.equal(true);
    expect(defaultDataDir({ HOME: '/home/u' })).to.equal('/home/u/.local/share/tufpip');
    expect(defaultDataDir({ HOME: '/home/u', XDG_DATA_HOME: 'relative' })).to.equal('/home/u/.local/share/tufpip');
  });

  // The roots, names and URLs `tufpip trust` refuses: test/client-bad-input.test.ts.
  it('trusts plain HTTP off loopback only with --allow-http', async () => {
    const dataDir = tmpDir();
    ok(await tufpip(['trust', 'add', 'http://pypi.example.org/', '--root', fx.rootFile(1), '--data-dir', dataDir, '--allow-http']));
    expect((await list(dataDir)).map((i) => i.url)).to.deep.equal(['http://pypi.example.org/']);
  });

  it('follows root rotations found on the server and keeps every root version (root history)', async () => {
    const dataDir = tmpDir();
    const url = await fx.serve();
    await new TrustStore(dataDir).add(url, fs.readFileSync(fx.rootFile(1)));
    // Rotate twice: each new root is signed by the previous root keys and its own.
    for (const version of [2, 3]) {
      const old = fx.rootKeys.splice(0);
      fx.rootKeys.push(newKey());
      fx.root = fx.makeRoot(version, fx.rootKeys);
      fx.rootSigners = [...old, ...fx.rootKeys];
      fx.writeRoot();
    }
    fx.publish();
    const c = await IndexClient.open({ indexUrl: url, dataDir });
    await c.refresh();
    await c.close();
    const [status] = await list(dataDir);
    expect(status.rootVersion).to.equal(3);
    expect(status.rootHistory).to.deep.equal([1, 2, 3]);
    for (const v of [1, 2, 3]) {
      expect(fs.readFileSync(path.join(status.rootsDir, `${v}.root.json`))).to.deep.equal(fs.readFileSync(fx.rootFile(v)));
    }
  });

  it('every command has --help', async () => {
    for (const args of [['--help'], ['trust', '--help'], ['trust', 'add', '--help'], ['trust', 'list', '--help'], ['trust', 'remove', '--help'],
      ['tuf', '--help'], ['tuf', 'init', '--help'], ['tuf', 'refresh', '--help'], ['tuf', 'download', '--help']]) {
      const r = ok(await tufpip(args));
      expect(r.stdout, args.join(' ')).to.contain('--help');
    }
  });
});
