// A share of a large self-check (repo-tools/txn/self-check.ts), in a worker thread: tuf-js's own
// TrustedMetadataStore, loaded as the main thread's (root, timestamps, the snapshot in full), then
// the delegators, then this share of the changed roles (TUF spec 5.6). A transaction that
// re-signs all 16,384 bins verifies them on every core instead of one.
import { parentPort, workerData } from 'node:worker_threads';
import { TrustedMetadataStore } from 'tuf-js/dist/store.js';
import { installLinearModels } from '../../metadata/linear-models.js';

installLinearModels();

export interface SelfCheckJob {
  rootBytes: Uint8Array;
  newRootBytes?: Uint8Array;
  oldTimestampBytes?: Uint8Array;
  newTimestampBytes: Uint8Array;
  snapshotBytes: Uint8Array;
  /** Delegators, in order from the top: [role, bytes, its delegator]. */
  chain: [string, Uint8Array, string][];
  /** This share: [role, bytes, its delegator]. */
  roles: [string, Uint8Array, string][];
}

export type SelfCheckReply = { ok: true } | { ok: false; role: string; name: string; message: string };

function run(job: SelfCheckJob): SelfCheckReply {
  let role = 'root';
  try {
    const store = new TrustedMetadataStore(Buffer.from(job.rootBytes));
    if (job.newRootBytes) store.updateRoot(Buffer.from(job.newRootBytes));
    if (job.oldTimestampBytes) {
      try {
        store.updateTimestamp(Buffer.from(job.oldTimestampBytes));
      } catch {
        // an expired published timestamp: the new one is checked in full below (as on the main thread)
      }
    }
    role = 'timestamp';
    store.updateTimestamp(Buffer.from(job.newTimestampBytes));
    role = 'snapshot';
    store.updateSnapshot(Buffer.from(job.snapshotBytes));
    for (const [name, bytes, parent] of [...job.chain, ...job.roles]) {
      role = name;
      store.updateDelegatedTargets(Buffer.from(bytes), name, parent);
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, role, name: (err as Error)?.constructor?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
  }
}

if (parentPort && workerData) parentPort.postMessage(run(workerData as SelfCheckJob));
