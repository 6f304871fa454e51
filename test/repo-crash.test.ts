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
// generator: replay a failure with TUFPIP_CRASH_SEED=<the seed in the failure message>.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { REPO_BIN, tufpipRepo, type RunResult } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { readPublished, sha256File, TufClient, type PublishedState } from './helpers/tuf-client.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { serveRepo, type RunningServer } from '../repo-tools/commands/serve.js';

const STALE_MS = 2000;
const UNIFORM_KILLS = 30;
const IN_LOCK_KILLS = 14;
const AT_PUBLISH_KILLS = 6;
const env = { ...process.env, TUFPIP_LOCK_STALE_MS: String(STALE_MS) };
const SEED = Number(process.env.TUFPIP_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const lockDir = (repo: string) => path.join(repo, 'lock');

interface Run extends RunResult {
  killed: boolean;
  ms: number;
  /** ms from spawn until the lock directory was first seen (normal runs only). */
  lockSeenMs?: number;
}

/**
 * Runs the CLI; SIGKILLs it `killAfterMs` after the start, or `killAfterLockMs` after it took the
 * lock (a lock directory created since the start), if still running; can time when it took the lock.
 */
function runRepo(args: string[], opts: { killAfterMs?: number; killAfterLockMs?: number; watchLock?: string; killWhen?: () => boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const startedWall = Date.now() - 5; // coarse file-system timestamps
    const child = spawn(process.execPath, [REPO_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let lockSeenMs: number | undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => (killed = child.kill('SIGKILL')), opts.killAfterMs);
    let lockTimer: NodeJS.Timeout | undefined;
    const watch =
      opts.watchLock
        ? setInterval(() => {
            if (lockSeenMs !== undefined) return;
            let mtime = 0;
            try {
              mtime = fs.statSync(opts.watchLock!).mtimeMs;
            } catch {
              return;
            }
            if (mtime < startedWall) return; // a dead process's stale lock, not this one's
            lockSeenMs = performance.now() - started;
            if (opts.killAfterLockMs !== undefined) lockTimer = setTimeout(() => (killed = child.kill('SIGKILL')), opts.killAfterLockMs);
          }, 1)
        : undefined;
    const poll = opts.killWhen
      ? setInterval(() => {
          if (!killed && opts.killWhen!()) killed = child.kill('SIGKILL');
        }, 1)
      : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lockTimer);
      clearInterval(watch);
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr, killed: killed && signal === 'SIGKILL', ms: performance.now() - started, lockSeenMs });
    });
  });
}

/** mtime of the lock directory, or 0 (a holder creates it with an mtime >= now and refreshes it). */
function lockMtime(repo: string): number {
  try {
    return fs.statSync(lockDir(repo)).mtimeMs;
  } catch {
    return 0;
  }
}

/** Complete journal lines (a torn last line from a kill is skipped). */
function journal(repo: string): { state: string; timestampVersion: number }[] {
  const out = [];
  for (const l of fs.readFileSync(path.join(repo, 'journal'), 'utf8').split('\n')) {
    try {
      if (l.trim()) out.push(JSON.parse(l) as { state: string; timestampVersion: number });
    } catch {
      // torn line
    }
  }
  return out;
}

/** Waits until no live process holds the lock (a dead one's lock goes stale after STALE_MS). */
async function waitLockFreeOrStale(repo: string): Promise<void> {
  while (await lockfile.check(repo, { lockfilePath: lockDir(repo), stale: STALE_MS, realpath: false })) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function sameTargets(a: PublishedState, b: PublishedState): boolean {
  if (a.targets.size !== b.targets.size) return false;
  for (const [p, t] of a.targets) if (b.targets.get(p)?.sha256 !== t.sha256) return false;
  return true;
}

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

  function record(r: RunResult): void {
    for (const f of (JSON.parse(r.stdout) as { files: { targetPath: string; sha256: string }[] }).files) reported.set(f.targetPath, f.sha256);
  }

  const packagePaths = (files: string[]) =>
    files.map((f) => {
      const base = path.basename(f);
      const project = base.replace(/(-[^-]+-py3-none-any\.whl|-[^-]+\.tar\.gz)$/, '').replace(/[-_.]+/g, '-').toLowerCase();
      return [`packages/${project}/${base}`, f] as const;
    });

  before(async () => {
    const base = tmpDir('tufpip-crash-');
    repo = path.join(base, 'repo');
    dists = path.join(base, 'dists');
    expectOk(await tufpipRepo(['init', repo, '--url', 'http://127.0.0.1:8080/', '--bins', '64']), 'init');
    server = await serveRepo(repo, { host: '127.0.0.1', port: 0 });
    client = new TufClient(server.url, path.join(repo, 'site', 'metadata', '1.root.json'));
  });

  after(async () => {
    await server?.close();
  });

  it(`survives ${UNIFORM_KILLS + IN_LOCK_KILLS + AT_PUBLISH_KILLS} SIGKILLs at random points (seed ${SEED}); after each, verify passes and a client sees the old or the new state`, async () => {
    const random = rng(SEED);
    const ctx = (what: string) => `[TUFPIP_CRASH_SEED=${SEED}] ${what}`;

    // 1. Normal runs: how long a run takes and when it takes the lock (their files must stay published).
    const runs = { add: [] as Run[], bump: [] as Run[] };
    for (let i = 0; i < 3; i++) {
      const a = await runRepo(['add', repo, '--json', ...(await newBatch())], { watchLock: lockDir(repo) });
      expectOk(a, 'normal add');
      record(a);
      runs.add.push(a);
      const b = await runRepo(['bump', repo, '--force', '--json'], { watchLock: lockDir(repo) });
      expectOk(b, 'normal bump --force');
      runs.bump.push(b);
    }
    // The estimates follow the machine's load: every run that finishes before its kill adds its
    // duration, and the median of the last five is used.
    const recent = (xs: number[]) => median(xs.slice(-5));
    const durations = { add: runs.add.map((r) => r.ms), bump: runs.bump.map((r) => r.ms) };
    // How long a run holds the lock (from taking it to its exit).
    const held = { add: runs.add.map((r) => r.ms - (r.lockSeenMs ?? 0)), bump: runs.bump.map((r) => r.ms - (r.lockSeenMs ?? 0)) };

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
        await waitLockFreeOrStale(repo);
        await client.updater().refresh(); // the client holds the pre-kill state
        const pre = readPublished(repo);
        expect(client.cachedVersions().timestampVersion).to.equal(pre.timestampVersion);
        const preJournal = journal(repo).length;

        const files = kind === 'add' ? await newBatch() : [];
        // Uniform: anywhere in [0, duration] from the start. In-lock: anywhere in the part of a
        // normal run that holds the lock, counted from the moment this run took it.
        const delay = random() * (phase === 'uniform' ? recent(durations[kind]) : recent(held[kind]));
        const spawnedAt = Date.now() - 5;
        const args = kind === 'add' ? ['add', repo, '--json', ...files] : ['bump', repo, '--force', '--json'];
        // At-publish: the moment timestamp.json is replaced (its inode changes), i.e. during the
        // post steps (plain-named pages, removals) and the closing journal entry.
        const tsFile = path.join(repo, 'site', 'metadata', 'timestamp.json');
        const tsIno = fs.statSync(tsFile).ino;
        const r = await runRepo(
          args,
          phase === 'uniform'
            ? { killAfterMs: delay }
            : phase === 'in-lock'
              ? { killAfterLockMs: delay, watchLock: lockDir(repo) }
              : { killWhen: () => fs.statSync(tsFile).ino !== tsIno },
        );
        const when = { uniform: `${delay.toFixed(0)} ms after its start`, 'in-lock': `${delay.toFixed(0)} ms after it took the lock`, 'at-publish': 'when timestamp.json was replaced' }[phase];
        const what = ctx(`${phase} kill ${kills + 1}/${quota} (attempt ${attempt + 1}): ${kind} SIGKILLed ${when}`);
        if (r.killed) kills++;
        else {
          expectOk(r, `${what} (it finished first)`);
          stats.finished++;
          durations[kind].push(r.ms);
          if (r.lockSeenMs !== undefined) held[kind].push(r.ms - r.lockSeenMs);
          if (kind === 'add') record(r);
        }
        // The lock's and the journal's state right after the kill (for the log), before verify.
        const lockTaken = lockMtime(repo) >= spawnedAt;
        const newLines = journal(repo).slice(preJournal);

        // verify passes on the repository as it is right after the kill.
        const v = await runRepo(['verify', repo]);
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

        // The published state is exactly the old one or exactly the new one.
        const newPaths = packagePaths(files);
        if (post.timestampVersion === pre.timestampVersion) {
          expect(r.killed, `${what}: a finished command published nothing`).to.equal(true);
          expect(post.snapshotVersion).to.equal(pre.snapshotVersion);
          expect(sameTargets(pre, post), `${what}: timestamp unchanged but targets changed`).to.equal(true);
        } else {
          expect(post.timestampVersion, what).to.equal(pre.timestampVersion + 1);
          if (kind === 'bump') expect(sameTargets(pre, post), `${what}: bump changed targets`).to.equal(true);
          else {
            const newPages = newPaths.filter(([p]) => !p.startsWith('packages/common/')).map(([p]) => `simple/${p.split('/')[1]}/index.html`);
            expect([...post.targets.keys()].filter((p) => !pre.targets.has(p)).sort(), what).to.deep.equal([...newPaths.map(([p]) => p), ...newPages].sort());
            for (const [p, t] of pre.targets) if (p.startsWith('packages/')) expect(post.targets.get(p)?.sha256, `${what}: ${p} kept`).to.equal(t.sha256);
            for (const [p, f] of newPaths) expect(post.targets.get(p)?.sha256, `${what}: ${p}`).to.equal(sha256File(f));
          }
        }

        // The client that had the pre-kill state: refresh works, and it sees exactly `post`.
        const asked = new Set([...pre.targets.keys(), ...post.targets.keys(), ...newPaths.map(([p]) => p)]);
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
      `      seed ${SEED}; add ${recent(durations.add).toFixed(0)} ms (lock held ${recent(held.add).toFixed(0)}), bump --force ${recent(durations.bump).toFixed(0)} ms (lock held ${recent(held.bump).toFixed(0)});\n` +
        `      ${stats.killed} killed: ${stats.beforeLock} before taking the lock, ${stats.lockNothingPrepared} holding it before the journal entry, ` +
        `${stats.preparedNotPublished} prepared but not published, ${stats.publishedNotClosed} published but not closed, ${stats.closed} after closing; ` +
        `${stats.finished} finished before the kill`,
    );
    expect(stats.killed).to.equal(total);

    // 3. Leave a stale lock for sure (kill an add as soon as it holds the lock), then a normal add
    //    waits for it to go stale, takes it over, finishes or abandons the journal, and succeeds.
    await waitLockFreeOrStale(repo);
    const files = await newBatch();
    const spawnedAt = Date.now() - 5;
    const child = spawn(process.execPath, [REPO_BIN, 'add', repo, ...files], { env, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    while (lockMtime(repo) < spawnedAt && child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
    child.kill('SIGKILL');
    await exited;
    expect(fs.existsSync(lockDir(repo)), 'the killed add left its lock behind').to.equal(true);
    const normal = await runRepo(['add', repo, '--json', ...(await newBatch())]);
    expectOk(normal, 'add after the kills (takes over the stale lock)');
    record(normal);
    expect(fs.existsSync(lockDir(repo)), 'the lock is released').to.equal(false);
    const v = await runRepo(['verify', repo]);
    expect(v.code, `final verify:\n${v.stdout}\n${v.stderr}`).to.equal(0);
    expect(journal(repo).at(-1)!.state, 'the journal is closed').to.equal('done');

    // 4. Every file that some completed add reported is published, with the reported hash.
    const final = readPublished(repo);
    expect(reported.size).to.be.greaterThan(0);
    for (const [p, sha] of reported) expect(final.targets.get(p)?.sha256, ctx(`${p} reported by a completed add`)).to.equal(sha);
    const view = await client.view(final.targets.keys());
    expect(view.missing).to.deep.equal([]);
    expect(view.timestampVersion).to.equal(final.timestampVersion);
  });
});
