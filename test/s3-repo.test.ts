// A repository on object storage (storage/s3.ts) on Ceph's S3 gateway: every publishing command
// of the local backend, through the same pipeline, and clients that read the bucket's public URL.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { freshVenv } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import { makePublic, newBucket, s3Env, s3Gateway, s3InitArgs, useS3Gateway, listKeys } from './helpers/s3-gateway.js';
import { jsonOf } from './helpers/trusted-index.js';

useS3Gateway();


describe('S3 backend: a repository in a bucket (Ceph radosgw)', function () {
  this.timeout(300_000);

  it('init / add / bump / remove / verify on S3; private state only under the private prefix; tufpip install reads the public URL', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'index/');
    const env = await s3Env();
    const base = tmpDir('tufpip-s3-');
    const dir = path.join(base, 'local');
    const init = expectOk(await tufpipRepo(['init', dir, '--bins', '16', '--json', ...(await s3InitArgs(bucket, 'index/'))], { env }), 'init');
    const r = jsonOf<{ root: string; storage: string }>(init);
    expect(r.storage).to.equal(`s3://${bucket}/index/`);
    // Nothing served from the local folder: it holds the config, the keys and a copy of root v1.
    expect(fs.existsSync(path.join(dir, 'site'))).to.equal(false);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).storage).to.include({ backend: 's3', bucket, prefix: 'index/', privatePrefix: 'index-private/' });
    expect(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).to.not.include(env.AWS_SECRET_ACCESS_KEY!);

    const wheels = path.join(base, 'wheels');
    const a = await writeWheel(wheels, { name: 'alpha', version: '1.0', deps: ['beta>=1.0'] });
    const b1 = await writeWheel(wheels, { name: 'beta', version: '1.0' });
    const b2 = await writeWheel(wheels, { name: 'beta', version: '1.1' });
    expectOk(await tufpipRepo(['add', dir, a, b1, b2], { env }), 'add');
    expectOk(await tufpipRepo(['bump', dir, '--force'], { env }), 'bump');
    expectOk(await tufpipRepo(['remove', dir, 'beta', '--version', '1.1'], { env }), 'remove');
    expectOk(await tufpipRepo(['yank', dir, 'alpha', '--version', '1.0', '--reason', 'test'], { env }), 'yank');
    expectOk(await tufpipRepo(['unyank', dir, 'alpha', '--version', '1.0'], { env }), 'unyank');
    // gc removes what no published snapshot names (the versions bump and remove replaced).
    const before = (await listKeys(bucket, 'index/metadata/')).length;
    const gc = jsonOf<{ removed: string[] }>(expectOk(await tufpipRepo(['gc', dir, '--keep', '0s', '--json'], { env }), 'gc'));
    expect(gc.removed.length).to.be.greaterThan(0);
    expect((await listKeys(bucket, 'index/metadata/')).length).to.equal(before - gc.removed.filter((r) => r.startsWith('metadata/')).length);
    const status = jsonOf<{ timestampVersion?: number; storage: unknown }>(expectOk(await tufpipRepo(['status', dir, '--json'], { env }), 'status'));
    expect(JSON.stringify(status)).to.match(/"timestamp/);
    expect(status.storage).to.deep.equal({ where: `s3://${bucket}/index`, plainNames: false });
    expect(expectOk(await tufpipRepo(['status', dir], { env }), 'status').stdout).to.contain(`published at s3://${bucket}/index, hash-named only: TUF clients`);
    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify');

    const pub = await listKeys(bucket, 'index/');
    expect(pub).to.include.members(['index/metadata/timestamp.json', 'index/metadata/1.root.json']);
    // TUF clients only (the default, no --plain-names): every page and package file is a
    // hash-named copy (TUF spec 5.7.3), none has a plain name.
    const content = pub.filter((k) => /^index\/(simple|packages)\//.test(k));
    expect(content.some((k) => /^index\/packages\/alpha\/[0-9a-f]{64}\.alpha-1\.0-py3-none-any\.whl$/.test(k))).to.equal(true);
    expect(content.filter((k) => !/\/[0-9a-f]{64}\.[^/]+$/.test(k)), 'plain-named objects').to.deep.equal([]);
    expect(pub.filter((k) => /journal|retired|config\.json|\.pem$/.test(k))).to.deep.equal([]);
    const priv = await listKeys(bucket, 'index-private/');
    // init's entry only: a publication with nothing to do after its commit keeps its journal
    // entry on timestamp.json itself (storage/s3.ts ENTRY_META), no object of its own.
    expect(priv.filter((k) => k.startsWith('index-private/journal/'))).to.have.length(1);
    expect(priv.some((k) => k.startsWith('index-private/retired/'))).to.equal(true); // beta 1.1 was withdrawn
    expect(priv).to.include('index-private/config.json');

    // HTTP caching a CDN follows: timestamp.json short, versioned metadata immutable.
    const { client } = await s3Gateway();
    const ts = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'index/metadata/timestamp.json' }));
    expect(ts.CacheControl).to.equal('public, max-age=60');
    const root = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'index/metadata/1.root.json' }));
    expect(root.CacheControl).to.equal('public, max-age=31536000, immutable');

    // Anonymous readers get the public prefix, never the private one.
    const gw = await s3Gateway();
    expect((await fetch(`${gw.endpoint}/${bucket}/index/metadata/timestamp.json`)).status).to.equal(200);
    expect((await fetch(`${gw.endpoint}/${bucket}/index-private/config.json`)).status).to.equal(403);

    // A client trusts the bucket's public URL and installs through the verifying proxy.
    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', `${gw.endpoint}/${bucket}/index/`, '--root', r.root]), 'trust add');
    const venv = freshVenv();
    expectOk(await tufpip(['--data-dir', dataDir, 'install', 'alpha', '--python', venv.python]), 'install');
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    expect(venv.run('import importlib.metadata as m; print(m.version("beta"))').trim()).to.equal('1.0'); // 1.1 was removed
  });

  it('verify reports private state and key material under the public prefix (and passes without them)', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'pub/');
    const env = await s3Env();
    const dir = path.join(tmpDir('tufpip-s3-'), 'local');
    expectOk(await tufpipRepo(['init', dir, '--bins', '16', ...(await s3InitArgs(bucket, 'pub/'))], { env }), 'init');
    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify of the honest bucket');
    const { client } = await s3Gateway();
    const pem = fs.readFileSync(path.join(dir, 'keys', 'online.pem'));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub/backup/online.txt', Body: pem }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub/journal/1-x.json', Body: '{}' }));
    const bad = await tufpipRepo(['verify', dir], { env });
    expect(bad.code).to.equal(1);
    // The same check and messages as for a local repository (storage/secrets-guard.ts, over the seam).
    expect(bad.stderr).to.include(`[secret] private key material in the public area: s3://${bucket}/pub/backup/online.txt (holds a PEM private key)`);
    expect(bad.stderr).to.include(`[private] private state in the public area: s3://${bucket}/pub/journal/1-x.json`);
    expect(bad.stderr).to.not.include('BEGIN');
  });

  it('init refuses a prefix that already holds a repository, and flags that need --storage', async () => {
    const bucket = await newBucket();
    const env = await s3Env();
    const base = tmpDir('tufpip-s3-');
    expectOk(await tufpipRepo(['init', path.join(base, 'one'), '--bins', '16', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init');
    const again = await tufpipRepo(['init', path.join(base, 'two'), '--bins', '16', ...(await s3InitArgs(bucket, 'ix/'))], { env });
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/already holds a repository/);
    expect(fs.existsSync(path.join(base, 'two'))).to.equal(false);
    const usage = await tufpipRepo(['init', path.join(base, 'three'), '--url', 'http://127.0.0.1:1/', '--s3-path-style'], { env });
    expect(usage.code).to.equal(2);
    const overlap = await tufpipRepo(['init', path.join(base, 'four'), '--bins', '16', ...(await s3InitArgs(bucket, 'ix2/')), '--private', `s3://${bucket}/ix2/private/`], { env });
    expect(overlap.code).to.equal(2);
    expect(overlap.stderr).to.match(/overlaps the public/);
  });
});
