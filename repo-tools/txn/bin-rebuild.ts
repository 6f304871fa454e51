// One bin of a bulk rebuild (a `sync` of thousands of files, a `bump` that re-signs every bin):
// read the published version and verify it against the published `bins` role, apply the
// transaction's edits, sign the next version, and verify the new bytes with tuf-js's store as a
// client would (TUF spec 5.6, the self-check of DESIGN.md "Publishing rules"). The same code runs
// on the main thread and in worker threads (bin-rebuild-pool.ts); docs/design-decisions.md "A bulk
// rebuild runs on every core" gives the reason.
import type { KeyObject } from 'node:crypto';
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { describeTufError } from '../../tuf/error-classifier.js';
import type { TargetInfo, TargetsSigned } from '../../metadata/builders.js';
import { editedTargetsText } from '../../metadata/publication-plan.js';
import { TufpipError } from '../../metadata/errors.js';
import { BINS, versionedFileName } from '../../metadata/roles.js';
import { readPublishedRole, verifiedRoleModel, type AnyMetadata } from '../storage/published.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { LocalSigner } from '../keys/signer.js';
import { signRoleSync } from './pipeline.js';
import { forgetRole, loadCheckStore, type CheckStoreInputs, type TrustedMetadataStore } from '../../tuf/self-check-store.js';

export interface BinRebuildSetup extends CheckStoreInputs {
  metadataDir: string;
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

  constructor(setup: BinRebuildSetup) {
    this.setup = setup;
    this.signer = new LocalSigner(setup.key);
    const at = { role: 'root' };
    try {
      this.store = loadCheckStore(setup, at);
    } catch (err) {
      throw selfCheckRefusal(at.role, err);
    }
    this.binsModel = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(Buffer.from(setup.publishedBinsBytes).toString('utf8')));
  }

  /** The signed bytes of the bin's next version, verified; throws a TufpipError naming the file. */
  rebuild(job: BinJob): Buffer {
    const file = versionedFileName(job.name, job.version);
    const bytes = readPublishedRole(this.setup.metadataDir, file);
    const env = parseEnvelope<TargetsSigned>(bytes, file);
    // What is built on is verified first (storage/published.ts): shape, version, bins' signature.
    verifiedRoleModel(job.name, bytes, file, job.version, this.binsModel, env);
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
