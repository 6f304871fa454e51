// One writer at a time per metadata directory: an in-process queue (several IndexClients or
// concurrent proxy requests in one process) and a cross-process lock (proper-lockfile: a
// `<dir>.lock` directory beside the metadata directory, refreshed while held, taken over when stale
// after a crash). tuf-js 5.0.1 has neither (DESIGN.md "Runtime and dependencies").
//
// The cross-process lock lingers for a few milliseconds after each use, so that a burst of calls
// (the verifying proxy looking up forty targets one after another) takes it once instead of forty
// times (~1.5 ms of CPU each, while pip starts on the same cores: issue 3 "Speed"). It is held at
// most MAX_HOLD_MS in a row, so another process waiting for it gets its turn, and proper-lockfile
// removes it when the process exits.
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { TufpipError } from '../metadata/errors.js';

const queues = new Map<string, Promise<unknown>>();

/** How long an unused lock is kept for the next call of this process (ms). */
const LINGER_MS = 20;
/** Longest time the lock is kept across calls before it is released for other processes (ms). */
const MAX_HOLD_MS = 500;

interface Held {
  release: () => Promise<void>;
  since: number;
  compromised?: Error;
  timer?: NodeJS.Timeout;
}

/** Cross-process locks this process holds, by directory (in use or lingering). */
const held = new Map<string, Held>();

export interface LockOptions {
  /** How long to wait for another process (ms). Default 120,000. */
  waitMs?: number;
}

/** Runs `fn` while holding the lock of `dir` (which must exist). */
export async function withMetadataLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
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

async function withProcessLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  let h = held.get(dir);
  if (h && !h.compromised) {
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
    if (lock.compromised || Date.now() - lock.since >= MAX_HOLD_MS) {
      await releaseLock(dir, lock);
    } else {
      lock.timer = setTimeout(() => void releaseLock(dir, lock), LINGER_MS);
      lock.timer.unref(); // never keeps the process alive; proper-lockfile removes it at exit
    }
  }
}

async function acquire(dir: string, opts: LockOptions): Promise<Held> {
  const waitMs = opts.waitMs ?? 120_000;
  const h: Held = { release: async () => undefined, since: 0 };
  try {
    h.release = await lockfile.lock(dir, {
      realpath: false,
      stale: 20_000,
      update: 5_000,
      retries: { retries: Math.ceil(waitMs / 100), factor: 1, minTimeout: 50, maxTimeout: 100 },
      // Our writes are atomic renames, so a lost lock cannot tear a file; note it and go on.
      onCompromised: (err) => {
        h.compromised = err;
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new TufpipError('LOCKED', `another tufpip process holds the metadata lock of ${dir} (waited ${Math.round(waitMs / 1000)} s)`, { cause: err });
    }
    throw new TufpipError('IO', `cannot lock ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  h.since = Date.now();
  return h;
}

async function releaseLock(dir: string, h: Held): Promise<void> {
  clearTimeout(h.timer);
  h.timer = undefined;
  if (held.get(dir) === h) held.delete(dir);
  if (!h.compromised) await h.release().catch(() => undefined);
}
