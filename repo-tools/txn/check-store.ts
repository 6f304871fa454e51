// The tuf-js store a share of a self-check verifies delegated roles with, loaded as a client
// loads it: the trusted root (and a new root: TUF spec 5.3.4 - 5.3.5), the published timestamp
// then the new one (5.4), the new snapshot in full (5.5), then the delegators from the top (5.6).
// Used off the main thread (self-check-worker.ts, bin-rebuild-worker.ts) and by the main thread's
// share of a bulk rebuild (bin-rebuild.ts).
import { TrustedMetadataStore } from 'tuf-js/dist/store.js';
import { installLinearModels } from '../../metadata/linear-models.js';

installLinearModels();

export interface CheckStoreInputs {
  rootBytes: Uint8Array;
  newRootBytes?: Uint8Array;
  /** Every later root in order (a client catching up from an old root: TUF spec 5.3.4). */
  laterRoots?: Uint8Array[];
  oldTimestampBytes?: Uint8Array;
  newTimestampBytes: Uint8Array;
  snapshotBytes: Uint8Array;
  /** Delegators, in order from the top: [role, bytes, its delegator]. */
  chain: [string, Uint8Array, string][];
}

/** Loads the store; `at.role` names the role being verified when it throws. */
export function loadCheckStore(i: CheckStoreInputs, at: { role: string }): TrustedMetadataStore {
  at.role = 'root';
  const store = new TrustedMetadataStore(Buffer.from(i.rootBytes));
  for (const r of i.laterRoots ?? []) store.updateRoot(Buffer.from(r));
  if (i.newRootBytes) store.updateRoot(Buffer.from(i.newRootBytes));
  if (i.oldTimestampBytes) {
    try {
      store.updateTimestamp(Buffer.from(i.oldTimestampBytes));
    } catch {
      // an expired published timestamp: the new one is checked in full below (as on the main thread)
    }
  }
  at.role = 'timestamp';
  store.updateTimestamp(Buffer.from(i.newTimestampBytes));
  at.role = 'snapshot';
  store.updateSnapshot(Buffer.from(i.snapshotBytes));
  for (const [name, bytes, parent] of i.chain) {
    at.role = name;
    store.updateDelegatedTargets(Buffer.from(bytes), name, parent);
  }
  return store;
}

/** Forgets a verified delegated role (a bulk check keeps 16,384 bins of targets otherwise). */
export function forgetRole(store: TrustedMetadataStore, role: string): void {
  delete (store as unknown as { trustedSet: Record<string, unknown> }).trustedSet[role];
}
