// Issue 2, "What must hold": crash safety with REAL kills. `tufpip-repo add` (several wheels, some
// large) and `tufpip-repo bump --force` are SIGKILLed at random points spread over a whole normal
// run (delays uniform in [0, measured duration]), many times. After each kill:
//   - `tufpip-repo verify DIR` passes (exit 0);
//   - a tuf-js client that had the pre-kill state refreshes and sees either exactly the old or
//     exactly the new state, and every target it resolves downloads and verifies;
// then a normal add (after a kill that left the lock behind) recovers the stale lock and succeeds,
// and every file that some completed add reported is published.
//
// The lock's stale time is lowered to 2 s for the child processes (TUFPIP_LOCK_STALE_MS, see
// repo-tools/storage/lock.ts) so that 40 kills fit in about two minutes. Delays come from a seeded
// generator: rerun a failure with TUFPIP_CRASH_SEED=<seed printed in the failure message>.
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
const KILLS = 40;
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

interface Run extends RunResult {
  killed: boolean;
  ms: number;
}

/** Runs the CLI; SIGKILLs it after `killAfterMs` if it is still running. */
function runRepo(args: string[], killAfterMs?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [REPO_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed: killed && signal === 'SIGKILL', ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

function lockPresent(repo: string): boolean {
  return fs.existsSync(path.join(repo, 'lock'));
}

/** mtime of the lock directory, or 0 (a holder creates it and refreshes its mtime every second). */
function lockMtime(repo: string): number {
  try {
    return fs.statSync(path.join(repo, 'lock')).mtimeMs;
  } catch {
    return 0;
  }
}

/** True if the journal's last complete line is a transaction that was prepared but not closed. */
function journalOpen(repo: string): boolean {
  const lines = fs.readFileSync(path.join(repo, 'journal'), 'utf8').split('\n').filter((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return (JSON.parse(lines[i]) as { state: string }).state === 'prepared';
    } catch {
      // torn last line
    }
  }
  return false;
}

/** Waits until no live process holds the lock (a dead one's lock goes stale after STALE_MS). */
async function waitLockFreeOrStale(repo: string): Promise<void> {
  while (await lockfile.check(repo, { lockfilePath: path.join(repo, 'lock'), stale: STALE_MS, realpath: false })) {
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

  /** A new batch of distributions: a 2 MB wheel (every other batch), a new version of a shared project, an sdist. */
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
    const out = JSON.parse(r.stdout) as { files: { targetPath: string; sha256: string }[] };
    for (const f of out.files) reported.set(f.targetPath, f.sha256);
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
    expectOk(await tufpipRepo(['init', repo, '--url', 'http://127.0.0.1:8080/', '--bins', '16']), 'init');
    server = await serveRepo(repo, { host: '127.0.0.1', port: 0 });
    client = new TufClient(server.url, path.join(repo, 'site', 'metadata', '1.root.json'));
  });

  after(async () => {
    await server?.close();
  });

  it(`survives ${KILLS} SIGKILLs at random points (seed ${SEED}); verify passes and a client sees the old or the new state after each`, async () => {
    const random = rng(SEED);
    const ctx = (what: string) => `[seed ${SEED}] ${what}`;

    // 1. Normal runs: their durations bound the kill delays (and their files must stay published).
    const durations = { add: [] as number[], bump: [] as number[] };
    for (let i = 0; i < 3; i++) {
      const a = await runRepo(['add', repo, '--json', ...(await newBatch())]);
      expectOk(a, 'normal add');
      record(a);
      durations.add.push(a.ms);
      const b = await runRepo(['bump', repo, '--force', '--json']);
      expectOk(b, 'normal bump --force');
      durations.bump.push(b.ms);
    }
    const duration = { add: median(durations.add), bump: median(durations.bump) };

    // 2. The kills.
    // What the kills hit (for the log): before taking the lock, holding it, mid-publication.
    const stats = { killed: 0, finished: 0, beforeLock: 0, holdingLock: 0, journalOpen: 0, published: 0 };
    for (let k = 0; k < KILLS; k++) {
      const kind = k % 2 === 0 ? 'add' : 'bump';
      await waitLockFreeOrStale(repo);
      await client.updater().refresh(); // the client holds the pre-kill state
      const pre = readPublished(repo);
      expect(client.cachedVersions().timestampVersion).to.equal(pre.timestampVersion);

      const files = kind === 'add' ? await newBatch() : [];
      const spawnedAt = Date.now() - 5; // coarse file-system timestamps
      const delay = random() * duration[kind];
      const r = await runRepo(kind === 'add' ? ['add', repo, '--json', ...files] : ['bump', repo, '--force', '--json'], delay);
      const what = ctx(`kill ${k + 1}/${KILLS}: ${kind} SIGKILLed after ${delay.toFixed(0)} ms`);
      if (r.killed) {
        stats.killed++;
        if (lockMtime(repo) >= spawnedAt) stats.holdingLock++;
        else stats.beforeLock++;
        if (journalOpen(repo)) stats.journalOpen++;
      } else {
        expectOk(r, `${what} (it finished first)`);
        stats.finished++;
        if (kind === 'add') record(r);
      }

      // verify passes on the repository as it is right after the kill.
      const v = await runRepo(['verify', repo]);
      expect(v.code, `${what}: verify failed:\n${v.stdout}\n${v.stderr}`).to.equal(0);

      // The published state is exactly the old one or exactly the new one.
      const post = readPublished(repo);
      const newPaths = packagePaths(files);
      if (post.timestampVersion === pre.timestampVersion) {
        expect(r.killed, `${what}: a finished command published nothing`).to.equal(true);
        expect(post.snapshotVersion).to.equal(pre.snapshotVersion);
        expect(sameTargets(pre, post), `${what}: timestamp unchanged but targets changed`).to.equal(true);
      } else {
        expect(post.timestampVersion, what).to.equal(pre.timestampVersion + 1);
        stats.published += r.killed ? 1 : 0;
        if (kind === 'bump') expect(sameTargets(pre, post), `${what}: bump changed targets`).to.equal(true);
        else {
          expect([...post.targets.keys()].filter((p) => !pre.targets.has(p)).sort()).to.deep.equal(
            [...newPaths.map(([p]) => p), ...newPaths.filter(([p]) => !p.startsWith('packages/common/')).map(([p]) => `simple/${p.split('/')[1]}/index.html`)].sort(),
          );
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
    console.log(
      `      crash test (seed ${SEED}): normal add ${duration.add.toFixed(0)} ms, bump ${duration.bump.toFixed(0)} ms; ` +
        `${stats.killed} killed: ${stats.beforeLock} before taking the lock, ${stats.holdingLock} holding it ` +
        `(${stats.journalOpen} with a transaction prepared but not closed, ${stats.published} after publishing timestamp.json); ` +
        `${stats.finished} finished before the kill`,
    );
    expect(stats.killed, ctx('most runs were really killed')).to.be.greaterThan(KILLS / 4);

    // 3. Leave a stale lock for sure (kill an add while it holds the lock), then a normal add recovers it.
    await waitLockFreeOrStale(repo);
    const files = await newBatch();
    const child = spawn(process.execPath, [REPO_BIN, 'add', repo, ...files], { env, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    while (!lockPresent(repo) && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    const last = await newBatch();
    const normal = await runRepo(['add', repo, '--json', ...last]);
    expectOk(normal, 'add after the kills (takes over the stale lock)');
    record(normal);
    expect(lockPresent(repo), 'the lock is released').to.equal(false);
    const v = await runRepo(['verify', repo]);
    expect(v.code, `final verify:\n${v.stdout}\n${v.stderr}`).to.equal(0);

    // 4. Every file that some completed add reported is published, with the reported hash.
    const final = readPublished(repo);
    expect(reported.size).to.be.greaterThan(0);
    for (const [p, sha] of reported) expect(final.targets.get(p)?.sha256, ctx(`${p} reported by a completed add`)).to.equal(sha);
    const view = await client.view(final.targets.keys());
    expect(view.missing).to.deep.equal([]);
  });
});
