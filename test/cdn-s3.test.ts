// nginx (Debian; scripts/cdn-nginx.sh) as the CDN in front of a repository in a bucket (Ceph's S3
// gateway): the bucket's objects carry the Cache-Control of their class (storage/s3.ts), the CDN
// follows it, `tufpip install` into a real venv reads through it, and a new release is seen
// through it once timestamp.json's max-age (config.json cache.headMaxAge: 2 s here) has passed.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import path from 'node:path';
import { expect } from 'chai';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { startCdn, type Cdn } from './helpers/nginx.js';
import { freshVenv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { jsonOf } from './helpers/trusted-index.js';
import { writeWheel } from './helpers/wheels.js';
import { makePublic, newBucket, s3Env, s3Gateway, s3InitArgs, useS3Gateway } from './helpers/s3-gateway.js';

useS3Gateway();

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const versionOf = (text: string) => (JSON.parse(text) as { signed: { version: number } }).signed.version;

describe('CDN: nginx in front of a bucket on the S3 gateway', function () {
  this.timeout(600_000);
  let cdn: Cdn | undefined;

  after(async () => {
    await cdn?.stop();
  });

  it('tufpip install through the CDN; immutable objects from its cache; a new release seen once the timestamp max-age passes', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'ix/');
    const env = await s3Env();
    const gw = await s3Gateway();
    const base = tmpDir('tufpip-cdn-s3-');
    const dir = path.join(base, 'local');
    const init = jsonOf<{ root: string }>(expectOk(await tufpipRepo(['init', dir, '--bins', '16', '--json', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init'));
    const configFile = path.join(dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), cache: { headMaxAge: 2, mutableMaxAge: 2 } }));
    const wheels = path.join(base, 'wheels');
    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'alpha', version: '1.0' })], { env }), 'add alpha');

    cdn = await startCdn(`${gw.endpoint}/${bucket}/ix/`);
    const ts = await fetch(`${cdn.url}metadata/timestamp.json`);
    const before = versionOf(await ts.text());
    expect(ts.headers.get('cache-control')).to.equal('public, max-age=2');
    const rootUrl = `${cdn.url}metadata/1.root.json`;
    for (let i = 0; i < 2; i++) {
      const r = await fetch(rootUrl);
      await r.arrayBuffer();
      expect(r.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
      if (i === 1) expect(r.headers.get('x-cache-status'), 'the second request is answered from the CDN cache').to.equal('HIT');
    }

    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    const run = (args: string[]) => tufpip(['--data-dir', dataDir, ...args]);
    expectOk(await run(['trust', 'add', cdn.url, '--root', init.root]), 'trust add (CDN URL)');
    const venv = freshVenv();
    expectOk(await run(['install', 'alpha', '--python', venv.python]), 'install through the CDN');
    expect(venv.installed()).to.include('alpha');

    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'gamma', version: '1.0' })], { env }), 'add gamma');
    const published = versionOf((await (await fetch(`${gw.endpoint}/${bucket}/ix/metadata/timestamp.json`)).text()));
    expect(published).to.be.greaterThan(before);
    // Poll the CDN (bounded only on failure) until the cached timestamp has expired and it refetched.
    const end = Date.now() + 60_000;
    for (;;) {
      const v = versionOf(await (await fetch(`${cdn.url}metadata/timestamp.json`)).text());
      if (v === published) break;
      if (Date.now() > end) expect.fail(`the CDN still serves timestamp version ${v}, not ${published}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expectOk(await run(['install', 'gamma', '--python', venv.python]), 'install the new release through the CDN');
    expect(venv.installed()).to.include('gamma');
  });

  it('init --plain-names: plain pip installs through the CDN (folder URLs fetched as index.html), verify checks the plain names, remove deletes them', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'pp/');
    const env = await s3Env();
    const gw = await s3Gateway();
    const base = tmpDir('tufpip-cdn-plain-');
    const dir = path.join(base, 'local');
    expectOk(await tufpipRepo(['init', dir, '--bins', '16', '--plain-names', ...(await s3InitArgs(bucket, 'pp/'))], { env }), 'init --plain-names');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).storage.plainNames).to.equal(true);
    const wheels = path.join(base, 'wheels');
    const alpha = await writeWheel(wheels, { name: 'alpha', version: '1.0', deps: ['beta'] });
    const beta = await writeWheel(wheels, { name: 'beta', version: '1.0' });
    expectOk(await tufpipRepo(['add', dir, alpha, beta], { env }), 'add');
    const { client } = await s3Gateway();
    const plainKey = 'pp/packages/beta/beta-1.0-py3-none-any.whl';
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: plainKey }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).to.equal(sha256(fs.readFileSync(beta)));
    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify with plain names');
    // The plain pages are copied after the commit: timestamp.json names a journal object in the
    // private prefix (recovery finishes exactly that publication), closed once they are written.
    const journalKey = (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'pp/metadata/timestamp.json' }))).Metadata?.['tufpip-journal'];
    expect(journalKey).to.match(/^pp-private\/journal\//);
    const entry = await client.send(new GetObjectCommand({ Bucket: bucket, Key: journalKey! }));
    expect(JSON.parse(await entry.Body!.transformToString())).to.include({ state: 'done' });

    // Plain pip, no tufpip: the PEP 503 pages and files by their plain names, through the CDN.
    const plainCdn = await startCdn(`${gw.endpoint}/${bucket}/pp/`);
    try {
      const venv = freshVenv();
      const pip = spawnSync(venv.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-cache-dir', '--index-url', `${plainCdn.url}simple/`, 'alpha'], { encoding: 'utf8' });
      expect(pip.status, `plain pip through the CDN:\n${pip.stdout}\n${pip.stderr}`).to.equal(0);
      expect(venv.installed()).to.include.members(['alpha', 'beta']);
    } finally {
      await plainCdn.stop();
    }

    // verify checks what plain pip gets: other bytes under a plain name fire, the honest bytes pass.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: plainKey, Body: Buffer.from('not the wheel') }));
    const bad = await tufpipRepo(['verify', dir], { env });
    expect(bad.code, bad.stderr).to.equal(1);
    expect(bad.stderr).to.include('packages/beta/beta-1.0-py3-none-any.whl (plain name, what plain pip gets)');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: plainKey, Body: fs.readFileSync(beta) }));
    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify after the plain name is restored');

    // remove deletes the plain name after its commit (a journal post step), verify passes.
    expectOk(await tufpipRepo(['remove', dir, 'beta', '--version', '1.0'], { env }), 'remove');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'pp/packages/beta/' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).to.not.include(plainKey);
    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify after remove');
  });
});
