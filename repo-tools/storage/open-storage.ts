// The one place a command gets the Storage of a repository (storage.ts): the local disk, or the
// object store its config.json names (`storage`, set by `init --storage s3://...`: s3.ts).
import type { LockHandle } from '../../io/lock.js';
import { cachePolicyOf, type RepoConfig, type RepoLayout } from './layout.js';
import { LocalDiskStorage } from './local-disk.js';
import type { Storage } from './storage.js';

/**
 * @param lock the repository lock the caller holds (checked at the commit point); absent for
 * commands that only read (status, pending).
 * @param config the repository's config when the caller has read it already.
 */
export async function openStorage(layout: RepoLayout, lock?: LockHandle, config?: RepoConfig): Promise<Storage> {
  const cfg = config ?? (await layout.loadConfig());
  // The object-store client is loaded only for a repository that uses it (it costs every local
  // command ~150 ms of start-up otherwise).
  if (cfg.storage?.backend === 's3') return new (await import('./s3.js')).S3Storage(cfg.storage, lock, cachePolicyOf(cfg), layout.dir).open();
  return new LocalDiskStorage(layout, lock);
}
