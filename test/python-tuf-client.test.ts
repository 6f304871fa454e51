// python-tuf's ngclient (the reference TUF client, Debian's packages: scripts/python-tuf.sh) reads
// what tufpip-repo publishes, given only 1.root.json: a local index served by `tufpip-repo serve`
// (through bump and a root rotation), a repository in a bucket on Ceph's S3 gateway read from the
// bucket's public URL and through nginx as the CDN; and its security checks fire on that bucket
// (TUF spec 5.7.3: a target whose bytes differ from the trusted hashes; 5.6.3: a delegated
// targets role whose signature does not match), each next to the honest run that passes.
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { packagePath } from '../metadata/target-paths.js';
import { tufpipRepo } from './helpers/cli.js';
import { keyPool } from './helpers/ceremony.js';
import { sha256File } from './helpers/hash.js';
import { startCdn, type Cdn } from './helpers/nginx.js';
import { claim, indexOnlyAdd, maintainers, signRelease } from './helpers/pep480-fixture.js';
import { NgClient, pythonTufPath, type NgResult } from './helpers/python-tuf.js';
import { expectOk } from './helpers/repo.js';
import { download, makePublic, newBucket, s3Env, s3Gateway, s3InitArgs, useS3Gateway } from './helpers/s3-gateway.js';
import { startServeCli, type ServeProcess } from './helpers/serve-cli.js';
import { tmpDir } from './helpers/tmp.js';
import { readPublished, type PublishedState } from './helpers/tuf-client.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';

useS3Gateway();

interface Index {
  dir: string;
  root1: string;
  /** target path of each distribution the test published -> the file it wrote. */
  local: Map<string, string>;
  developerSigned: string;
}

/**
 * `init` (extra flags: `initArgs`) and the index content: alpha (depends on beta) and beta wheels,
 * a gamma sdist, then delta claimed by one maintainer (PEP 480) and its 1.0 wheel published
 * maintainer-signed (`release sign` + `add --signed`).
 */
async function buildIndex(initArgs: string[]): Promise<Index> {
  const base = tmpDir('tufpip-ngclient-ix-');
  const dir = path.join(base, 'repo');
  const dists = path.join(base, 'dists');
  const init = JSON.parse(expectOk(await tufpipRepo(['init', dir, '--bins', '16', '--json', ...initArgs]), 'init').stdout) as { root: string };
  const local = new Map<string, string>();
  const record = (stdout: string, files: string[]) => {
    for (const f of (JSON.parse(stdout) as { files: { targetPath: string; filename: string }[] }).files) local.set(f.targetPath, files.find((x) => path.basename(x) === f.filename)!);
  };
  const files = [await writeWheel(dists, { name: 'alpha', version: '1.0', deps: ['beta'] }), await writeWheel(dists, { name: 'beta', version: '1.0' }), writeSdist(dists, 'gamma', '1.0')];
  record(expectOk(await tufpipRepo(['add', dir, '--json', ...files]), 'add').stdout, files);
  const [m1] = await maintainers(['m1']);
  expectOk(await claim(dir, 'delta', [m1], 1), 'claim delta');
  const delta = await writeWheel(dists, { name: 'delta', version: '1.0' });
  const bundle = await signRelease({ project: 'delta', files: [delta], signers: [m1], keys: [m1], threshold: 1, out: path.join(base, 'delta.release.json') });
  const signed = JSON.parse(expectOk(await tufpipRepo(['add', dir, '--json', '--signed', bundle, delta]), 'add --signed delta').stdout) as { added: string[] };
  expect(signed.added).to.have.length(1);
  const developerSigned = packagePath('delta', signed.added[0]);
  local.set(developerSigned, delta);
  return { dir, root1: init.root, local, developerSigned };
}

/** Every target the published snapshot names must be the one python-tuf verified and downloaded. */
function expectEveryTarget(ix: Index, pub: PublishedState, r: NgResult, what: string): void {
  expect(r.refresh, `${what}: refresh\n${r.stderr}`).to.equal('ok');
  expect(Object.fromEntries(r.refused), `${what}: refused`).to.deep.equal({});
  expect(r.code, what).to.equal(0);
  expect(r.versions.timestamp, `${what}: trusted timestamp`).to.equal(pub.timestampVersion);
  for (const [p, t] of pub.targets) expect(r.verified.get(p), `${what}: ${p}`).to.equal(t.sha256);
  for (const [p, file] of ix.local) expect(r.verified.get(p), `${what}: ${p} is the file the test added`).to.equal(sha256File(file));
}

/** The published state of a bucket prefix, read from a copy of its objects. */
async function publishedInBucket(bucket: string, prefix: string): Promise<PublishedState> {
  const copy = tmpDir('tufpip-ngclient-copy-');
  await download(bucket, prefix, path.join(copy, 'site'));
  return readPublished(copy);
}

describe('python-tuf ngclient reads tufpip indexes', function () {
  this.timeout(600_000);

  before(async function () {
    // Not skipped when missing: the script installs it, and its message fails the run otherwise.
    await pythonTufPath();
  });

  describe('a local index served by tufpip-repo serve', () => {
    let ix: Index;
    let server: ServeProcess | undefined;
    before(async function () {
      this.timeout(300_000);
      ix = await buildIndex(['--url', 'http://127.0.0.1:8080/']);
      server = await startServeCli(ix.dir);
    });
    after(async () => {
      await server?.stop();
    });

    it('every target (project list, pages, wheels, sdist, a developer-signed release), then after bump --force and a root rotation', async () => {
      const url = server!.url;
      let pub = readPublished(ix.dir);
      const paths = [...pub.targets.keys()].sort();
      expect(paths).to.include.members(['simple/index.html', 'simple/alpha/index.html', 'simple/delta/index.html', ...ix.local.keys()]);
      expect(paths.filter((p) => p.endsWith('.tar.gz'))).to.have.length(1);
      // PEP 480: the developer-signed release is listed by delta's project role, not by a hash bin.
      expect(pub.targets.get(ix.developerSigned)!.role).to.match(/^project-delta/);
      const client = new NgClient(ix.root1, url);
      const first = await client.fetch(paths);
      expect(first.client).to.equal('python-tuf 5.1.0');
      expectEveryTarget(ix, pub, first, 'first refresh');

      // A client holding the previous metadata follows new online-role versions (5.3-5.5).
      expectOk(await tufpipRepo(['bump', ix.dir, '--force']), 'bump --force');
      pub = readPublished(ix.dir);
      expectEveryTarget(ix, pub, await client.fetch(paths), 'after bump');

      // Root rotation (5.3.4): root-1 replaced by a new key, signed by 2 of the old and 2 of the new keys.
      const [fresh] = await keyPool(1, 'newroot');
      const keys = path.join(ix.dir, 'keys');
      expectOk(await tufpipRepo(['propose', ix.dir, '--role', 'root', '--add-key', fresh.pub, '--remove-key', path.join(keys, 'root-1.pub.json')]), 'propose root');
      for (const k of [path.join(keys, 'root-2.pem'), path.join(keys, 'root-3.pem'), fresh.pem]) expectOk(await tufpipRepo(['sign', path.join(ix.dir, 'pending', 'root.json'), '--key', k]), `sign root with ${path.basename(k)}`);
      expectOk(await tufpipRepo(['publish', ix.dir]), 'publish root 2');
      pub = readPublished(ix.dir);
      const afterRotation = await client.fetch(paths);
      expectEveryTarget(ix, pub, afterRotation, 'after the root rotation');
      expect(afterRotation.versions.root, 'python-tuf trusts root version 2').to.equal(2);
      // A new client, given only 1.root.json, walks the chain 1 -> 2 too.
      expectEveryTarget(ix, pub, await new NgClient(ix.root1, url).fetch(paths), 'new client after the root rotation');
    });

    it("PEP 480: a file the index alone added to a developer-signed project is not found by python-tuf (claimed's terminating delegation); the maintainer-signed one is", async () => {
      const evil = await writeWheel(tmpDir('tufpip-ngclient-evil-'), { name: 'delta', version: '1.1' });
      await indexOnlyAdd(ix.dir, evil);
      const pub = readPublished(ix.dir);
      const evilPath = packagePath('delta', path.basename(evil));
      // The compromised index did publish it, in a hash bin, with a new snapshot and timestamp.
      expect(pub.targets.get(evilPath)?.role).to.match(/^bin-[0-9a-f]$/);
      const r = await new NgClient(ix.root1, server!.url).fetch([ix.developerSigned, evilPath]);
      expect(r.versions.timestamp).to.equal(pub.timestampVersion);
      expect(r.code).to.equal(1);
      expect(Object.fromEntries(r.refused)).to.deep.equal({ [evilPath]: 'NotFound' });
      expect(r.verified.get(ix.developerSigned)).to.equal(sha256File(ix.local.get(ix.developerSigned)!));
    });
  });

  describe('a repository in a bucket (Ceph S3 gateway)', () => {
    let ix: Index;
    let bucket: string;
    let publicUrl: string;
    let pub: PublishedState;
    let paths: string[];
    let cdn: Cdn | undefined;

    before(async function () {
      this.timeout(300_000);
      bucket = await newBucket();
      await makePublic(bucket, 'ix/');
      ix = await buildIndex(await s3InitArgs(bucket, 'ix/'));
      publicUrl = `${(await s3Gateway()).endpoint}/${bucket}/ix/`;
      pub = await publishedInBucket(bucket, 'ix/');
      paths = [...pub.targets.keys()].sort();
    });

    after(async () => {
      await cdn?.stop();
    });

    it("every target from the bucket's public URL, and through nginx (the CDN) in front of it", async () => {
      expect(paths).to.include.members(['simple/index.html', 'simple/alpha/index.html', ix.developerSigned, ...ix.local.keys()]);
      expect(pub.targets.get(ix.developerSigned)!.role).to.match(/^project-delta/);
      expectEveryTarget(ix, pub, await new NgClient(ix.root1, publicUrl).fetch(paths), 'bucket URL');
      cdn = await startCdn(publicUrl);
      expectEveryTarget(ix, pub, await new NgClient(ix.root1, cdn.url).fetch(paths), 'through the CDN');
      // TUF spec 5.7.3 (consistent snapshots): through the CDN, each target by its hash-prefixed name.
      const log = fs.readFileSync(path.join(cdn.dir, 'access.log'), 'utf8');
      for (const p of paths) {
        const i = p.lastIndexOf('/');
        expect(log, `the CDN served ${p}`).to.include(`"GET /${p.slice(0, i)}/${pub.targets.get(p)!.sha256}.${p.slice(i + 1)} HTTP/1.1" 200`);
      }
      await cdn.stop();
      cdn = undefined;
    });

    it('a target whose bytes were replaced in the bucket is refused by python-tuf and by verify; the honest bytes pass', async () => {
      const { client } = await s3Gateway();
      const target = [...ix.local.keys()].find((p) => p.startsWith('packages/alpha/'))!;
      const i = target.lastIndexOf('/');
      const key = `ix/${target.slice(0, i)}/${pub.targets.get(target)!.sha256}.${target.slice(i + 1)}`;
      const honest = fs.readFileSync(ix.local.get(target)!);
      // Same length, one byte different: only the hash check can notice.
      const forged = Buffer.from(honest);
      forged[forged.length >> 1] ^= 0x01;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: forged }));
      try {
        const r = await new NgClient(ix.root1, publicUrl).fetch(paths);
        expect(r.code).to.equal(1);
        expect(Object.fromEntries(r.refused)).to.deep.equal({ [target]: 'LengthOrHashMismatchError' });
        expect(r.verified.size, 'every other target still verifies').to.equal(paths.length - 1);
        const v = await tufpipRepo(['verify', ix.dir], { env: await s3Env() });
        expect(v.code, v.stderr).to.equal(1);
        expect(v.stderr, 'verify names the hash-named object').to.include(key.slice('ix/'.length));
      } finally {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: honest }));
      }
      expectEveryTarget(ix, pub, await new NgClient(ix.root1, publicUrl).fetch(paths), 'honest bytes restored');
      expectOk(await tufpipRepo(['verify', ix.dir], { env: await s3Env() }), 'verify after the honest bytes are restored');
    });

    it('a hash bin with one flipped byte is refused by python-tuf for every target it lists; the honest bin passes', async () => {
      const { client } = await s3Gateway();
      const target = [...ix.local.keys()].find((p) => p.startsWith('packages/beta/'))!;
      const bin = pub.targets.get(target)!.role;
      expect(bin).to.match(/^bin-[0-9a-f]$/);
      const key = `ix/metadata/${pub.roles.get(bin)}.${bin}.json`;
      const honest = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
      // One hex digit of the target's hash inside the signed part: still valid JSON, no longer what was signed.
      const text = honest.toString('utf8');
      const at = text.indexOf(pub.targets.get(target)!.sha256);
      expect(at).to.be.greaterThan(0);
      const forged = Buffer.from(honest);
      forged[at] = forged[at] === 0x30 ? 0x31 : 0x30;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: forged }));
      const inBin = paths.filter((p) => pub.targets.get(p)!.role === bin);
      try {
        const r = await new NgClient(ix.root1, publicUrl).fetch(paths);
        expect(r.code).to.equal(1);
        expect([...r.refused.keys()].sort(), `every target ${bin} lists is refused`).to.deep.equal(inBin.sort());
        for (const p of inBin) expect(r.refused.get(p), p).to.equal('UnsignedMetadataError');
        expect(r.verified.size, 'targets of other bins still verify').to.equal(paths.length - inBin.length);
        const v = await tufpipRepo(['verify', ix.dir], { env: await s3Env() });
        expect(v.code, v.stderr).to.equal(1);
        expect(v.stderr).to.include(bin);
      } finally {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: honest }));
      }
      expectEveryTarget(ix, pub, await new NgClient(ix.root1, publicUrl).fetch(paths), 'honest bin restored');
    });
  });
});
