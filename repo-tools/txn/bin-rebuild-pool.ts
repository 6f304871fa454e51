// A bulk rebuild shared between this thread and worker threads: batches of bins are handed out as
// each thread asks for more, so a slow thread never holds the others up. Each thread runs the same
// BinRebuilder (bin-rebuild.ts). Any failure stops the rebuild; the transaction then publishes
// nothing (its error names the bin).
import os from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { TufpipError } from '../../metadata/errors.js';
import { BinRebuilder, type BinJob, type BinRebuildSetup } from './bin-rebuild.js';
import type { BinBatchReply } from './bin-rebuild-worker.js';

/** Bins per batch: small enough to balance the threads, large enough that messages cost little. */
const BATCH = 32;

/** Worker threads for `jobs` bins: none below a few thousand (starting one costs ~50 ms). */
export function rebuildWorkers(jobs: number): number {
  return jobs >= 2048 ? Math.max(0, Math.min(os.availableParallelism() - 1, 3)) : 0;
}

/** The new bytes of every bin in `jobs` (rebuilt, signed and verified). */
export async function rebuildBins(
  setup: BinRebuildSetup,
  jobs: BinJob[],
  workers = rebuildWorkers(jobs.length),
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, Buffer>> {
  const results = new Map<string, Buffer>();
  let next = 0;
  const take = (): BinJob[] => {
    const batch = jobs.slice(next, next + BATCH);
    next += batch.length;
    return batch;
  };
  let failure: Error | undefined;
  const fail = (err: unknown) => (failure ??= err instanceof Error ? err : new Error(String(err)));
  const threads: Worker[] = [];
  const finished: Promise<void>[] = [];
  for (let k = 0; k < workers; k++) {
    const w = new Worker(new URL('./bin-rebuild-worker.js', import.meta.url), { workerData: setup });
    threads.push(w);
    finished.push(
      new Promise<void>((resolve) => {
        let inFlight = 0;
        const send = () => {
          const batch = failure ? [] : take();
          if (batch.length === 0) return;
          inFlight++;
          w.postMessage(batch);
        };
        w.on('message', (m: BinBatchReply) => {
          inFlight--;
          if (!m.ok) fail(new TufpipError(m.code, m.message));
          else for (const [name, bytes] of m.results) results.set(name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          onProgress?.(results.size, jobs.length);
          send();
          if (inFlight === 0) resolve();
        });
        w.once('error', (err) => {
          fail(err);
          resolve();
        });
        w.once('exit', () => resolve());
        // Two batches each: one to work on, one waiting, so a thread never idles for a reply.
        send();
        send();
        if (inFlight === 0) resolve();
      }),
    );
  }
  try {
    const local = new BinRebuilder(setup);
    for (let batch = take(); batch.length > 0 && !failure; batch = take()) {
      for (const job of batch) results.set(job.name, await local.rebuild(job));
      onProgress?.(results.size, jobs.length);
      await yieldToLoop(); // workers' replies (and the lock's refresh timer) run here
    }
    await Promise.all(finished);
  } catch (err) {
    fail(err);
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
  if (failure) throw failure;
  if (results.size !== jobs.length) throw new TufpipError('SELF_CHECK', `bulk rebuild produced ${results.size} of ${jobs.length} bins; nothing was published`);
  return results;
}
