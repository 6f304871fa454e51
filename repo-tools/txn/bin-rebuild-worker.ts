// A worker thread of a bulk rebuild (bin-rebuild-pool.ts): rebuilds the batches of bins it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { BinRebuilder, type BinJob, type BinRebuildSetup } from './bin-rebuild.js';
import { TufpipError, type ErrorCode } from '../../metadata/errors.js';
import { installLinearModels } from '../../tuf/linear-models.js';

export type BinBatchReply = { ok: true; results: [string, Uint8Array][] } | { ok: false; code: ErrorCode; message: string };

function failure(err: unknown): BinBatchReply {
  if (err instanceof TufpipError) return { ok: false, code: err.code, message: err.message };
  return { ok: false, code: 'SELF_CHECK', message: `bulk rebuild failed: ${(err as Error)?.message ?? String(err)}; nothing was published` };
}

// Worker entry: parses as the main thread does (linear @tufjs/models: tuf/linear-models.ts).
installLinearModels();
if (parentPort && workerData) {
  const port = parentPort;
  let rebuilder: BinRebuilder | undefined;
  let setupError: unknown;
  try {
    rebuilder = new BinRebuilder(workerData as BinRebuildSetup);
  } catch (err) {
    setupError = err;
  }
  port.on('message', async (jobs: BinJob[]) => {
    try {
      if (!rebuilder) throw setupError;
      const results: [string, Uint8Array][] = [];
      for (const j of jobs) results.push([j.name, await rebuilder.rebuild(j)]);
      port.postMessage({ ok: true, results } satisfies BinBatchReply);
    } catch (err) {
      port.postMessage(failure(err));
    }
  });
}
