// Opens a repository for a mutating command: takes the lock, finishes or abandons a crashed
// transaction (journal), loads the published state, and hands out a RepoContext.
import path from 'node:path';
import { RepoLayout } from '../storage/layout.js';
import { Published } from '../storage/published.js';
import { withRepoLock, type LockOptions } from '../../io/lock.js';
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
}

export async function withRepo<T>(dir: string, opts: OpenOptions, fn: (ctx: RepoContext) => Promise<T>): Promise<T> {
  const layout = new RepoLayout(dir);
  const config = await layout.loadConfig();
  return withRepoLock(
    layout.dir,
    async (lock) => {
      const storage = openStorage(layout, lock);
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
        now: opts.now ?? new Date(),
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
      return fn(ctx);
    },
    opts,
  );
}
