// The whole object-storage path as users run it: an index in a bucket on Ceph's S3 gateway,
// nginx from Debian as the CDN in front of the bucket's public URL (scripts/cdn-nginx.sh), and
// `tufpip install` into a real venv through the CDN. Each object carries its Cache-Control from
// the bucket (metadata/cache-policy.ts), which the CDN follows; a new release is seen through it
// once timestamp.json's max-age (2 s here, config.json cache.headMaxAge) has passed.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { startCdn, type Cdn } from './helpers/nginx.js';
import { freshVenv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { STANDARD_WHEELS } from './helpers/trusted-index.js';
import { writeWheel } from './helpers/wheels.js';
import { makePublic, newBucket, s3Env, s3Gateway, s3InitArgs, useS3Gateway } from './helpers/s3-gateway.js';

useS3Gateway();

const timestampVersionOf = (text: string) => (JSON.parse(text) as { signed: { version: number } }).signed.version;

describe('S3 backend behind a CDN (nginx in front of the bucket)', function () {
  this.timeout(600_000);
  let cdn: Cdn | undefined;

  after(async () => {
    await cdn?.stop();
  });

  it('tufpip install through the CDN; immutable objects are cache hits; a new release is seen once timestamp.json max-age passed', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'ix/');
    const env = await s3Env();
    const base = tmpDir('tufpip-s3cdn-');
    const dir = path.join(base, 'local');
    expectOk(await tufpipRepo(['init', dir, '--bins', '16', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init');
    const configFile = path.join(dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), cache: { headMaxAge: 2 } }, null, 2));
    const files: string[] = [];
    for (const w of STANDARD_WHEELS) files.push(await writeWheel(path.join(base, 'w'), w));
    expectOk(await tufpipRepo(['add', dir, ...files], { env }), 'add');

    cdn = await startCdn(`${(await s3Gateway()).endpoint}/${bucket}/ix/`);
    const ts = await fetch(`${cdn.url}metadata/timestamp.json`);
    const tsText = await ts.text();
    expect(ts.status).to.equal(200);
    expect(ts.headers.get('cache-control')).to.equal('public, max-age=2');
    const snapshotVersion = (JSON.parse(tsText) as { signed: { meta: Record<string, { version: number }> } }).signed.meta['snapshot.json'].version;
    for (const expected of ['MISS', 'HIT']) {
      const snap = await fetch(`${cdn.url}metadata/${snapshotVersion}.snapshot.json`);
      await snap.arrayBuffer();
      expect(snap.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
      expect(snap.headers.get('x-cache-status')).to.equal(expected);
    }

    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    const run = (args: string[]) => tufpip(['--data-dir', dataDir, ...args]);
    expectOk(await run(['trust', 'add', cdn.url, '--root', path.join(dir, '1.root.json')]), 'trust add (CDN URL)');
    const venv = freshVenv();
    expectOk(await run(['install', 'alpha', '--python', venv.python]), 'install through the CDN');
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    expect(venv.run('import importlib.metadata as m; print(m.version("beta"))').trim()).to.equal('1.1');

    // A new release, published to the bucket: through the CDN once timestamp.json expired there.
    const before = timestampVersionOf(tsText);
    expectOk(await tufpipRepo(['add', dir, await writeWheel(path.join(base, 'w'), { name: 'beta', version: '1.2' })], { env }), 'add beta 1.2');
    const end = Date.now() + 60_000;
    for (;;) {
      const now = timestampVersionOf(await (await fetch(`${cdn.url}metadata/timestamp.json`)).text());
      if (now > before) break;
      if (Date.now() > end) throw new Error('the CDN never served the new timestamp.json');
      await new Promise((r) => setTimeout(r, 200));
    }
    const venv2 = freshVenv();
    expectOk(await run(['install', 'beta', '--python', venv2.python]), 'install of the new release through the CDN');
    expect(venv2.run('import importlib.metadata as m; print(m.version("beta"))').trim()).to.equal('1.2');
  });
});
