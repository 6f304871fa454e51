// `tufpip-repo move`: a local index moved into a bucket on Ceph's S3 gateway and back, through the
// storage seam on both sides (docs/object-storage.md "Moving an index"). After each move the
// destination verifies, clients install from it, publishing goes on there, the record of withdrawn
// files came along (filenames are forever), and the old copy is left as it was.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { expectOk, serve } from './helpers/repo.js';
import { freshVenv } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import { jsonOf } from './helpers/trusted-index.js';
import { runRepoKillable } from './helpers/faults.js';
import { makePublic, newBucket, s3Env, s3Gateway, useS3Gateway, listKeys } from './helpers/s3-gateway.js';
import type { MoveResult } from '../repo-tools/commands/move.js';

useS3Gateway();


describe('tufpip-repo move: local disk -> bucket -> local disk', function () {
  this.timeout(300_000);

  it('moves the whole history, the withdrawn record and the head; both destinations verify, install and keep publishing; the source is kept', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'ix/');
    const env = await s3Env();
    const gw = await s3Gateway();
    const base = tmpDir('tufpip-move-');
    const dir = path.join(base, 'repo');
    const wheels = path.join(base, 'wheels');
    expectOk(await tufpipRepo(['init', dir, '--url', 'http://127.0.0.1:8080/', '--bins', '16']), 'init (local)');
    const alpha = await writeWheel(wheels, { name: 'alpha', version: '1.0', deps: ['beta'] });
    const beta10 = await writeWheel(wheels, { name: 'beta', version: '1.0' });
    const beta11 = await writeWheel(wheels, { name: 'beta', version: '1.1' });
    expectOk(await tufpipRepo(['add', dir, alpha, beta10, beta11]), 'add');
    expectOk(await tufpipRepo(['remove', dir, 'beta', '--version', '1.1']), 'remove beta 1.1 (withdrawn: its filename is retired)');
    expectOk(await tufpipRepo(['bump', dir, '--force']), 'bump');
    const root1 = path.join(dir, 'site', 'metadata', '1.root.json');
    const localTs = fs.readFileSync(path.join(dir, 'site', 'metadata', 'timestamp.json'));
    const localVersions = fs.readdirSync(path.join(dir, 'site', 'metadata')).filter((n) => /^\d+\./.test(n)).sort();

    // Local -> bucket.
    const url = `${gw.endpoint}/${bucket}/ix/`;
    const r = jsonOf<MoveResult>(
      expectOk(await tufpipRepo(['move', dir, '--to', `s3://${bucket}/ix/`, '--s3-endpoint', gw.endpoint, '--s3-path-style', '--url', url, '--json'], { env }), 'move to the bucket'),
    );
    expect(r).to.include({ from: `${dir}/site`, to: `s3://${bucket}/ix/`, url, plainNames: 0, withdrawnRecords: 1, sourceKept: `${dir}/site` });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).storage).to.include({ backend: 's3', bucket, prefix: 'ix/' });
    // Every versioned metadata file (the history watchers walk), the same head, no plain names.
    const pub = await listKeys(bucket, 'ix/');
    expect(pub.filter((k) => /^ix\/metadata\/\d+\./.test(k)).map((k) => k.slice('ix/metadata/'.length)).sort()).to.deep.equal(localVersions);
    const { client } = await s3Gateway();
    const head = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ix/metadata/timestamp.json' }));
    expect(Buffer.from(await head.Body!.transformToByteArray()).equals(localTs), 'the same timestamp.json').to.equal(true);
    expect(pub.filter((k) => /^ix\/(simple|packages)\//.test(k) && !/\/[0-9a-f]{64}\.[^/]+$/.test(k)), 'plain names in a TUF-only bucket').to.deep.equal([]);
    // The old copy is kept as it was.
    expect(fs.readFileSync(path.join(dir, 'site', 'metadata', 'timestamp.json')).equals(localTs)).to.equal(true);

    expectOk(await tufpipRepo(['verify', dir], { env }), 'verify (bucket)');
    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', url, '--root', root1]), 'trust add (bucket URL, the root of the local index)');
    const venv = freshVenv();
    expectOk(await tufpip(['--data-dir', dataDir, 'install', 'alpha', '--python', venv.python]), 'install from the bucket');
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    // Publishing goes on in the bucket; the withdrawn filename came along.
    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'gamma', version: '1.0' })], { env }), 'add in the bucket');
    const reuse = await tufpipRepo(['add', dir, await writeWheel(path.join(base, 'other'), { name: 'beta', version: '1.1', padding: 10 })], { env });
    expect(reuse.code, reuse.stderr).to.equal(1);
    expect(reuse.stderr).to.match(/beta-1\.1-py3-none-any\.whl was published before with other content .* and removed; a filename is never reused/);

    // A second move into a prefix that holds a repository is refused; nothing changes.
    const again = await tufpipRepo(['move', dir, '--to', `s3://${bucket}/ix/`, '--s3-endpoint', gw.endpoint, '--s3-path-style'], { env });
    expect(again.code, again.stderr).to.equal(2); // already there
    const bucketAgain = await tufpipRepo(['move', dir, '--to', 'local'], { env });
    expect(bucketAgain.code).to.equal(1);
    expect(bucketAgain.stderr).to.match(/already holds a published tree/);

    // Bucket -> local disk, once the old local copy is gone: plain names written from the metadata.
    fs.rmSync(path.join(dir, 'site'), { recursive: true });
    // Killed right after its commit (timestamp.json in place), before config.json names the
    // destination: the same command again finds its own head there and finishes.
    const moveBack = ['move', dir, '--to', 'local', '--url', 'http://127.0.0.1:8080/', '--json'];
    const killed = await runRepoKillable(moveBack, { env, killAt: { afterRename: 'timestamp.json' } });
    expect(killed.killed, killed.stderr).to.equal(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).storage, 'config.json still names the bucket').to.include({ bucket });
    const back = jsonOf<MoveResult>(expectOk(await tufpipRepo(moveBack, { env }), 'move back (again, after the kill)'));
    expect(back).to.include({ from: `s3://${bucket}/ix/`, to: `${dir}/site`, withdrawnRecords: 1 });
    expect(back.plainNames).to.be.greaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).storage).to.equal(undefined);
    expect(fs.existsSync(path.join(dir, 'site', 'packages', 'gamma', 'gamma-1.0-py3-none-any.whl')), 'plain name of a file added in the bucket').to.equal(true);
    expectOk(await tufpipRepo(['verify', dir]), 'verify (local, plain names checked)');
    const server = await serve(dir);
    try {
      const data2 = path.join(tmpDir('tufpip-data-'), 'data');
      expectOk(await tufpip(['--data-dir', data2, 'trust', 'add', server.url, '--root', root1]), 'trust add (local)');
      const venv2 = freshVenv();
      expectOk(await tufpip(['--data-dir', data2, 'install', 'gamma', '--python', venv2.python]), 'install from the local disk');
      expect(venv2.installed()).to.include('gamma');
    } finally {
      await server.close();
    }
    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'delta', version: '1.0' })]), 'add on the local disk again');
    const reuse2 = await tufpipRepo(['add', dir, await writeWheel(path.join(base, 'other2'), { name: 'beta', version: '1.1', padding: 20 })]);
    expect(reuse2.code, 'the withdrawn record came back too').to.equal(1);
    expect(reuse2.stderr).to.match(/a filename is never reused/);
    expect(await listKeys(bucket, 'ix/metadata/timestamp.json'), 'the bucket copy is kept').to.have.length(1);
  });
});
