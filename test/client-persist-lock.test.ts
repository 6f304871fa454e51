// Metadata persistence and the per-index lock (tuf-js 5.0.1 gaps): tuf-js writes metadata with
// writeFileSync straight to the final name, so a failure mid-write (crash, full disk) leaves a torn
// root.json that bricks the client; tufpip writes temp + fsync + rename. Two processes refreshing
// the same index directory take turns (proper-lockfile) and never corrupt it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { Updater } from 'tuf-js';
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { IndexClient, TrustStore } from '../client/index.js';
import { HttpFetcher } from '../tuf/fetcher.js';
import { TufFixture, newKey } from './helpers/tuf-fixture.js';
import { PROJECT_ROOT } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { preload, startCommand, type RunResult } from './helpers/cli.js';

/** Makes every fs.writeFileSync write half its data and then fail, like a crash or a full disk. */
function withTornWrites<T>(fn: () => Promise<T>): Promise<T> {
  const original = fs.writeFileSync;
  fs.writeFileSync = ((file: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    original(file, bytes.subarray(0, bytes.length >> 1));
    throw Object.assign(new Error('EIO: simulated failure in the middle of a write'), { code: 'EIO' });
  }) as typeof fs.writeFileSync;
  return fn().finally(() => {
    fs.writeFileSync = original;
  });
}

function rotateRoot(fx: TufFixture): void {
  const old = fx.rootKeys.splice(0);
  fx.rootKeys.push(newKey());
  fx.root = fx.makeRoot(fx.root.version + 1, fx.rootKeys);
  fx.rootSigners = [...old, ...fx.rootKeys];
  fx.writeRoot();
}

function node(args: string[]): Promise<RunResult> {
  return startCommand(process.execPath, args).done;
}

describe('client: atomic metadata persistence and the cross-process lock', () => {
  let fx: TufFixture;
  beforeEach(async () => {
    fx = new TufFixture();
    fx.addTarget('targets', 'files/a.txt', Buffer.from('a\n'));
    fx.publish();
    await fx.serve();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('stock tuf-js: a write that fails half-way leaves a torn root.json and the client cannot start again (the gap)', async () => {
    const dir = tmpDir();
    fs.copyFileSync(fx.rootFile(1), path.join(dir, 'root.json'));
    rotateRoot(fx);
    const u = new Updater({ metadataDir: dir, metadataBaseUrl: `${fx.url}metadata/`, fetcher: new HttpFetcher() });
    await withTornWrites(() => u.refresh()).catch(() => undefined);
    expect(() => new Updater({ metadataDir: dir, metadataBaseUrl: `${fx.url}metadata/` })).to.throw(SyntaxError);
  });

  it('tufpip: the same failure leaves the previous root.json intact, no temporary file, and the next refresh succeeds', async () => {
    const dataDir = tmpDir();
    const index = await new TrustStore(dataDir).add(fx.url, fs.readFileSync(fx.rootFile(1)));
    rotateRoot(fx);
    const c = await IndexClient.open({ indexUrl: fx.url, dataDir });
    const err = await withTornWrites(() => c.refresh()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect(fs.readFileSync(path.join(index.metadataDir, 'root.json'))).to.deep.equal(fs.readFileSync(fx.rootFile(1)));
    expect(fs.readdirSync(index.metadataDir)).to.deep.equal(['root.json']);
    await c.refresh();
    expect(JSON.parse(fs.readFileSync(path.join(index.metadataDir, 'root.json'), 'utf8')).signed.version).to.equal(2);
    await c.close();
  });

  it('a refresh waits while another process holds the index lock', async () => {
    const dataDir = tmpDir();
    const index = await new TrustStore(dataDir).add(fx.url, fs.readFileSync(fx.rootFile(1)));
    const release = await lockfile.lock(index.metadataDir, { realpath: false });
    fx.requests.length = 0;
    const child = startCommand(process.execPath, ['--import', preload('lock-probe'), path.join(PROJECT_ROOT, 'dist', 'test', 'helpers', 'refresh-loop.js'), dataDir, fx.url, '1', 'files/a.txt']);
    // The event: the child tried to take the lock and found it held (test/helpers/lock-probe.ts).
    await child.line(`lock-busy ${path.resolve(index.metadataDir)}.lock`);
    expect(fx.requests, 'no request while the lock is held').to.deep.equal([]);
    await release();
    const r = await child.done;
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(fx.requests.length).to.be.greaterThan(0);
  });

  it('two processes refreshing the same index in a loop while the index publishes (and rotates its root) both succeed', async () => {
    const dataDir = tmpDir();
    const index = await new TrustStore(dataDir).add(fx.url, fs.readFileSync(fx.rootFile(1)));
    const script = path.join(PROJECT_ROOT, 'dist', 'test', 'helpers', 'refresh-loop.js');
    const children = [node([script, dataDir, fx.url, '40', 'files/a.txt']), node([script, dataDir, fx.url, '40', 'files/a.txt'])];
    let done = false;
    void Promise.all(children).finally(() => (done = true));
    let publications = 0;
    while (!done) {
      fx.addTarget('targets', `files/n${publications}.txt`, Buffer.from(String(publications)));
      fx.bump('targets');
      // A root rotation on every publication: each refresh persists root.json, the file a torn
      // write breaks for good (without the fix this test fails within a few dozen rounds).
      rotateRoot(fx);
      fx.publish();
      publications++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const r of await Promise.all(children)) expect(r.code, r.stdout + r.stderr).to.equal(0);
    // What is left is whole, verifiable metadata, and no temporary file.
    for (const f of fs.readdirSync(index.metadataDir)) {
      expect(f).to.match(/^[a-z]+\.json$/);
      JSON.parse(fs.readFileSync(path.join(index.metadataDir, f), 'utf8'));
    }
    const c = await IndexClient.open({ indexUrl: fx.url, dataDir });
    await c.refresh();
    expect((await c.lookup('files/a.txt')).path).to.equal('files/a.txt');
    await c.close();
    expect(publications).to.be.greaterThan(0);
  });
});
