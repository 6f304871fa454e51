// The one crash and fault harness of the repository tests (repo-crash, repo-faults-*,
// repo-filenames): the real `tufpip-repo` CLI run as a child process that is SIGKILLed at a chosen
// moment (after a delay, a delay after it took the lock, the moment timestamp.json is replaced, or
// at a named point through the kill-at preload), a seeded random generator (a failure replays from
// its seed), run-time estimates that spread the kills over a normal run, and independent checks
// of what a repository publishes and leaves behind: the state after a kill is exactly the previous
// or the next complete one (journal, lock, staging, temporary files, roots).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import lockfile from 'proper-lockfile';
import { preload, REPO_BIN } from './cli.js';
import { readPublished, type PublishedState, type TufClient } from './tuf-client.js';
import { sha256File } from './hash.js';

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from `envName` if set (to replay a failure), else a fresh one. */
export function seedFrom(envName: string): number {
  const raw = process.env[envName];
  return raw !== undefined && raw !== '' ? Number(raw) : Math.floor(Math.random() * 2 ** 31);
}

export const lockDir = (repo: string) => path.join(repo, 'lock');

export interface KillableRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the run was really ended by our SIGKILL. */
  killed: boolean;
  ms: number;
  /** ms from spawn until this run was seen holding the lock (a lock created or refreshed since the spawn). */
  lockSeenMs?: number;
}

export interface KillOptions {
  env?: NodeJS.ProcessEnv;
  /** SIGKILL this long after the spawn. */
  killAfterMs?: number;
  /** SIGKILL this long after the run was seen holding the lock of `watchLock`. */
  killAfterLockMs?: number;
  /** The lock directory to watch (`lockSeenMs`). */
  watchLock?: string;
  /** SIGKILL as soon as this returns true (polled every millisecond). */
  killWhen?: () => boolean;
  /** Extra arguments for node itself (before the script). */
  nodeArgs?: string[];
  /** Run through `sh -c 'ulimit -f N; exec node ...'` (RLIMIT_FSIZE in KiB). */
  fileSizeLimitKiB?: number;
  /** SIGKILL at an exact point of the run (test/helpers/kill-at.ts): opening this file for appending, right after a rename onto it, right after creating a directory whose name starts with `afterMkdir`, or right after removing a directory named `afterRmdir`. */
  killAt?: { beforeAppend?: string; afterRename?: string; afterMkdir?: string; afterRmdir?: string };
}

/** Runs `tufpip-repo ARGS` as a child process, optionally SIGKILLing it at a chosen moment. */
export function runRepoKillable(args: string[], opts: KillOptions = {}): Promise<KillableRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const startedWall = Date.now() - 5; // coarse file-system timestamps
    const at = opts.killAt;
    const argv = [...(at ? ['--import', preload('kill-at')] : []), ...(opts.nodeArgs ?? []), REPO_BIN, ...args];
    const env = { ...(opts.env ?? process.env) };
    if (at?.beforeAppend) env.TUFPIP_TEST_KILL_BEFORE_APPEND = at.beforeAppend;
    if (at?.afterRename) env.TUFPIP_TEST_KILL_AFTER_RENAME = at.afterRename;
    if (at?.afterMkdir) env.TUFPIP_TEST_KILL_AFTER_MKDIR = at.afterMkdir;
    if (at?.afterRmdir) env.TUFPIP_TEST_KILL_AFTER_RMDIR = at.afterRmdir;
    const child =
      opts.fileSizeLimitKiB === undefined
        ? spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('sh', ['-c', `ulimit -f ${opts.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let lockSeenMs: number | undefined;
    const kill = () => {
      if (!killed && child.exitCode === null) killed = child.kill('SIGKILL');
    };
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(kill, opts.killAfterMs);
    let lockTimer: NodeJS.Timeout | undefined;
    const watch = opts.watchLock
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
          if (opts.killAfterLockMs !== undefined) lockTimer = setTimeout(kill, opts.killAfterLockMs);
        }, 1)
      : undefined;
    const poll = opts.killWhen
      ? setInterval(() => {
          if (opts.killWhen!()) kill();
        }, 1)
      : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lockTimer);
      clearInterval(watch);
      clearInterval(poll);
      // A kill-at run kills itself: it counts as killed too.
      resolve({ code, signal, stdout, stderr, killed: (killed || at !== undefined) && signal === 'SIGKILL', ms: performance.now() - started, lockSeenMs });
    });
  });
}

export interface JournalLine {
  txn: string;
  state: 'prepared' | 'done';
  command?: string;
  timestampVersion: number;
}

/** Complete journal lines (a torn last line from a kill is skipped). */
export function journalLines(repo: string): JournalLine[] {
  let text = '';
  try {
    text = fs.readFileSync(path.join(repo, 'journal'), 'utf8');
  } catch {
    return [];
  }
  const out: JournalLine[] = [];
  for (const l of text.split('\n')) {
    try {
      if (l.trim()) out.push(JSON.parse(l) as JournalLine);
    } catch {
      // torn line
    }
  }
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

/** Every file and folder under `dir` (absolute paths). */
export function listTree(dir: string): string[] {
  return walk(dir);
}

/**
 * What a finished (not killed) command must never leave in a repository: the lock, takeover
 * markers, the staging folder, temporary files of atomic writes (`.NAME.PID.RAND.tmp`).
 */
export function leftovers(repo: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(repo)) {
    if (name === 'lock' || name.startsWith('lock.') || name === 'staging') out.push(name);
  }
  for (const p of walk(repo)) if (/\.tmp$/.test(p)) out.push(path.relative(repo, p));
  return out;
}

/** Every `N.root.json` of a repository with its sha256 (roots must never be removed or changed). */
export function rootFiles(repo: string): Map<string, string> {
  const md = path.join(repo, 'site', 'metadata');
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(md).filter((n) => /^\d+\.root\.json$/.test(n)).sort()) out.set(f, sha256File(path.join(md, f)));
  return out;
}

/**
 * Checks that every `targetPath -> sha256` in `expected` is published (in the metadata the
 * timestamp names) with that hash, and that its hash-named copy and its plain name under site/
 * hold those bytes. Returns the problems (empty when all is well).
 */
export function checkPublished(repo: string, expected: Map<string, string>, opts: { plainMayLag?: boolean } = {}): string[] {
  const pub = readPublished(repo);
  const problems: string[] = [];
  for (const [p, sha] of expected) {
    const got = pub.targets.get(p);
    if (!got) {
      problems.push(`${p} is not published (timestamp ${pub.timestampVersion})`);
      continue;
    }
    if (got.sha256 !== sha) problems.push(`${p} is published with sha256 ${got.sha256}, expected ${sha}`);
    const dir = path.join(repo, 'site', ...path.posix.dirname(p).split('/'));
    const hashed = path.join(dir, `${sha}.${path.posix.basename(p)}`);
    if (!fs.existsSync(hashed) || sha256File(hashed) !== sha) problems.push(`${p}: hash-named copy missing or wrong`);
    const plain = path.join(repo, 'site', ...p.split('/'));
    if (!opts.plainMayLag && (!fs.existsSync(plain) || sha256File(plain) !== sha)) problems.push(`${p}: plain name missing or wrong`);
  }
  return problems;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Where in a run a kill lands: uniform over a normal run from the spawn; uniform over the part that holds the lock, from the moment it took it; the moment timestamp.json is replaced. */
export type KillMode = 'uniform' | 'in-lock' | 'at-publish';

/**
 * Durations of normal runs per command (whole run, and the part that holds the lock), so kills
 * spread over a run follow the machine's load: every run that finishes before its kill adds its
 * times, and the median of the last five is used.
 */
export class RunTimes<Cmd extends string> {
  private readonly total = new Map<Cmd, number[]>();
  private readonly held = new Map<Cmd, number[]>();

  /** Records a finished run; the part holding the lock only when it was watched (`watchLock`). */
  note(cmd: Cmd, r: KillableRun): void {
    if (!this.total.has(cmd)) (this.total.set(cmd, []), this.held.set(cmd, []));
    this.total.get(cmd)!.push(r.ms);
    if (r.lockSeenMs !== undefined) this.held.get(cmd)!.push(r.ms - r.lockSeenMs);
  }

  /** Median of the last five durations of `cmd`: whole runs, or the lock-holding part. */
  recent(cmd: Cmd, part: 'run' | 'held'): number {
    return median((part === 'run' ? this.total : this.held).get(cmd)?.slice(-5) ?? []);
  }

  /** The kill options for `mode`, with `fraction` (in [0, 1)) of the matching recent duration as the delay. */
  kill(repo: string, cmd: Cmd, mode: KillMode, fraction: number, env: NodeJS.ProcessEnv): { opts: KillOptions; delay: number } {
    const delay = fraction * this.recent(cmd, mode === 'uniform' ? 'run' : 'held');
    if (mode === 'uniform') return { opts: { env, killAfterMs: delay }, delay };
    if (mode === 'in-lock') return { opts: { env, killAfterLockMs: delay, watchLock: lockDir(repo) }, delay };
    // At publication: the moment timestamp.json is replaced (its inode changes), i.e. during the
    // post steps (plain-named pages, removals) and the closing journal entry.
    const tsFile = path.join(repo, 'site', 'metadata', 'timestamp.json');
    const tsIno = fs.statSync(tsFile).ino;
    return { opts: { env, killWhen: () => fs.statSync(tsFile).ino !== tsIno }, delay };
  }
}

/** Waits until no live process holds the repository lock (a dead one's lock goes stale after `staleMs`). */
export async function waitLockFreeOrStale(repo: string, staleMs: number): Promise<void> {
  while (await lockfile.check(repo, { lockfilePath: lockDir(repo), stale: staleMs, realpath: false })) await new Promise((r) => setTimeout(r, 50));
}

/** mtime of the lock directory, or 0 (a holder creates it with an mtime >= now and refreshes it). */
export function lockMtime(repo: string): number {
  try {
    return fs.statSync(lockDir(repo)).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Starts `tufpip-repo ARGS` and SIGKILLs it the moment it holds the repository lock, so that it
 * leaves a stale lock behind for sure (the next writer must take it over and clean up).
 */
export async function killLockHolder(repo: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const spawnedAt = Date.now() - 5; // coarse file-system timestamps
  const child = spawn(process.execPath, [REPO_BIN, ...args], { env, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  while (lockMtime(repo) < spawnedAt && child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
  child.kill('SIGKILL');
  await exited;
  expect(fs.existsSync(lockDir(repo)), 'the killed run left its lock behind').to.equal(true);
}

/** The target path `tufpip-repo add` publishes a wheel or sdist under (packages/PROJECT/FILE). */
export function targetOf(file: string): string {
  const base = path.basename(file);
  const project = base
    .replace(/(-[^-]+-py3-none-any\.whl|-[^-]+\.tar\.gz)$/, '')
    .replace(/[-_.]+/g, '-')
    .toLowerCase();
  return `packages/${project}/${base}`;
}

/** Whether two published states list the same targets with the same hashes. */
export function sameTargets(a: PublishedState, b: PublishedState): boolean {
  if (a.targets.size !== b.targets.size) return false;
  for (const [p, t] of a.targets) if (b.targets.get(p)?.sha256 !== t.sha256) return false;
  return true;
}

export interface OldOrNew {
  pre: PublishedState;
  post: PublishedState;
  /** The command run: add and sync publish `files`; bump re-signs; gc publishes nothing. */
  cmd: 'add' | 'sync' | 'bump' | 'gc';
  /** The distributions the run was given (add, sync). */
  files: string[];
  killed: boolean;
  what: string;
  /** Also check the non-package targets added (the simple pages of these new projects' pages), exactly. */
  newPages?: string[];
}

/**
 * After a run (killed or not), the published state is exactly the previous one or exactly the
 * next complete one: timestamp unchanged and same targets (only possible for a killed run, or a
 * gc), or timestamp + 1 with the same targets (bump) or the previous targets plus exactly this
 * run's new files, with their hashes (add, sync). Returns whether the state is the next one.
 */
export function expectOldOrNew(c: OldOrNew): boolean {
  const { pre, post, what } = c;
  if (post.timestampVersion === pre.timestampVersion) {
    expect(post.snapshotVersion, `${what}: timestamp unchanged but snapshot changed`).to.equal(pre.snapshotVersion);
    expect(sameTargets(pre, post), `${what}: timestamp unchanged but targets changed`).to.equal(true);
    if (c.cmd !== 'gc') expect(c.killed, `${what}: a finished ${c.cmd} published nothing`).to.equal(true);
    return false;
  }
  expect(c.cmd, `${what}: gc never publishes`).to.not.equal('gc');
  expect(post.timestampVersion, what).to.equal(pre.timestampVersion + 1);
  if (c.cmd === 'bump') {
    expect(sameTargets(pre, post), `${what}: bump changed targets`).to.equal(true);
    return true;
  }
  const newPaths = c.files.map(targetOf);
  const added = [...post.targets.keys()].filter((p) => !pre.targets.has(p) && p.startsWith('packages/')).sort();
  expect(added, `${what}: exactly this run's new files were published`).to.deep.equal([...new Set(newPaths.filter((p) => !pre.targets.has(p)))].sort());
  if (c.newPages) {
    const pages = [...post.targets.keys()].filter((p) => !pre.targets.has(p) && !p.startsWith('packages/')).sort();
    expect(pages, `${what}: exactly the new projects' pages were published`).to.deep.equal([...c.newPages].sort());
  }
  for (const [p, t] of pre.targets) if (p.startsWith('packages/')) expect(post.targets.get(p)?.sha256, `${what}: ${p} kept`).to.equal(t.sha256);
  for (const f of c.files) expect(post.targets.get(targetOf(f))?.sha256, `${what}: ${f}`).to.equal(sha256File(f));
  return true;
}

/** A client that held the state before a kill refreshes and lands exactly on the published state. */
export async function expectClientLandsOn(client: TufClient, post: PublishedState, what: string): Promise<void> {
  await client
    .updater()
    .refresh()
    .catch((err: Error) => {
      throw new Error(`${what}: the client could not update: ${err.constructor.name}: ${err.message}`);
    });
  expect(client.cachedVersions().timestampVersion, what).to.equal(post.timestampVersion);
}
