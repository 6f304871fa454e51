// `tufpip watch` on an index in a bucket (Ceph's S3 gateway), read anonymously from its public URL
// like any client: releases are reported, and history that `gc` removed is a reported gap. A bucket
// anyone may read but not list answers 403 (not 404) for a missing key, which the history walk
// takes as "no longer published", as tuf-js does for a root version (TUF spec 5.3.3).
import path from 'node:path';
import { expect } from 'chai';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { jsonOf } from './helpers/trusted-index.js';
import { watcherOf, type WatchEventLine } from './helpers/watcher.js';
import { writeWheel } from './helpers/wheels.js';
import { makePublic, newBucket, s3Env, s3Gateway, s3InitArgs, useS3Gateway } from './helpers/s3-gateway.js';

useS3Gateway();

const kinds = (events: WatchEventLine[]) => events.map((e) => `${e.kind}${e.path ? ` ${path.basename(e.path)}` : e.role ? ` ${e.role}` : ''}`).sort();

describe('watch: an index in a bucket, read from its public URL', function () {
  this.timeout(300_000);

  it('reports releases; snapshots removed by gc (403 from a bucket that cannot be listed) are a reported gap, exit 0', async () => {
    const bucket = await newBucket();
    await makePublic(bucket, 'ix/');
    const env = await s3Env();
    const gw = await s3Gateway();
    const base = tmpDir('tufpip-watch-s3-');
    const dir = path.join(base, 'repo');
    const init = jsonOf<{ root: string }>(expectOk(await tufpipRepo(['init', dir, '--bins', '16', '--json', ...(await s3InitArgs(bucket, 'ix/'))], { env }), 'init'));
    const missing = await fetch(`${gw.endpoint}/${bucket}/ix/metadata/99.snapshot.json`);
    expect(missing.status, 'an anonymous read of a missing key').to.equal(403);

    const watcher = await watcherOf(`${gw.endpoint}/${bucket}/ix/`, init.root, ['beta']);
    expect((await watcher.watch()).events).to.deep.equal([]);
    const wheels = path.join(base, 'wheels');
    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'beta', version: '1.0' })], { env }), 'add beta 1.0');
    const first = await watcher.watch();
    expect(first.code, first.r.stderr).to.equal(0);
    expect(kinds(first.events)).to.deep.equal(['file-added beta-1.0-py3-none-any.whl']);

    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'beta', version: '2.0' })], { env }), 'add beta 2.0');
    expectOk(await tufpipRepo(['add', dir, await writeWheel(wheels, { name: 'beta', version: '3.0' })], { env }), 'add beta 3.0');
    expectOk(await tufpipRepo(['gc', dir, '--keep', '0s'], { env }), 'gc');
    const gap = await watcher.watch();
    expect(gap.code, gap.r.stderr).to.equal(0);
    expect(kinds(gap.events)).to.deep.equal(['file-added beta-2.0-py3-none-any.whl', 'file-added beta-3.0-py3-none-any.whl', 'history-gap snapshot']);
    expect(gap.events.find((e) => e.kind === 'history-gap')!.message).to.match(/snapshot versions 3 to 3 are no longer published/);
  });
});
