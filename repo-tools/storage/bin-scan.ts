// Reading every published bin for a report (`status`): each bin is verified as anything built on
// it is (published.ts verifiedRoleModel: shape, the version the snapshot names, a threshold of the
// published `bins` role's keys: TUF spec 5.6.3), on every core (txn/batch-pool.ts): 16,384
// signature checks are most of the work of `status` on a large index.
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { readVerifiedBin, type AnyMetadata } from './published.js';
import type { ReaderDescriptor, StorageReader } from './storage.js';
import { openWorkerReader } from './worker-reader.js';
import { batchWorkers, runInBatches } from '../txn/batch-pool.js';

export interface BinScanSetup {
  /** Where every thread reads the published bins (storage.ts readerForWorkers). */
  reader: ReaderDescriptor;
  /** The published `bins` role, verified up to root by the caller. */
  publishedBinsBytes: Uint8Array;
}

export interface BinScanJob {
  name: string;
  /** The version the published snapshot names. */
  version: number;
}

export interface BinFacts {
  /** Length of the published file. */
  bytes: number;
  /** Targets it lists. */
  targets: number;
}

export class BinScanner {
  private readonly reader: StorageReader;
  private readonly binsModel: AnyMetadata;

  constructor(setup: BinScanSetup) {
    this.reader = openWorkerReader(setup.reader);
    this.binsModel = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(Buffer.from(setup.publishedBinsBytes).toString('utf8')));
  }

  /** Throws a TufpipError naming the file when the bin is missing or does not verify. */
  async scan(job: BinScanJob): Promise<BinFacts> {
    const { bytes, env } = await readVerifiedBin(this.reader, this.binsModel, job.name, job.version);
    return { bytes: bytes.length, targets: Object.keys(env.signed.targets).length };
  }
}

/** The facts of every bin in `jobs`, each verified. */
export function scanBins(setup: BinScanSetup, jobs: BinScanJob[], workers = batchWorkers(jobs.length)): Promise<Map<string, BinFacts>> {
  return runInBatches<BinScanJob, BinFacts>({
    worker: new URL('./bin-scan-worker.js', import.meta.url),
    workerData: setup,
    jobs,
    workers,
    local: () => {
      const s = new BinScanner(setup);
      return { run: (job) => s.scan(job) };
    },
  });
}
