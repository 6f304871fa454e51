// Issue 2, "What must hold": crash safety with REAL kills. `tufpip-repo add` (several wheels, some
// large) and `tufpip-repo bump --force` are SIGKILLed at random points, many times:
//   - 30 kills with delays uniform in [0, duration of a normal run] (spread over the whole run,
//     most of which is process start-up and checking the inputs), then
//   - 14 kills with delays uniform over the part of a normal run in which it holds the lock (the
//     transaction itself: signing, writing versioned files, timestamp.json, journal, post steps),
//     counted from the moment the run takes the lock, then
//   - 6 kills the moment timestamp.json is replaced (post steps and closing journal entry pending:
//     the next command must finish them).
// After each kill:
//   - `tufpip-repo verify DIR` passes (exit 0);
//   - the published state is exactly the old one or exactly the new one;
//   - a tuf-js client that had the pre-kill state refreshes and sees exactly the published state, and
//     every target it resolves downloads and verifies;
// then a normal add after a kill that left the lock behind recovers the stale lock and succeeds,
// and every file that some completed add reported is published. A run that finishes before its
// kill is checked the same way but does not count towards the number of kills; durations are
// re-estimated from such runs, so the spread follows the machine's load.
//
// The lock's stale time is lowered to 2 s for the child processes (TUFPIP_LOCK_STALE_MS, see
// io/lock.ts) so the kills fit in about two minutes. Delays come from a seeded
// generator: replay a failure with TUFPIP_CRASH_SEED=<the seed in the failure message>. The
// kills, timings and checks are the crash harness's (test/helpers/faults.ts), shared with
// test/repo-faults-crash.test.ts.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk, makeRepo, serve } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { readPublished, TufClient } from './helpers/tuf-client.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { expectOldOrNew, journalLines, killLockHolder, leftovers, lockDir, lockMtime, rng, RunTimes, runRepoKillable, seedFrom, targetOf, waitLockFreeOrStale, type KillableRun } from './helpers/faults.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';

const STALE_MS = 2000;
const UNIFORM_KILLS = 30;
const IN_LOCK_KILLS = 14;
const AT_PUBLISH_KILLS = 6;
const env = { ...process.env, TUFPIP_LOCK_STALE_MS: String(STALE_MS) };
const SEED = seedFrom('TUFPIP_CRASH_SEED');

describe('repo: crash safety with real SIGKILLs (add, bump --force)', function () {
  this.timeout(600_000);
  let repo: string;
  let dists: string;
  let server: RunningServer;
  let client: TufClient;
  /** target path -> sha256 of every file some completed add reported. */
  const reported = new Map<string, string>();
  let batch = 0;

  /** New distributions: a large wheel (2 MB every other batch), a new version of a shared project, an sdist. */
  async function newBatch(): Promise<string[]> {
    const i = batch++;
    const dir = path.join(dists, `b${i}`);
    return [
      await writeWheel(dir, { name: `big${i}`, version: '1.0', padding: i % 2 === 0 ? 2_000_000 : 400_000 }),
      await writeWheel(dir, { name: 'common', version: `1.${i}`, deps: ['big0'] }),
      writeSdist(dir, `small${i}`, '1.0'),
    ];
  }

  function record(r: KillableRun): void {
    for (const f of (JSON.parse(r.stdout) as { files: { targetPath: string; sha256: string }[] }).files) reported.set(f.targetPath, f.sha256);
  }

  before(async () => {
    const base = tmpDir('tufpip-crash-');
    repo = path.join(base, 'repo');
    dists = path.join(base, 'dists');
    await makeRepo({ dir: repo, bins: 64 });
    server = await serve(repo);
    client = new TufClient(server.url, path.join(repo, 'site', 'metadata', '1.root.json'));
  });

  after(async () => {
    await server?.close();
  });

  it(`survives ${UNIFORM_KILLS + IN_LOCK_KILLS + AT_PUBLISH_KILLS} SIGKILLs at random points (seed ${SEED}); after each, verify passes and a client sees the old or the new state`, async () => {
    const random = rng(SEED);
    const ctx = (what: string) => `[TUFPIP_CRASH_SEED=${SEED}] ${what}`;

    // 1. Normal runs: how long a run takes and when it takes the lock (their files must stay published).
    const times = new RunTimes<'add' | 'bump'>();
    for (let i = 0; i < 3; i++) {
      const a = await runRepoKillable(['add', repo, '--json', ...(await newBatch())], { env, watchLock: lockDir(repo) });
      expectOk(a, 'normal add');
      record(a);
      times.note('add', a);
      const b = await runRepoKillable(['bump', repo, '--force', '--json'], { env, watchLock: lockDir(repo) });
      expectOk(b, 'normal bump --force');
      times.note('bump', b);
    }

    // 2. The kills. A run that finishes before its kill is checked the same way but does not
    //    count: each phase goes on until it has its number of real kills (at most 3x attempts).
    const stats = { killed: 0, finished: 0, beforeLock: 0, lockNothingPrepared: 0, preparedNotPublished: 0, publishedNotClosed: 0, closed: 0 };
    const phases = [
      ['uniform', UNIFORM_KILLS],
      ['in-lock', IN_LOCK_KILLS],
      ['at-publish', AT_PUBLISH_KILLS],
    ] as const;
    const total = UNIFORM_KILLS + IN_LOCK_KILLS + AT_PUBLISH_KILLS;
    for (const [phase, quota] of phases) {
      let kills = 0;
      for (let attempt = 0; kills < quota && attempt < 3 * quota; attempt++) {
        const kind = attempt % 2 === 0 ? 'add' : 'bump';
        await waitLockFreeOrStale(repo, STALE_MS);
        await client.updater().refresh(); // the client holds the pre-kill state
        const pre = readPublished(repo);
        expect(client.cachedVersions().timestampVersion).to.equal(pre.timestampVersion);
        const preJournal = journalLines(repo).length;

        const files = kind === 'add' ? await newBatch() : [];
        const spawnedAt = Date.now() - 5;
        const args = kind === 'add' ? ['add', repo, '--json', ...files] : ['bump', repo, '--force', '--json'];
        const { opts, delay } = times.kill(repo, kind, phase, random(), env);
        const r = await runRepoKillable(args, opts);
        const when = { uniform: `${delay.toFixed(0)} ms after its start`, 'in-lock': `${delay.toFixed(0)} ms after it took the lock`, 'at-publish': 'when timestamp.json was replaced' }[phase];
        const what = ctx(`${phase} kill ${kills + 1}/${quota} (attempt ${attempt + 1}): ${kind} SIGKILLed ${when}`);
        if (r.killed) kills++;
        else {
          expectOk(r, `${what} (it finished first)`);
          stats.finished++;
          times.note(kind, r);
          if (kind === 'add') record(r);
        }
        // The lock's and the journal's state right after the kill (for the log), before verify.
        const lockTaken = lockMtime(repo) >= spawnedAt;
        const newLines = journalLines(repo).slice(preJournal);

        // verify passes on the repository as it is right after the kill.
        const v = await runRepoKillable(['verify', repo], { env });
        expect(v.code, `${what}: verify failed:\n${v.stdout}\n${v.stderr}`).to.equal(0);

        const post = readPublished(repo);
        if (r.killed) {
          stats.killed++;
          const last = newLines.at(-1);
          if (post.timestampVersion !== pre.timestampVersion) stats[last?.state === 'done' ? 'closed' : 'publishedNotClosed']++;
          else if (newLines.some((l) => l.state === 'prepared' && l.timestampVersion === pre.timestampVersion + 1)) stats.preparedNotPublished++;
          else if (lockTaken) stats.lockNothingPrepared++;
          else stats.beforeLock++;
        }

        // The published state is exactly the old one or exactly the new one (with the simple
        // pages of the new projects: every one but the shared project).
        const newPaths = files.map(targetOf);
        const newPages = newPaths.filter((p) => !p.startsWith('packages/common/')).map((p) => `simple/${p.split('/')[1]}/index.html`);
        expectOldOrNew({ pre, post, cmd: kind, files, killed: r.killed, what, newPages });

        // The client that had the pre-kill state: refresh works, and it sees exactly `post`.
        const asked = new Set([...pre.targets.keys(), ...post.targets.keys(), ...newPaths]);
        const view = await client.view(asked).catch((err: Error) => {
          throw new Error(`${what}: the client could not update: ${err.constructor.name}: ${err.message}`);
        });
        expect(view.timestampVersion, what).to.equal(post.timestampVersion);
        expect([...view.resolved.keys()].sort(), what).to.deep.equal([...post.targets.keys()].sort());
        for (const [p, t] of post.targets) expect(view.resolved.get(p)?.sha256, `${what}: ${p}`).to.equal(t.sha256);
      }
      expect(kills, ctx(`${phase}: ${quota} runs really killed`)).to.equal(quota);
    }
    console.log(
      `      seed ${SEED}; add ${times.recent('add', 'run').toFixed(0)} ms (lock held ${times.recent('add', 'held').toFixed(0)}), bump --force ${times.recent('bump', 'run').toFixed(0)} ms (lock held ${times.recent('bump', 'held').toFixed(0)});\n` +
        `      ${stats.killed} killed: ${stats.beforeLock} before taking the lock, ${stats.lockNothingPrepared} holding it before the journal entry, ` +
        `${stats.preparedNotPublished} prepared but not published, ${stats.publishedNotClosed} published but not closed, ${stats.closed} after closing; ` +
        `${stats.finished} finished before the kill`,
    );
    expect(stats.killed).to.equal(total);

    // 3. Leave a stale lock for sure (kill an add as soon as it holds the lock), then a normal add
    //    waits for it to go stale, takes it over, finishes or abandons the journal, and succeeds.
    await waitLockFreeOrStale(repo, STALE_MS);
    await killLockHolder(repo, ['add', repo, ...(await newBatch())], env);
    const normal = await runRepoKillable(['add', repo, '--json', ...(await newBatch())], { env });
    expectOk(normal, 'add after the kills (takes over the stale lock)');
    record(normal);
    expect(fs.existsSync(lockDir(repo)), 'the lock is released').to.equal(false);
    const v = await runRepoKillable(['verify', repo], { env });
    expect(v.code, `final verify:\n${v.stdout}\n${v.stderr}`).to.equal(0);
    expect(journalLines(repo).at(-1)!.state, 'the journal is closed').to.equal('done');

    // 4. Every file that some completed add reported is published, with the reported hash.
    const final = readPublished(repo);
    expect(reported.size).to.be.greaterThan(0);
    for (const [p, sha] of reported) expect(final.targets.get(p)?.sha256, ctx(`${p} reported by a completed add`)).to.equal(sha);
    const view = await client.view(final.targets.keys());
    expect(view.missing).to.deep.equal([]);
    expect(view.timestampVersion).to.equal(final.timestampVersion);
  });
});

// io/lock.ts: a stale lock is taken over under a marker directory `lock.takeover-<ino>-<mtime>`.
// A waiter SIGKILLed in the middle of a takeover leaves that marker; the next command must still
// take the lock and leave nothing behind (the marker either names the stale lock, and goes stale
// itself, or the lock it named is gone and the next holder sweeps it).
describe('repo: a waiter SIGKILLed while taking over a stale lock', function () {
  this.timeout(120_000);
  const points = [
    { name: 'right after creating its takeover marker (the stale lock still there)', killAt: { afterMkdir: 'lock.takeover-' }, lockLeft: true },
    { name: 'right after removing the stale lock (its marker left alone)', killAt: { afterRmdir: 'lock' }, lockLeft: false },
  ];
  for (const point of points) {
    it(`killed ${point.name}: the next add takes the lock, publishes, and leaves no lock, marker or staging behind`, async () => {
      const base = tmpDir('tufpip-takeover-');
      const repo = path.join(base, 'repo');
      await makeRepo({ dir: repo, bins: 4 });
      await killLockHolder(repo, ['add', repo, await writeWheel(path.join(base, 'a'), { name: 'victim', version: '1.0' })], env);
      await waitLockFreeOrStale(repo, STALE_MS);
      const killed = await runRepoKillable(['add', repo, await writeWheel(path.join(base, 'b'), { name: 'waiter', version: '1.0' })], { env, killAt: point.killAt });
      expect(killed.killed, `the waiter was killed at its takeover:\n${killed.stderr}`).to.equal(true);
      const names = fs.readdirSync(repo);
      expect(names.filter((n) => n.startsWith('lock.takeover-')), 'the killed waiter left its marker').to.have.length(1);
      expect(names.includes('lock'), 'the stale lock').to.equal(point.lockLeft);

      const file = await writeWheel(path.join(base, 'c'), { name: 'after', version: '1.0' });
      const r = expectOk(await runRepoKillable(['add', repo, '--json', file], { env }), 'the add after the killed takeover');
      expect((JSON.parse(r.stdout) as { files: { targetPath: string }[] }).files.map((f) => f.targetPath)).to.deep.equal([targetOf(file)]);
      expect(leftovers(repo).filter((l) => l !== 'staging'), 'nothing left behind').to.deep.equal([]);
      expectOk(await tufpipRepo(['verify', repo]), 'verify');
    });
  }
});
