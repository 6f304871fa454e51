// nginx from Debian as the CDN (scripts/cdn-nginx.sh) in front of the real `tufpip-repo serve`:
// the CDN follows the origin's Cache-Control (metadata/cache-policy.ts), `tufpip install` into a
// real venv works through it, and a new release is seen through it once timestamp.json's max-age
// (a short one here: --timestamp-max-age 2) has passed.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { startCdn, type Cdn } from './helpers/nginx.js';
import { freshVenv } from './helpers/python.js';
import { expectOk, makeRepo, type TestRepo } from './helpers/repo.js';
import { startServeCli, type ServeProcess } from './helpers/serve-cli.js';
import { tmpDir } from './helpers/tmp.js';
import { STANDARD_WHEELS } from './helpers/trusted-index.js';
import { writeWheel } from './helpers/wheels.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Polls `probe` until it returns a value (a poll, not a sleep: bounded only on failure). */
async function pollFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const timestampVersionOf = (text: string) => (JSON.parse(text) as { signed: { version: number } }).signed.version;

describe('CDN: nginx (Debian) caching in front of tufpip-repo serve', function () {
  this.timeout(600_000);
  let repo: TestRepo;
  let origin: ServeProcess | undefined;
  let cdn: Cdn | undefined;

  before(async () => {
    repo = await makeRepo({ wheels: STANDARD_WHEELS });
    origin = await startServeCli(repo.dir, 20_000, ['--timestamp-max-age', '2']);
    cdn = await startCdn(origin.url);
  });

  after(async () => {
    await cdn?.stop();
    await origin?.stop();
  });

  it('passes each class its Cache-Control, serves immutable objects from its cache, never caches a 404', async () => {
    const ts = await fetch(`${cdn!.url}metadata/timestamp.json`);
    expect(ts.status).to.equal(200);
    expect(ts.headers.get('cache-control')).to.equal('public, max-age=2');
    const snapshotVersion = (JSON.parse(await ts.text()) as { signed: { meta: Record<string, { version: number }> } }).signed.meta['snapshot.json'].version;
    const snapUrl = `${cdn!.url}metadata/${snapshotVersion}.snapshot.json`;
    const first = await fetch(snapUrl);
    await first.arrayBuffer();
    expect(first.headers.get('cache-control')).to.equal(IMMUTABLE);
    const second = await fetch(snapUrl);
    await second.arrayBuffer();
    expect(second.headers.get('x-cache-status'), 'the second request is answered from the CDN cache').to.equal('HIT');
    // The next root version a client probes for (TUF spec 5.3.3): a 404 that must not stick.
    for (let i = 0; i < 2; i++) {
      const miss = await fetch(`${cdn!.url}metadata/999.root.json`);
      await miss.arrayBuffer();
      expect(miss.status).to.equal(404);
      expect(miss.headers.get('cache-control')).to.equal('no-store');
      expect(miss.headers.get('x-cache-status'), '404s are not cached').to.not.equal('HIT');
    }
    // Plain-named page: mutable, the short page max-age (default 60 s).
    const page = await fetch(`${cdn!.url}simple/alpha/`);
    await page.arrayBuffer();
    expect(page.headers.get('cache-control')).to.equal('public, max-age=60');
  });

  it('tufpip install through the CDN; a new release and bump are seen through it once timestamp.json max-age passes', async () => {
    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    const run = (args: string[]) => tufpip(['--data-dir', dataDir, ...args]);
    expectOk(await run(['trust', 'add', cdn!.url, '--root', repo.root1]), 'trust add (CDN URL)');
    const venv = freshVenv();
    expectOk(await run(['install', 'alpha', '--python', venv.python]), 'tufpip install through the CDN');
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    const cachedTs = await fetch(`${cdn!.url}metadata/timestamp.json`);
    const before = timestampVersionOf(await cachedTs.text());

    // A new release, then the cron job's bump (forced: it re-signs the online roles too).
    const gamma = await writeWheel(tmpDir('tufpip-wheels-'), { name: 'gamma', version: '1.0' });
    expectOk(await tufpipRepo(['add', repo.dir, gamma]), 'add gamma');
    expectOk(await tufpipRepo(['bump', repo.dir, '--force']), 'bump');
    const published = timestampVersionOf(fs.readFileSync(path.join(repo.dir, 'site', 'metadata', 'timestamp.json'), 'utf8'));
    expect(published).to.be.greaterThan(before);

    // The CDN answers with the new timestamp once the cached one's max-age has passed.
    const seen = await pollFor(async () => {
      const r = await fetch(`${cdn!.url}metadata/timestamp.json`);
      const v = timestampVersionOf(await r.text());
      return v === published ? v : undefined;
    }, `the CDN to serve timestamp version ${published}`);
    expect(seen).to.equal(published);
    expectOk(await run(['install', 'gamma', '--python', venv.python]), 'install the new release through the CDN');
    expect(venv.installed()).to.include('gamma');
    // The CDN did its job: some requests of the installs were answered from its cache.
    expect(fs.readFileSync(path.join(cdn!.dir, 'access.log'), 'utf8')).to.match(/ 200 HIT$/m);
  });
});
