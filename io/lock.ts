// Directory locks (proper-lockfile: an atomic mkdir, whose mtime is refreshed while held, so a lock
// left by a killed process goes stale and is taken over). Two uses: the repository lock
// (withRepoLock: every mutating tufpip-repo command holds it; PEP 458: snapshots are produced
// strictly in sequence) and the client's metadata lock (io/metadata-lock.ts).
//
// TUFPIP_LOCK_STALE_MS (environment, milliseconds) overrides the repository lock's default stale
// time of 10 s when no `staleMs` option is given. proper-lockfile never goes below 2000. Meant for
// tests that kill writers on purpose (test/repo-crash.test.ts); operators should leave it unset.
//
// Stale takeover is ours, not proper-lockfile's (test/repo-faults-crash.test.ts): its own takeover
// is stat (stale?) then rmdir, so a waiter whose stat saw the dead process's lock can rmdir the
// FRESH lock another waiter has just created in its place, and both hold it at once (two
// transactions both publish timestamp N+1). Here proper-lockfile only creates, refreshes and
// releases the lock (its own stale check is disabled), and a stale lock is removed by at most one
// waiter per lock instance: the one that creates `<lock>.takeover-<ino>-<mtime>` (atomic mkdir),
// and only if the lock is still that same instance and still stale. A waiter killed inside a
// takeover leaves its marker: it goes stale and is removed by the next waiter of that instance,
// or, once that instance is gone, by the next holder of the lock (sweepMarkers).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { TufpipError } from '../metadata/errors.js';

/** TUFPIP_LOCK_STALE_MS, if set to a positive integer (added for the crash-safety test). */
function staleMsFromEnv(): number | undefined {
  const raw = process.env.TUFPIP_LOCK_STALE_MS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new TufpipError('USAGE', `TUFPIP_LOCK_STALE_MS must be a positive integer number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

/** proper-lockfile's stale check is disabled with this (we take over stale locks ourselves). */
const NEVER_STALE = 365 * 86400_000;

/**
 * Removes the lock at `lockPath` if it is stale, at most one waiter per lock instance (see the
 * header). Returns without doing anything when the lock is fresh, gone, or another waiter is on it.
 */
async function takeOverIfStale(lockPath: string, staleMs: number): Promise<void> {
  const st = await fsp.stat(lockPath).catch(() => undefined);
  if (!st || st.mtimeMs >= Date.now() - staleMs) return;
  const marker = markerOf(lockPath, st);
  try {
    await fsp.mkdir(marker);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another waiter is taking this instance over; its marker is only left behind if it died in
    // the few syscalls below: then the marker itself goes stale and is removed.
    const m = await fsp.stat(marker).catch(() => undefined);
    if (m && m.mtimeMs < Date.now() - staleMs) await fsp.rmdir(marker).catch(() => undefined);
    return;
  }
  try {
    const again = await fsp.stat(lockPath).catch(() => undefined);
    // Still the instance judged stale (a fresh lock has another mtime): nobody else removes it.
    if (again && again.ino === st.ino && again.mtimeMs === st.mtimeMs) await fsp.rmdir(lockPath).catch(() => undefined);
  } finally {
    await fsp.rmdir(marker).catch(() => undefined);
  }
}

/** The takeover marker of one lock instance (its inode and mtime, in µs). */
function markerOf(lockPath: string, st: fs.Stats): string {
  return `${lockPath}.takeover-${st.ino}-${Math.round(st.mtimeMs * 1000)}`;
}

/**
 * Removes the takeover markers of `lockPath` that name another lock instance than the one just
 * acquired (run by the new holder, right after acquiring). Invariant: a marker only guards the
 * removal of the instance it names; every other instance is gone (the lock directory is ours, and
 * fresh, so no waiter judges it stale), so a waiter still inside such a marker re-stats the lock,
 * finds ours, and removes nothing. A waiter killed inside a takeover thus leaves its marker only
 * until the next acquisition.
 */
async function sweepMarkers(lockPath: string): Promise<void> {
  const st = await fsp.stat(lockPath).catch(() => undefined);
  if (!st) return;
  const ours = path.basename(markerOf(lockPath, st));
  const prefix = `${path.basename(lockPath)}.takeover-`;
  const dir = path.dirname(lockPath);
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(prefix) && name !== ours) await fsp.rmdir(path.join(dir, name)).catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How to take a directory lock (acquireDirLock). */
export interface DirLockOptions {
  /** The directory whose lock this is (proper-lockfile's target; it need not exist). */
  target: string;
  /** The lock directory itself. Default `<target>.lock`. */
  lockPath?: string;
  /** How long to wait for another holder (ms). */
  waitMs: number;
  /** A lock not refreshed for this long belongs to a dead process (ms). */
  staleMs: number;
  /** How often the holder refreshes the lock's mtime (ms); below staleMs. */
  updateMs: number;
  /** Pause between two attempts (ms): a random value in [min, max). */
  retryMs: readonly [number, number];
  /** The error when the lock is still held by another process after waitMs. */
  lockedError(waitedMs: number, cause: unknown): Error;
  /** The error when the lock cannot be taken for another reason (`code`: errno name or message). */
  ioError(code: string, cause: unknown): Error;
}

/** A held directory lock. */
export interface DirLock {
  readonly lockPath: string;
  readonly staleMs: number;
  /** Set when proper-lockfile found the lock lost (removed, or its refresh failed). */
  compromised(): Error | undefined;
  /** Releases the lock (never throws; nothing is done for a compromised lock). */
  release(): Promise<void>;
}

/** Takes the lock of `o.target`, waiting up to `o.waitMs` and taking a stale lock over. */
export async function acquireDirLock(o: DirLockOptions): Promise<DirLock> {
  const lockPath = o.lockPath ?? `${o.target}.lock`;
  const deadline = Date.now() + o.waitMs;
  let release: (() => Promise<void>) | undefined;
  let compromised: Error | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      release = await lockfile.lock(o.target, {
        lockfilePath: lockPath,
        stale: NEVER_STALE,
        update: o.updateMs,
        realpath: false,
        retries: 0,
        onCompromised: (err) => {
          compromised = err;
        },
      });
      break;
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') break;
    }
    if (Date.now() >= deadline) break;
    await takeOverIfStale(lockPath, o.staleMs);
    await sleep(o.retryMs[0] + Math.random() * (o.retryMs[1] - o.retryMs[0]));
  }
  if (!release) {
    const code = (lastErr as NodeJS.ErrnoException | undefined)?.code;
    if (code && code !== 'ELOCKED') throw o.ioError(code, lastErr);
    throw o.lockedError(o.waitMs, lastErr);
  }
  const unlock = release;
  await sweepMarkers(lockPath);
  return {
    lockPath,
    staleMs: o.staleMs,
    compromised: () => compromised,
    release: async () => {
      if (!compromised) await unlock().catch(() => undefined);
    },
  };
}

/** Repository lock options (tufpip-repo commands). */
export interface LockOptions {
  /** How long to wait for another writer, in ms (cron `bump` waits for a running `add`). */
  waitMs?: number;
  /** A lock not refreshed for this long belongs to a dead process. */
  staleMs?: number;
}

export interface LockHandle {
  /** Throws if the lock was lost (taken over as stale): call before publishing timestamp.json. */
  assertHeld(): void;
}

/** Runs `fn` holding the repository lock `<repoDir>/lock`; checks it is still held at the end. */
export async function withRepoLock<T>(repoDir: string, fn: (lock: LockHandle) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const staleMs = opts.staleMs ?? staleMsFromEnv() ?? 10_000;
  const lockPath = `${repoDir}/lock`;
  const lock = await acquireDirLock({
    target: repoDir,
    lockPath,
    waitMs: opts.waitMs ?? 10 * 60_000,
    staleMs,
    updateMs: Math.max(1000, Math.floor(staleMs / 3)),
    retryMs: [100, 200],
    lockedError: (waited, cause) => new TufpipError('LOCKED', `repository ${repoDir} is locked by another tufpip-repo process (waited ${Math.round(waited / 1000)} s)`, { cause }),
    ioError: (code, cause) => new TufpipError('IO', `cannot take the repository lock ${lockPath}: ${code}`, { cause }),
  });
  try {
    const handle: LockHandle = {
      assertHeld() {
        const compromised = lock.compromised();
        if (compromised) throw new TufpipError('LOCKED', 'the repository lock was taken over while this command ran', { cause: compromised });
        // Our own lock must not look stale to a waiter now (an event loop blocked for longer
        // than the stale time): a waiter may be taking it over.
        let st: fs.Stats | undefined;
        try {
          st = fs.statSync(lockPath);
        } catch (err) {
          throw new TufpipError('LOCKED', 'the repository lock disappeared while this command ran', { cause: err });
        }
        if (st.mtimeMs < Date.now() - staleMs) throw new TufpipError('LOCKED', 'the repository lock went stale while this command ran (not refreshed in time)');
      },
    };
    const result = await fn(handle);
    handle.assertHeld();
    return result;
  } finally {
    await lock.release();
  }
}
