// A bulk rebuild on every core (batch-pool.ts): each thread runs the same BinRebuilder
// (bin-rebuild.ts). Any failure stops the rebuild; the transaction then publishes nothing (its
// error names the bin).
import { TufpipError } from '../../metadata/errors.js';
import { BinRebuilder, type BinJob, type BinRebuildSetup } from './bin-rebuild.js';
import { batchWorkers, runInBatches } from './batch-pool.js';

/** Worker threads for `jobs` bins (batch-pool.ts). */
export const rebuildWorkers = batchWorkers;

/** The new bytes of every bin in `jobs` (rebuilt, signed and verified). */
export async function rebuildBins(
  setup: BinRebuildSetup,
  jobs: BinJob[],
  workers = rebuildWorkers(jobs.length),
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, Buffer>> {
  const results = await runInBatches<BinJob, Buffer>({
    worker: new URL('./bin-rebuild-worker.js', import.meta.url),
    workerData: setup,
    jobs,
    workers,
    local: () => {
      const r = new BinRebuilder(setup);
      return { run: (job) => r.rebuild(job) };
    },
    received: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    onProgress,
  });
  if (results.size !== jobs.length) throw new TufpipError('SELF_CHECK', `bulk rebuild produced ${results.size} of ${jobs.length} bins; nothing was published`);
  return results;
}
