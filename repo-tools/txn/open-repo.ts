// Opens a repository for a mutating command: takes the lock, finishes or abandons a crashed
// transaction (journal), loads the published state, and hands out a RepoContext.
import path from 'node:path';
import { RepoLayout } from '../storage/layout.js';
import { Published } from '../storage/published.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { withRepoLock, type LockHandle, type LockOptions } from '../../io/lock.js';
import { WriterRaceError } from '../storage/storage.js';
import { openStorage } from '../storage/open-storage.js';
import { recoverPublication } from './pipeline.js';
import { loadSigner, type Signer } from '../keys/signer.js';
import type { RepoContext } from './context.js';
import { TufpipError } from '../../metadata/errors.js';
import { signerKeyFile } from '../../metadata/signer-uri.js';

export interface OpenOptions extends LockOptions {
  /** Set by `publish`: the one command that may finish a publish interrupted after its root. */
  finishesPublish?: boolean;
  now?: Date;
  /** Overrides the configured online signer URI (`--online-key`). */
  onlineKey?: string;
  /**
   * Told when another writer published first on shared storage (storage.ts WriterRaceError) and
   * the command starts again from the new published state (default: one line on stderr).
   */
  onRetry?: (attempt: number, reason: string) => void;
}

/** How often a command that lost the race to another writer starts again (then: CONFLICT). */
export const MAX_ATTEMPTS = 25;

function isWriterRace(err: unknown): boolean {
  return err instanceof WriterRaceError;
}

/** Backoff before attempt `n` (2, 3, ...): exponential from 50 ms up to 2 s, with jitter. */
function backoffMs(n: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(n - 2, 6)) * (0.5 + Math.random());
}

export async function withRepo<T>(dir: string, opts: OpenOptions, fn: (ctx: RepoContext) => Promise<T>): Promise<T> {
  const layout = new RepoLayout(dir);
  const config = await layout.loadConfig();
  return withRepoLock(
    layout.dir,
    async (lock) => {
      // A writer that lost the commit race (object storage: another machine published first)
      // starts again from the new published state: its edits are redone on it (bounded).
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await attemptOnce(lock);
          // A command's result object (its --json) says how often it started again.
          if (attempt > 1 && result !== null && typeof result === 'object' && !Array.isArray(result)) Object.assign(result, { retries: attempt - 1 });
          return result;
        } catch (err) {
          if (!isWriterRace(err) || attempt >= MAX_ATTEMPTS) throw err;
          const reason = (err as Error).message;
          if (opts.onRetry) opts.onRetry(attempt, reason);
          else process.stderr.write(`tufpip-repo: retrying (${attempt}/${MAX_ATTEMPTS - 1}) from the new published state: ${reason}\n`);
          await sleep(backoffMs(attempt + 1));
        }
      }
    },
    opts,
  );

  async function attemptOnce(lock: LockHandle): Promise<T> {
    {
      const storage = await openStorage(layout, lock, config);
      const first = await Published.load(layout, storage);
      const recovered = await recoverPublication(storage, first.timestamp.signed.version);
      const published = recovered === 'none' ? first : await Published.load(layout, storage);
      if (published.interruptedRootPublish && !opts.finishesPublish) {
        throw new TufpipError('REFUSED', `root version ${published.rootVersion} was written by a publish that did not finish: run 'tufpip-repo publish ${layout.dir}' to complete it before anything else`);
      }
      let signer: Signer | undefined;
      const ctx: RepoContext = {
        layout,
        config,
        published,
        lock,
        storage,
        now: opts.now ?? new Date(), // per attempt: a retry signs with a fresh time
        async onlineSigner() {
          if (!signer) {
            // A flag's relative path is the user's (cwd); config.json's is the repository's.
            const uri = opts.onlineKey ?? config.onlineSigner;
            const envName = config.onlinePassphraseEnv;
            if (envName && process.env[envName] === undefined) {
              throw new TufpipError('BAD_KEY', `the online key is encrypted: set ${envName} (config.json onlinePassphraseEnv) to its passphrase`);
            }
            signer = await loadSigner(uri, { baseDir: opts.onlineKey ? process.cwd() : layout.dir, passphrase: envName ? process.env[envName] : undefined });
            const keyFile = signerKeyFile(uri);
            if (keyFile !== undefined && layout.isUnderSite(path.resolve(opts.onlineKey ? process.cwd() : layout.dir, keyFile))) {
              throw new TufpipError('REFUSED', `the online key ${uri} is under site/: move it out of the served tree`);
            }
            const expected = published.root.signed.roles.timestamp.keyids;
            if (!expected.includes(signer.keyid)) {
              throw new TufpipError('BAD_KEY', `online key ${uri} (key ${signer.keyid.slice(0, 8)}) is not the online key root trusts (${expected.map((k) => k.slice(0, 8)).join(', ')})`);
            }
          }
          return signer;
        },
      };
      return await fn(ctx);
    }
  }
}
