// One bin of a bulk rebuild (a `sync` of thousands of files, a `bump` that re-signs every bin):
// read the published version and verify it against the published `bins` role, apply the
// transaction's edits, sign the next version, and verify the new bytes with tuf-js's store as a
// client would (TUF spec 5.6, the self-check of DESIGN.md "Publishing rules"). The same code runs
// on the main thread and in worker threads (bin-rebuild-pool.ts); docs/design-decisions.md "A bulk
// rebuild runs on every core" gives the reason.
//
// Each thread reads the published bins it rebuilds itself, through a reader its Storage describes
// (storage.ts readerForWorkers), rather than the main thread reading them all and posting the
// bytes with the jobs: the reads then run in parallel with the other threads' signing instead of
// adding to the main thread's share, and an object-store reader is rebuilt the same way (bucket
// and prefix) in the worker.
import type { KeyObject } from 'node:crypto';
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { describeTufError } from '../../tuf/error-classifier.js';
import type { TargetInfo } from '../../metadata/builders.js';
import { editedTargetsText } from '../../metadata/publication-plan.js';
import { TufpipError } from '../../metadata/errors.js';
import { BINS } from '../../metadata/roles.js';
import { readVerifiedBin, type AnyMetadata } from '../storage/published.js';
import type { ReaderDescriptor, StorageReader } from '../storage/storage.js';
import { openWorkerReader } from '../storage/worker-reader.js';
import { LocalSigner } from '../keys/signer.js';
import { signRoleSync } from './pipeline.js';
import { forgetRole, loadCheckStore, type CheckStoreInputs, type TrustedMetadataStore } from '../../tuf/self-check-store.js';

export interface BinRebuildSetup extends CheckStoreInputs {
  /** Where every thread reads the published bins (the open repository's storage). */
  reader: ReaderDescriptor;
  /** The published `bins` role, verified up to root by the main thread: old bins verify against it. */
  publishedBinsBytes: Uint8Array;
  /** Expiry of every new bin version. */
  expires: string;
  /**
   * The online key: a KeyObject is cloned into worker threads of this process, never serialised;
   * each thread signs through a LocalSigner over it (pipeline.ts: every role is signed by a Signer).
   */
  key: KeyObject;
}

export interface BinJob {
  name: string;
  /** The version the published snapshot names; the new one is the next. */
  version: number;
  /** Target path -> new info, or null to remove it. */
  edits: [string, TargetInfo | null][];
}

export function selfCheckRefusal(role: string, err: unknown): TufpipError {
  if (err instanceof TufpipError) return err;
  return new TufpipError('SELF_CHECK', `self-check refused the new metadata (${role}: ${describeTufError(err)}); nothing was published`, { cause: err });
}

export class BinRebuilder {
  private readonly setup: BinRebuildSetup;
  private readonly store: TrustedMetadataStore;
  private readonly binsModel: AnyMetadata;
  private readonly signer: LocalSigner;
  private readonly reader: StorageReader;

  constructor(setup: BinRebuildSetup) {
    this.setup = setup;
    this.signer = new LocalSigner(setup.key);
    this.reader = openWorkerReader(setup.reader);
    const at = { role: 'root' };
    try {
      this.store = loadCheckStore(setup, at);
    } catch (err) {
      throw selfCheckRefusal(at.role, err);
    }
    this.binsModel = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(Buffer.from(setup.publishedBinsBytes).toString('utf8')));
  }

  /** The signed bytes of the bin's next version, verified; throws a TufpipError naming the file. */
  async rebuild(job: BinJob): Promise<Buffer> {
    // What is built on is verified first (storage/published.ts): shape, version, bins' signature.
    const { env } = await readVerifiedBin(this.reader, this.binsModel, job.name, job.version);
    // The plan's per-role function (metadata/publication-plan.ts) on this thread's own parse.
    const text = editedTargetsText(env.signed, job.edits, job.version + 1, this.setup.expires, true);
    const out = signRoleSync(text, [this.signer]);
    // TUF spec 5.6: the new bin verifies against its delegator, as a client would verify it.
    try {
      this.store.updateDelegatedTargets(out, job.name, BINS);
    } catch (err) {
      throw selfCheckRefusal(job.name, err);
    }
    forgetRole(this.store, job.name);
    return out;
  }
}
