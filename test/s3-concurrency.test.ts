// Several writers on one bucket (storage/s3.ts): the commit point is a conditional write, a writer
// that loses reloads and starts again (txn/open-repo.ts), a killed writer never leaves a broken
// served state, and a paused writer loses instead of publishing a stale state. Real processes with
// separate local state ("machines"), Ceph's gateway, a real tuf-js client over HTTP.
import './setup.js';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tufpipRepo, preload, REPO_BIN, startCommand } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import { rng, runRepoKillable, seedFrom } from './helpers/faults.js';
import { readPublished, type PublishedState } from './helpers/tuf-client.js';
import { TufClient } from './helpers/tuf-client.js';
import { download, makePublic, newBucket, s3Env, s3Gateway, s3InitArgs, secondMachine, useS3Gateway } from './helpers/s3-gateway.js';
import { jsonOf } from './helpers/trusted-index.js';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { withRepo } from '../repo-tools/txn/open-repo.js';
import { Transaction } from '../repo-tools/txn/transaction.js';

useS3Gateway();

interface S3Repo {
  bucket: string;
  dir: string;
  url: string;
  root1: string;
  base: string;
}

async function s3Repo(bins = 16): Promise<S3Repo> {
  const bucket = await newBucket();
  await makePublic(bucket, 'ix/');
  const base = tmpDir('tufpip-s3c-');
  const dir = path.join(base, 'a');
  expectOk(await tufpipRepo(['init', dir, '--bins', String(bins), '--root-keys', '1', '--allow-single-root-key', ...(await s3InitArgs(bucket, 'ix/'))], { env: await s3Env() }), 'init');
  return { bucket, dir, url: `${(await s3Gateway()).endpoint}/${bucket}/ix/`, root1: path.join(dir, '1.root.json'), base };
}

/** What a bucket publishes, read with plain JSON (test/helpers/tuf-client.ts readPublished). */
async function published(r: S3Repo): Promise<PublishedState> {
  const site = path.join(tmpDir('tufpip-s3-mirror-'), 'repo');
  await download(r.bucket, 'ix/metadata/', path.join(site, 'site', 'metadata'));
  return readPublished(site);
}

const retriesIn = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('tufpip-repo: retrying (')).length;

describe('S3 backend: several writers on one bucket', function () {
  this.timeout(600_000);

  it('a writer whose commit loses (If-Match 412) gets CONFLICT, reloads the new state, redoes its edits and publishes after it', async () => {
    const r = await s3Repo();
    const env = await s3Env();
    const b = secondMachine(r.dir, path.join(r.base, 'b'));
    const wheel = await writeWheel(path.join(r.base, 'w'), { name: 'other', version: '1.0' });
    const retries: string[] = [];
    let attempts = 0;
    const result = await withRepo(r.dir, { onRetry: (_n, reason) => retries.push(reason) }, async (ctx) => {
      attempts++;
      // Machine B publishes after this writer loaded the published state, before it commits.
      if (attempts === 1) expectOk(await tufpipRepo(['add', b, wheel], { env }), 'add on machine B');
      // A new timestamp only: the commit is the one write that can lose.
      const tx = new Transaction(ctx, 'bump');
      tx.forceTimestamp = true;
      return tx.commit();
    });
    expect(attempts).to.equal(2);
    expect(retries).to.have.length(1);
    expect(retries[0]).to.match(/timestamp\.json changed while this command ran \(another writer published first\); nothing was published/);
    expect(result.timestampVersion).to.equal(3);
    const state = await published(r);
    expect(state.timestampVersion).to.equal(3);
    expect(state.snapshotVersion).to.equal(2); // B's snapshot: this writer only re-signed the timestamp
    expect([...state.targets.keys()]).to.include('packages/other/other-1.0-py3-none-any.whl'); // B's edit survives
    expectOk(await tufpipRepo(['verify', r.dir], { env }), 'verify');
  });

  it("another writer's young object at a name this writer needs is never replaced: retries, then CONFLICT with nothing published; once older than the stale window it is a leftover and replaced", async () => {
    const r = await s3Repo();
    const { client } = await s3Gateway();
    // What a live writer planning the same publication has just created: snapshot version 2.
    const foreign = Buffer.from('{"signed": "another writer\'s snapshot"}');
    await client.send(new PutObjectCommand({ Bucket: r.bucket, Key: 'ix/metadata/2.snapshot.json', Body: foreign }));
    const wheel = await writeWheel(path.join(r.base, 'w'), { name: 'young', version: '1.0' });
    const refused = await tufpipRepo(['add', r.dir, wheel], { env: await s3Env() });
    expect(refused.code, refused.stderr).to.equal(1);
    expect(retriesIn(refused.stderr)).to.equal(24);
    expect(refused.stderr).to.match(/2\.snapshot\.json was just written with other content by another writer publishing the same version; nothing was published/);
    expect((await published(r)).timestampVersion).to.equal(1);
    const still = await client.send(new GetObjectCommand({ Bucket: r.bucket, Key: 'ix/metadata/2.snapshot.json' }));
    expect(Buffer.from(await still.Body!.transformToByteArray()).equals(foreign)).to.equal(true);
    // The retries took their backoff (about 40 s): with a stale window of 15 s the same object is
    // now a dead writer's leftover.
    expect(Date.now() - still.LastModified!.getTime()).to.be.greaterThan(15_000);
    expectOk(await tufpipRepo(['add', r.dir, wheel], { env: await s3Env({ TUFPIP_S3_STALE_MS: '15000' }) }), 'add over the leftover');
    const state = await published(r);
    expect(state.snapshotVersion).to.equal(2);
    expect([...state.targets.keys()]).to.include('packages/young/young-1.0-py3-none-any.whl');
    expectOk(await tufpipRepo(['verify', r.dir], { env: await s3Env() }), 'verify');
  });

  it('two machines each add 50 files and bump concurrently: every file once, versions without gaps, verify passes', async () => {
    const r = await s3Repo();
    const env = await s3Env();
    const b = secondMachine(r.dir, path.join(r.base, 'b'));
    const writer = async (dir: string, name: string) => {
      const commits: { ts: number; snap: number }[] = [];
      let retries = 0;
      const files: string[] = [];
      for (let i = 0; i < 50; i++) files.push(await writeWheel(path.join(r.base, `w-${name}`), { name: `${name}-p${i % 10}`, version: `1.${Math.floor(i / 10)}` }));
      for (let i = 0; i < 50; i += 2) {
        const add = expectOk(await tufpipRepo(['add', dir, files[i], files[i + 1], '--json'], { env }), `add on ${name}`);
        retries += retriesIn(add.stderr);
        expect(jsonOf<{ retries?: number }>(add).retries ?? 0, '--json counts the retries stderr reported').to.equal(retriesIn(add.stderr));
        const c = jsonOf<{ commit: { timestampVersion: number; snapshotVersion: number } }>(add).commit;
        commits.push({ ts: c.timestampVersion, snap: c.snapshotVersion });
        if (i % 10 === 8) {
          const bump = expectOk(await tufpipRepo(['bump', dir, '--force', '--json'], { env }), `bump on ${name}`);
          retries += retriesIn(bump.stderr);
          const bc = jsonOf<{ commit: { timestampVersion: number; snapshotVersion: number } }>(bump).commit;
          commits.push({ ts: bc.timestampVersion, snap: bc.snapshotVersion });
        }
      }
      return { commits, retries };
    };
    const [wa, wb] = await Promise.all([writer(r.dir, 'alpha'), writer(b, 'beta')]);
    const commits = [...wa.commits, ...wb.commits].sort((x, y) => x.ts - y.ts);
    // 2 x (25 adds + 5 bumps), each its own publication: timestamp 2..61, each once.
    expect(commits.map((c) => c.ts)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 2));
    // Every publication made a new snapshot: snapshot versions follow without a gap.
    expect(commits.map((c) => c.snap)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 2));
    const state = await published(r);
    expect(state.timestampVersion).to.equal(61);
    const packages = [...state.targets.keys()].filter((p) => p.startsWith('packages/'));
    expect(packages).to.have.length(100);
    // A real client finds and verifies every one of them over HTTP.
    const view = await new TufClient(r.url, r.root1).view(packages);
    expect(view.missing).to.deep.equal([]);
    expect(view.resolved.size).to.equal(100);
    expectOk(await tufpipRepo(['verify', r.dir], { env }), 'verify');
    console.log(`      two writers x 50 files + 5 bumps each: ${wa.retries + wb.retries} retries (${wa.retries} + ${wb.retries})`);
  });

  it('a writer SIGKILLed at random points of its publication, 50 times: the served state is the previous or the next complete one; the next writer goes on', async () => {
    const r = await s3Repo();
    // Leftovers of a killed writer count as abandoned after 2 s; the local lock it held after 2 s.
    const env = await s3Env({ TUFPIP_S3_STALE_MS: '2000', TUFPIP_LOCK_STALE_MS: '2000' });
    const seed = seedFrom('TUFPIP_TEST_S3_KILL_SEED');
    const random = rng(seed);
    const client = new TufClient(r.url, r.root1);
    let known = (await client.view([])).timestampVersion;
    const published: string[] = [];
    // A normal run's duration, so the kills spread over the whole publication.
    const probe = await writeWheel(path.join(r.base, 'w'), { name: 'probe', version: '1.0' });
    const t0 = performance.now();
    expectOk(await tufpipRepo(['add', r.dir, probe], { env }), 'probe add');
    const runMs = performance.now() - t0;
    published.push('packages/probe/probe-1.0-py3-none-any.whl');
    known++;
    let lastKilled = false;
    let killedBefore = 0;
    let killedAfter = 0;
    let finished = 0;
    for (let i = 0; i < 50; i++) {
      const wheel = await writeWheel(path.join(r.base, 'w'), { name: `k${i}`, version: '1.0' });
      const target = `packages/k${i}/k${i}-1.0-py3-none-any.whl`;
      // After a kill the next run first waits out the dead writer's lock and leftovers (2 s).
      const waitMs = lastKilled ? 2300 : 0;
      const run = await runRepoKillable(['add', r.dir, wheel], { env, killAfterMs: Math.floor(waitMs + runMs * (0.3 + 0.9 * random())) });
      lastKilled = run.killed;
      if (!run.killed) {
        expect(run.code, `seed ${seed} run ${i}: ${run.stderr}`).to.equal(0);
        finished++;
      }
      // A fresh view from the client that saw the previous state: it must verify.
      const view = await client.view([target, ...published.slice(-3)]);
      expect(view.missing.filter((m) => m !== target), `seed ${seed} run ${i}`).to.deep.equal([]);
      if (view.missing.includes(target)) {
        expect(view.timestampVersion, `seed ${seed} run ${i}: previous state`).to.equal(known);
        expect(run.killed).to.equal(true);
        killedBefore++;
      } else {
        expect(view.timestampVersion, `seed ${seed} run ${i}: next state`).to.equal(known + 1);
        if (run.killed) killedAfter++;
        published.push(target);
      }
      known = view.timestampVersion;
    }
    // The next writer finishes or abandons what the killed ones left, and publishes after them.
    const last = await writeWheel(path.join(r.base, 'w'), { name: 'last', version: '1.0' });
    expectOk(await tufpipRepo(['add', r.dir, last], { env }), 'add after the kills');
    expectOk(await tufpipRepo(['verify', r.dir], { env }), 'verify');
    const view = await client.view([...published, 'packages/last/last-1.0-py3-none-any.whl']);
    expect(view.missing).to.deep.equal([]);
    console.log(`      seed ${seed}, a run ${Math.round(runMs)} ms: ${killedBefore} killed before the commit, ${killedAfter} after it, ${finished} finished`);
    expect(killedBefore + killedAfter, 'some runs were really killed').to.be.greaterThan(0);
  });

  it('a writer paused (SIGSTOP) at its commit past the stale window loses: another machine publishes, the paused one resumes, retries from the new state and publishes nothing stale', async () => {
    const r = await s3Repo();
    const env = await s3Env({ TUFPIP_S3_STALE_MS: '1500' });
    const b = secondMachine(r.dir, path.join(r.base, 'b'));
    const wa = await writeWheel(path.join(r.base, 'w'), { name: 'paused', version: '1.0' });
    const wb = await writeWheel(path.join(r.base, 'w'), { name: 'other', version: '1.0' });
    const paused = startCommand(process.execPath, ['--import', preload('s3-stall'), REPO_BIN, 'add', r.dir, wa, '--json'], { env: { ...env, TUFPIP_TEST_STOP_BEFORE_COMMIT: '1' } });
    await paused.line('stopped before commit');
    // Machine B publishes while A is paused (after A's objects count as abandoned).
    const other = expectOk(await tufpipRepo(['add', b, wb, '--json'], { env }), 'add on machine B');
    expect(jsonOf<{ commit: { timestampVersion: number } }>(other).commit.timestampVersion).to.equal(2);
    expect((await published(r)).timestampVersion).to.equal(2);
    paused.child.kill('SIGCONT');
    const res = await paused.done;
    expect(res.code, res.stderr).to.equal(0);
    expect(retriesIn(res.stderr)).to.be.greaterThan(0);
    expect(jsonOf<{ retries?: number }>(res).retries, '--json counts the retries').to.equal(retriesIn(res.stderr));
    expect(res.stderr).to.match(/stalled|changed while this command ran/);
    expect(jsonOf<{ commit: { timestampVersion: number } }>(res).commit.timestampVersion).to.equal(3);
    const state = await published(r);
    expect(state.timestampVersion).to.equal(3);
    expect([...state.targets.keys()]).to.include.members(['packages/paused/paused-1.0-py3-none-any.whl', 'packages/other/other-1.0-py3-none-any.whl']);
    const view = await new TufClient(r.url, r.root1).view(['packages/paused/paused-1.0-py3-none-any.whl', 'packages/other/other-1.0-py3-none-any.whl']);
    expect(view.missing).to.deep.equal([]);
    expectOk(await tufpipRepo(['verify', r.dir], { env }), 'verify');
    expect(fs.existsSync(path.join(r.dir, 'lock'))).to.equal(false);
  });
});
