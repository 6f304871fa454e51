// The tuf-js store a share of a self-check verifies delegated roles with, loaded as a client
// loads it: the trusted root (and a new root: TUF spec 5.3.4 - 5.3.5), the published timestamp
// then the new one (5.4), the new snapshot in full (5.5), then the delegators from the top (5.6).
// Used by the publication pipeline's self-check (repo-tools/txn/self-check.ts), off the main
// thread (self-check-worker.ts, bin-rebuild-worker.ts) and by the main thread's share of a bulk
// rebuild (bin-rebuild.ts). The pipeline reaches tuf-js's store only through the functions here:
// its private trusted set is touched in this file alone (tuf-js 5.0.1 is pinned exactly).
import { TrustedMetadataStore } from 'tuf-js/dist/store.js';
import { Metadata, MetadataKind } from '@tufjs/models';

export { TrustedMetadataStore };

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

/** The store's private map of trusted metadata (tuf-js 5.0.1 store.ts `trustedSet`). */
function trustedSetOf(store: TrustedMetadataStore): Record<string, unknown> {
  return (store as unknown as { trustedSet: Record<string, unknown> }).trustedSet;
}

/** Forgets a verified delegated role (a bulk check keeps 16,384 bins of targets otherwise). */
export function forgetRole(store: TrustedMetadataStore, role: string): void {
  delete trustedSetOf(store)[role];
}

/** The parts of a snapshot whose bytes were verified elsewhere (TUF spec 5.5.2 - 5.5.5). */
export interface VerifiedSnapshot {
  specVersion: string;
  version: number;
  expires: string;
  /** "<role>.json" -> version, for the delegated roles about to be verified. */
  meta: Record<string, { version: number }>;
}

/**
 * Trusts a snapshot verified outside the store (repo-tools/txn/snapshot-edit-check.ts checks TUF
 * spec 5.5.2 - 5.5.5 on its exact bytes), then runs the store's own final checks on it (5.5.6:
 * not expired; 5.5.4: the version the trusted timestamp names), so that updateDelegatedTargets
 * (5.6) can verify the roles `snap.meta` lists. TrustedMetadataStore has no public way to do this:
 * the model is set as its updateSnapshot sets it (test/repo-self-check.test.ts covers it).
 */
export function trustVerifiedSnapshot(store: TrustedMetadataStore, snap: VerifiedSnapshot): void {
  const model = Metadata.fromJSON(MetadataKind.Snapshot, {
    signatures: [],
    signed: { _type: 'snapshot', spec_version: snap.specVersion, version: snap.version, expires: snap.expires, meta: snap.meta },
  });
  trustedSetOf(store).snapshot = model;
  (store as unknown as { checkFinalSnapsnot(): void }).checkFinalSnapsnot();
}
