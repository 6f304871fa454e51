// A share of a large self-check (repo-tools/txn/self-check.ts), in a worker thread: tuf-js's own
// TrustedMetadataStore, loaded as the main thread's (tuf/self-check-store.ts), then this share of the
// changed roles (TUF spec 5.6). A transaction that re-signs all 16,384 bins verifies them on every
// core instead of one.
import { parentPort, workerData } from 'node:worker_threads';
import { installLinearModels } from '../../tuf/linear-models.js';
import { loadCheckStore, type CheckStoreInputs } from '../../tuf/self-check-store.js';
import { tufErrorName } from '../../tuf/error-classifier.js';

export interface SelfCheckJob extends CheckStoreInputs {
  /** This share: [role, bytes, its delegator]. */
  roles: [string, Uint8Array, string][];
}

export type SelfCheckReply = { ok: true } | { ok: false; role: string; name: string; message: string };

function run(job: SelfCheckJob): SelfCheckReply {
  const at = { role: 'root' };
  try {
    const store = loadCheckStore(job, at);
    for (const [name, bytes, parent] of job.roles) {
      at.role = name;
      store.updateDelegatedTargets(Buffer.from(bytes), name, parent);
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, role: at.role, name: tufErrorName(err), message: (err as Error)?.message ?? String(err) };
  }
}

// Worker entry: parses as the main thread does (linear @tufjs/models: tuf/linear-models.ts).
installLinearModels();
if (parentPort && workerData) parentPort.postMessage(run(workerData as SelfCheckJob));
