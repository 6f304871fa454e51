// A worker thread of a bulk rebuild (bin-rebuild-pool.ts): rebuilds the batches of bins it is sent.
import { BinRebuilder, type BinJob, type BinRebuildSetup } from './bin-rebuild.js';
import { serveBatches } from './batch-pool.js';
import { installLinearModels } from '../../tuf/linear-models.js';

// Worker entry: parses as the main thread does (linear @tufjs/models: tuf/linear-models.ts).
installLinearModels();
serveBatches<BinJob, Uint8Array>(
  (data) => {
    const r = new BinRebuilder(data as BinRebuildSetup);
    return { run: (job) => r.rebuild(job) };
  },
  (err) => ({ code: 'SELF_CHECK', message: `bulk rebuild failed: ${(err as Error)?.message ?? String(err)}; nothing was published` }),
);
