// Shared machinery of the repository fault tests (test/repo-faults-*.test.ts): a seeded random
// generator (a failure replays from its seed), the real `tufpip-repo` CLI run as a child process
// that can be SIGKILLed at a chosen moment, and independent checks of what a repository publishes
// and leaves behind (journal, lock, staging, temporary files, roots).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_BIN } from './cli.js';
import { readPublished } from './tuf-client.js';

/** Whether a process with this pid is still running. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
}

/** Runs `tufpip-repo ARGS` as a child process, optionally SIGKILLing it at a chosen moment. */
export function runRepoKillable(args: string[], opts: KillOptions = {}): Promise<KillableRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const startedWall = Date.now() - 5; // coarse file-system timestamps
    const argv = [...(opts.nodeArgs ?? []), REPO_BIN, ...args];
    const child =
      opts.fileSizeLimitKiB === undefined
        ? spawn(process.execPath, argv, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('sh', ['-c', `ulimit -f ${opts.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, ...argv], { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      resolve({ code, signal, stdout, stderr, killed: killed && signal === 'SIGKILL', ms: performance.now() - started, lockSeenMs });
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

export function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
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
  for (const f of fs.readdirSync(md).filter((n) => /^\d+\.root\.json$/.test(n)).sort()) out.set(f, sha256Of(path.join(md, f)));
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
    if (!fs.existsSync(hashed) || sha256Of(hashed) !== sha) problems.push(`${p}: hash-named copy missing or wrong`);
    const plain = path.join(repo, 'site', ...p.split('/'));
    if (!opts.plainMayLag && (!fs.existsSync(plain) || sha256Of(plain) !== sha)) problems.push(`${p}: plain name missing or wrong`);
  }
  return problems;
}

/** Resolves when `fn` returns true (polled), or rejects after `ms`. */
export async function waitFor(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
