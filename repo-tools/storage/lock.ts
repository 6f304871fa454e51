// The repository lock: every mutating command holds it (PEP 458: snapshots are produced strictly
// in sequence). proper-lockfile uses an atomic mkdir and refreshes the lock's mtime while held,
// so a lock left by a killed process goes stale and is taken over safely.
//
// TUFPIP_LOCK_STALE_MS (environment, milliseconds) overrides the default stale time of 10 s when
// no `staleMs` option is given. proper-lockfile never goes below 2000. Meant for tests that kill
// writers on purpose (test/repo-crash.test.ts); operators should leave it unset.
import lockfile from 'proper-lockfile';
import { TufpipError } from '../../metadata/errors.js';

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

/** TUFPIP_LOCK_STALE_MS, if set to a positive integer (added for the crash-safety test). */
function staleMsFromEnv(): number | undefined {
  const raw = process.env.TUFPIP_LOCK_STALE_MS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new TufpipError('USAGE', `TUFPIP_LOCK_STALE_MS must be a positive integer number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

export async function withRepoLock<T>(repoDir: string, fn: (lock: LockHandle) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const waitMs = opts.waitMs ?? 10 * 60_000;
  const staleMs = opts.staleMs ?? staleMsFromEnv() ?? 10_000;
  let release: () => Promise<void>;
  let compromised: Error | undefined;
  try {
    release = await lockfile.lock(repoDir, {
      lockfilePath: `${repoDir}/lock`,
      stale: staleMs,
      update: Math.max(1000, Math.floor(staleMs / 3)),
      realpath: false,
      retries: { retries: Math.ceil(waitMs / 200), factor: 1, minTimeout: 100, maxTimeout: 200, randomize: true },
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    throw new TufpipError('LOCKED', `repository ${repoDir} is locked by another tufpip-repo process (waited ${Math.round(waitMs / 1000)} s)`, { cause: err });
  }
  try {
    const handle: LockHandle = {
      assertHeld() {
        if (compromised) throw new TufpipError('LOCKED', 'the repository lock was taken over while this command ran', { cause: compromised });
      },
    };
    const result = await fn(handle);
    handle.assertHeld();
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}
