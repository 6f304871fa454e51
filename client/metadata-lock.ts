// One writer at a time per metadata directory: an in-process queue (several IndexClients or
// concurrent proxy requests in one process) and a cross-process lock (proper-lockfile: a
// `<dir>.lock` directory beside the metadata directory, refreshed while held, taken over when stale
// after a crash). tuf-js 5.0.1 has neither (DESIGN.md "Runtime and dependencies").
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { TufpipError } from '../metadata/errors.js';

const queues = new Map<string, Promise<unknown>>();

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
  const waitMs = opts.waitMs ?? 120_000;
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      realpath: false,
      stale: 20_000,
      update: 5_000,
      retries: { retries: Math.ceil(waitMs / 100), factor: 1, minTimeout: 50, maxTimeout: 100 },
      // Our writes are atomic renames, so a lost lock cannot tear a file; note it and go on.
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new TufpipError('LOCKED', `another tufpip process holds the metadata lock of ${dir} (waited ${Math.round(waitMs / 1000)} s)`, { cause: err });
    }
    throw new TufpipError('IO', `cannot lock ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return await fn();
  } finally {
    if (!compromised) await release().catch(() => undefined);
  }
}
