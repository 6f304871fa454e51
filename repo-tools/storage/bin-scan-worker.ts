// A worker thread of a bin scan (bin-scan.ts): verifies the batches of bins it is sent.
import { BinScanner, type BinFacts, type BinScanJob, type BinScanSetup } from './bin-scan.js';
import { serveBatches } from '../txn/batch-pool.js';
import { installLinearModels } from '../../tuf/linear-models.js';

// Worker entry: parses as the main thread does (linear @tufjs/models: tuf/linear-models.ts).
installLinearModels();
serveBatches<BinScanJob, BinFacts>(
  (data) => {
    const s = new BinScanner(data as BinScanSetup);
    return { run: (job) => s.scan(job) };
  },
  (err) => ({ code: 'BAD_INPUT', message: `reading the published bins failed: ${(err as Error)?.message ?? String(err)}` }),
);
