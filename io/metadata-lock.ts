// One writer at a time per metadata directory: an in-process queue (several IndexClients or
// concurrent proxy requests in one process) and a cross-process lock (io/lock.ts: a `<dir>.lock`
// directory beside the metadata directory, refreshed while held, taken over when stale after a
// crash). tuf-js 5.0.1 has neither (DESIGN.md "Runtime and dependencies").
//
// The cross-process lock lingers for a few milliseconds after each use, so that a burst of calls
// (the verifying proxy looking up forty targets one after another) takes it once instead of forty
// times (~1.5 ms of CPU each, while pip starts on the same cores: issue 3 "Speed"). It is held at
// most MAX_HOLD_MS in a row, so another process waiting for it gets its turn, and proper-lockfile
// removes it when the process exits.
import path from 'node:path';
import { TufpipError } from '../metadata/errors.js';
import { acquireDirLock, type DirLock } from './lock.js';

const queues = new Map<string, Promise<unknown>>();

/** How long an unused lock is kept for the next call of this process (ms). */
const LINGER_MS = 20;
/** Longest time the lock is kept across calls before it is released for other processes (ms). */
const MAX_HOLD_MS = 500;

interface Held {
  lock: DirLock;
  since: number;
  timer?: NodeJS.Timeout;
}

/** Cross-process locks this process holds, by directory (in use or lingering). */
const held = new Map<string, Held>();

export interface MetadataLockOptions {
  /** How long to wait for another process (ms). Default 120,000. */
  waitMs?: number;
}

/** Runs `fn` while holding the lock of `dir` (which must exist). */
export async function withMetadataLock<T>(dir: string, fn: () => Promise<T>, opts: MetadataLockOptions = {}): Promise<T> {
  const key = path.resolve(dir);
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => withProcessLock(key, fn, opts));
  queues.set(key, run);
  try {
    return await run;
  } finally {
    if (queues.get(key) === run) queues.delete(key);
  }
}

async function withProcessLock<T>(dir: string, fn: () => Promise<T>, opts: MetadataLockOptions): Promise<T> {
  let h = held.get(dir);
  if (h && !h.lock.compromised()) {
    clearTimeout(h.timer);
    h.timer = undefined;
  } else {
    h = await acquire(dir, opts);
    held.set(dir, h);
  }
  const lock = h;
  try {
    return await fn();
  } finally {
    if (lock.lock.compromised() || Date.now() - lock.since >= MAX_HOLD_MS) {
      await releaseLock(dir, lock);
    } else {
      lock.timer = setTimeout(() => void releaseLock(dir, lock), LINGER_MS);
      lock.timer.unref(); // never keeps the process alive; proper-lockfile removes it at exit
    }
  }
}

async function acquire(dir: string, opts: MetadataLockOptions): Promise<Held> {
  // Our writes are atomic renames, so a lost (compromised) lock cannot tear a file: the holder
  // finishes its call and takes the lock anew for the next one.
  const lock = await acquireDirLock({
    target: dir,
    waitMs: opts.waitMs ?? 120_000,
    staleMs: 20_000,
    updateMs: 5_000,
    retryMs: [50, 100],
    lockedError: (waited, cause) => new TufpipError('LOCKED', `another tufpip process holds the metadata lock of ${dir} (waited ${Math.round(waited / 1000)} s)`, { cause }),
    ioError: (code, cause) => new TufpipError('IO', `cannot lock ${dir}: ${code}`, { cause }),
  });
  return { lock, since: Date.now() };
}

async function releaseLock(dir: string, h: Held): Promise<void> {
  clearTimeout(h.timer);
  h.timer = undefined;
  if (held.get(dir) === h) held.delete(dir);
  await h.lock.release();
}
