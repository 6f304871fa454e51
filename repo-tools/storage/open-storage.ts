// The one place a command gets the Storage of a repository directory (storage.ts). Today every
// repository is on the local disk; an object-store backend is chosen here (from config.json).
import type { LockHandle } from '../../io/lock.js';
import type { RepoLayout } from './layout.js';
import { LocalDiskStorage } from './local-disk.js';
import type { Storage } from './storage.js';

/**
 * @param lock the repository lock the caller holds (checked at the commit point); absent for
 * commands that only read (status, pending).
 */
export function openStorage(layout: RepoLayout, lock?: LockHandle): Storage {
  return new LocalDiskStorage(layout, lock);
}
