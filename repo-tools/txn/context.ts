// What every transaction needs: the repository's layout and config, its published state, the
// online signer, the lock, the storage it publishes through, and a fixed `now` (TUF spec 5.1: one reference time per operation).
import type { RepoConfig, RepoLayout } from '../storage/layout.js';
import type { Published } from '../storage/published.js';
import type { LockHandle } from '../../io/lock.js';
import type { Signer } from '../keys/signer.js';
import type { Storage } from '../storage/storage.js';

export interface RepoContext {
  layout: RepoLayout;
  config: RepoConfig;
  published: Published;
  lock: LockHandle;
  /** Where publications are persisted (storage/storage.ts). */
  storage: Storage;
  now: Date;
  /** Loaded on first use: commands that change no online role never need the online key. */
  onlineSigner(): Promise<Signer>;
}
