// Work on thousands of bins shared between this thread and worker threads: batches of jobs are
// handed out as each thread asks for more, so a slow thread never holds the others up. Every
// thread runs the same runner (the main thread's own, each worker's built from `workerData` by its
// entry module through serveBatches). Any failure stops the work and is thrown (the caller then
// publishes or reports nothing).
import os from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { TufpipError, type ErrorCode } from '../../metadata/errors.js';

/** Jobs per batch: small enough to balance the threads, large enough that messages cost little. */
const BATCH = 32;

/** Worker threads for `jobs` jobs: none below a few thousand (starting one costs ~50 ms). */
export function batchWorkers(jobs: number): number {
  return jobs >= 2048 ? Math.max(0, Math.min(os.availableParallelism() - 1, 3)) : 0;
}

export interface BatchRunner<J, R> {
  run(job: J): Promise<R>;
}

export type BatchReply<R> = { ok: true; results: [string, R][] } | { ok: false; code: ErrorCode; message: string };

export interface BatchPoolOptions<J extends { name: string }, R> {
  /** The worker entry module (it calls serveBatches). */
  worker: URL;
  /** Structured-cloned into each worker. */
  workerData: unknown;
  jobs: J[];
  /** Worker threads besides this one (0: all on this thread). */
  workers: number;
  /** This thread's runner (built lazily: after the workers started). */
  local: () => BatchRunner<J, R>;
  /** A result as it arrives from a worker (structured clone) turned back into R. */
  received?: (r: R) => R;
  onProgress?: (done: number, total: number) => void;
}

/** Every job's result by job name. */
export async function runInBatches<J extends { name: string }, R>(o: BatchPoolOptions<J, R>): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  let next = 0;
  const take = (): J[] => {
    const batch = o.jobs.slice(next, next + BATCH);
    next += batch.length;
    return batch;
  };
  let failure: Error | undefined;
  const fail = (err: unknown) => (failure ??= err instanceof Error ? err : new Error(String(err)));
  const threads: Worker[] = [];
  const finished: Promise<void>[] = [];
  for (let k = 0; k < o.workers; k++) {
    const w = new Worker(o.worker, { workerData: o.workerData });
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
        w.on('message', (m: BatchReply<R>) => {
          inFlight--;
          if (!m.ok) fail(new TufpipError(m.code, m.message));
          else for (const [name, r] of m.results) results.set(name, o.received ? o.received(r) : r);
          o.onProgress?.(results.size, o.jobs.length);
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
    const local = o.local();
    for (let batch = take(); batch.length > 0 && !failure; batch = take()) {
      for (const job of batch) results.set(job.name, await local.run(job));
      o.onProgress?.(results.size, o.jobs.length);
      await yieldToLoop(); // workers' replies (and the lock's refresh timer) run here
    }
    await Promise.all(finished);
  } catch (err) {
    fail(err);
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
  if (failure) throw failure;
  return results;
}

/**
 * The body of a worker entry module: builds its runner from `workerData`, then answers each batch
 * it is sent. `otherFailure` turns an error that is not a TufpipError into the reply's code and message.
 */
export function serveBatches<J extends { name: string }, R>(
  create: (data: unknown) => BatchRunner<J, R>,
  otherFailure: (err: unknown) => { code: ErrorCode; message: string },
): void {
  if (!parentPort || !workerData) return;
  const port = parentPort;
  const failure = (err: unknown): BatchReply<R> =>
    err instanceof TufpipError ? { ok: false, code: err.code, message: err.message } : { ok: false, ...otherFailure(err) };
  let runner: BatchRunner<J, R> | undefined;
  let setupError: unknown;
  try {
    runner = create(workerData);
  } catch (err) {
    setupError = err;
  }
  port.on('message', async (jobs: J[]) => {
    try {
      if (!runner) throw setupError;
      const results: [string, R][] = [];
      for (const j of jobs) results.push([j.name, await runner.run(j)]);
      port.postMessage({ ok: true, results } satisfies BatchReply<R>);
    } catch (err) {
      port.postMessage(failure(err));
    }
  });
}
