// One bin of a bulk rebuild (a `sync` of thousands of files, a `bump` that re-signs every bin):
// read the published version and verify it against the published `bins` role, apply the
// transaction's edits, sign the next version, and verify the new bytes with tuf-js's store as a
// client would (TUF spec 5.6, the self-check of DESIGN.md "Publishing rules"). The same code runs
// on the main thread and in worker threads (bin-rebuild-pool.ts); docs/design-decisions.md "A bulk
// rebuild runs on every core" gives the reason.
import { sign, type KeyObject } from 'node:crypto';
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { describeTufError } from '../../tuf/error-classifier.js';
import { canonicalize } from '../../metadata/canonical.js';
import { buildTargets, serializeEnvelope, type TargetInfo, type TargetsSigned } from '../../metadata/builders.js';
import { TufpipError } from '../../metadata/errors.js';
import { BINS, versionedFileName } from '../../metadata/roles.js';
import { readPublishedRole, verifiedRoleModel, type AnyMetadata } from '../storage/published.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { forgetRole, loadCheckStore, type CheckStoreInputs, type TrustedMetadataStore } from '../../tuf/self-check-store.js';

export interface BinRebuildSetup extends CheckStoreInputs {
  metadataDir: string;
  /** The published `bins` role, verified up to root by the main thread: old bins verify against it. */
  publishedBinsBytes: Uint8Array;
  /** Expiry of every new bin version. */
  expires: string;
  /** The online key (a KeyObject is passed to worker threads of this process, never serialised). */
  key: KeyObject;
  keyid: string;
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

  constructor(setup: BinRebuildSetup) {
    this.setup = setup;
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
    const targets = env.signed.targets; // this thread's own parse: edited in place
    for (const [p, info] of job.edits) {
      if (info) targets[p] = info;
      else delete targets[p];
    }
    const text = canonicalize(buildTargets(job.version + 1, this.setup.expires, targets, env.signed.delegations));
    const sig = sign(null, Buffer.from(text, 'utf8'), this.setup.key).toString('hex');
    const out = Buffer.from(serializeEnvelope(text, [{ keyid: this.setup.keyid, sig }]), 'utf8');
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
