// The completed storage seam on the object-store backend (Ceph's S3 gateway): `verify` runs
// tuf-js over the backend's reader and lists the public prefix, failing on private objects there
// and passing the honest repository; pending proposals of offline roles are private records under
// the private prefix (storage.ts PrivateState), listed and discarded through the seam.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import { newBucket, s3Env, s3Gateway, s3InitArgs, useS3Gateway } from './helpers/s3-gateway.js';
import { jsonOf } from './helpers/trusted-index.js';
import { keyPool } from './helpers/ceremony.js';

useS3Gateway();

describe('seam: verify and private records on the S3 backend (Ceph radosgw)', function () {
  this.timeout(300_000);

  it('verify over the backend: the honest repository passes; private objects under the public prefix fail it', async () => {
    const bucket = await newBucket();
    const env = await s3Env();
    const dir = path.join(tmpDir('tufpip-s3-'), 'local');
    expectOk(await tufpipRepo(['init', dir, '--bins', '16', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init');
    expectOk(await tufpipRepo(['add', dir, await writeWheel(tmpDir('tufpip-wheels-'), { name: 'alpha', version: '1.0' })], { env }), 'add');
    const ok = jsonOf<{ ok: boolean; filesChecked: number; problems: unknown[] }>(await tufpipRepo(['verify', dir, '--json'], { env }));
    expect(ok.problems).to.deep.equal([]);
    expect(ok.ok).to.equal(true);
    expect(ok.filesChecked).to.equal(3); // the wheel, its page, the project list

    const { client } = await s3Gateway();
    // Nothing to do after an add's commit (no plain names): its journal entry rides on
    // timestamp.json itself, and no journal object was written for it (storage/s3.ts ENTRY_META).
    const head = (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ix/metadata/timestamp.json' }))).Metadata ?? {};
    expect(head['tufpip-journal']).to.equal(undefined);
    expect(JSON.parse(Buffer.from(head['tufpip-entry'] ?? '', 'base64url').toString('utf8'))).to.include({ command: 'add', timestampVersion: 2 });
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n';
    const planted: Array<[string, string, RegExp]> = [
      ['ix/journal/leaked.json', '{}', /\[private\] private state in the public area: s3:\/\/[^ ]+\/ix\/journal\/leaked\.json/],
      ['ix/config.json', '{}', /\[private\] private state in the public area: s3:\/\/[^ ]+\/ix\/config\.json \(the repository configuration\)/],
      ['ix/packages/alpha/notes.txt', pem, /\[secret\] private key material in the public area: s3:\/\/[^ ]+\/ix\/packages\/alpha\/notes\.txt \(holds a PEM private key\)/],
    ];
    for (const [Key, body] of planted) await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body }));
    const bad = await tufpipRepo(['verify', dir], { env });
    expect(bad.code, bad.stderr).to.equal(1);
    expect(bad.stderr).to.match(/verify found 3 problems/);
    for (const [, , want] of planted) expect(bad.stderr).to.match(want);
    expect(bad.stderr + bad.stdout).to.not.match(/BEGIN [A-Z ]*PRIVATE KEY/);
    for (const [Key] of planted) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify once they are gone');
  });

  it("every object is stored with its class's Cache-Control, from the repository's cache policy", async () => {
    const bucket = await newBucket();
    const env = await s3Env();
    const dir = path.join(tmpDir('tufpip-s3-'), 'local');
    expectOk(await tufpipRepo(['init', dir, '--bins', '16', '--plain-names', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init');
    const configFile = path.join(dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), cache: { headMaxAge: 5, mutableMaxAge: 7 } }));
    expectOk(await tufpipRepo(['add', dir, await writeWheel(tmpDir('tufpip-wheels-'), { name: 'alpha', version: '1.0' })], { env }), 'add');
    const { client } = await s3Gateway();
    const cacheOf = async (Key: string) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).CacheControl;
    const keys = (await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'ix/' }))).Contents!.map((o) => o.Key!);
    expect(await cacheOf('ix/metadata/timestamp.json')).to.equal('public, max-age=5');
    expect(await cacheOf('ix/packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal('public, max-age=7');
    expect(await cacheOf('ix/simple/alpha/index.html')).to.equal('public, max-age=7');
    const immutable = keys.filter((k) => /\/metadata\/\d+\.[^/]+\.json$|\/[0-9a-f]{64}\.[^/]+$/.test(k));
    expect(immutable.length).to.be.greaterThan(20);
    for (const k of immutable) expect(await cacheOf(k), k).to.equal('public, max-age=31536000, immutable');
  });

  it('a pending proposal is a private record under the private prefix: pending lists it, --discard removes it', async () => {
    const bucket = await newBucket();
    const env = await s3Env();
    const dir = path.join(tmpDir('tufpip-s3-'), 'local');
    expectOk(await tufpipRepo(['init', dir, '--bins', '16', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init');
    const [k] = await keyPool(1, 's3seam');
    const p = jsonOf<{ file: string; version: number }>(expectOk(await tufpipRepo(['propose', dir, '--role', 'root', '--add-key', k.pub, '--json'], { env }), 'propose'));
    expect(p.file).to.equal(`s3://${bucket}/ix-private/records/pending/root.json`);
    const { client } = await s3Gateway();
    const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ix-private/records/pending/root.json' }));
    expect(JSON.parse(await obj.Body!.transformToString()).pending.role).to.equal('root');
    const listed = jsonOf<{ roles: Array<{ role: string; file: string }> }>(expectOk(await tufpipRepo(['pending', dir, '--json'], { env }), 'pending'));
    expect(listed.roles.map((r) => [r.role, r.file])).to.deep.equal([['root', p.file]]);
    expectOk(await tufpipRepo(['pending', dir, '--discard', 'root'], { env }), 'discard');
    const after = jsonOf<{ roles: unknown[] }>(expectOk(await tufpipRepo(['pending', dir, '--json'], { env }), 'pending after discard'));
    expect(after.roles).to.deep.equal([]);
    const again = await tufpipRepo(['pending', dir, '--discard', 'root'], { env });
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/nothing pending for root/);
  });
});
