// `tufpip-repo publish DIR [--online-key URI]`: publishes the pending offline roles whose
// thresholds are met (issue 5), in one transaction with a new snapshot and timestamp: a root as
// N.root.json (TUF spec 5.3.4: threshold of the trusted root and of the new one), targets, bins
// and claimed as new versions in the snapshot. When the online keys change (a new online key for
// timestamp/snapshot in root, for recently-claimed in targets, for the bins in bins), every online
// role is re-signed with the new online key in the same transaction, and config.json is pointed
// at it. Refuses, publishing nothing, when nothing is ready or the result would be inconsistent.
// The published pending files are removed afterwards.
import path from 'node:path';
import { canonicalize } from '../../metadata/canonical.js';
import { TufpipError } from '../../metadata/errors.js';
import { signerKeyFile, signerUriText } from '../../metadata/signer-uri.js';
import type { PublicKeyJson } from '../../metadata/keys.js';
import { signedBytesOf, type PendingFile } from '../../metadata/pending-file.js';
import { planPublish, type PublishedState, type PublishPlan } from '../../metadata/publish-plan.js';
import type { ProposableRole } from '../../metadata/proposals.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, TARGETS, isBinRole } from '../../metadata/roles.js';
import { serializeEnvelope, type RootSigned, type TargetsSigned } from '../../metadata/builders.js';
import { checkSignatures } from '../../metadata/threshold.js';
import { loadSigner } from '../keys/signer.js';
import { loadPendingFiles, pendingFileOf, removePending } from '../storage/pending-store.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import type { Published } from '../storage/published.js';
import { loadPublishedState } from './pending.js';

export interface PublishOptions extends OpenOptions {
  /** Signer URI of the online key that signs after publishing (needed when it changes). */
  onlineKey?: string;
}

export interface PublishResult {
  published: Array<{ role: ProposableRole; version: number }>;
  /** Pending roles left as they are (not ready), with the reasons. */
  waiting: Array<{ role: ProposableRole; version: number; reasons: string[] }>;
  /** Pending files found already published (an interrupted earlier publish) and removed. */
  alreadyPublished: ProposableRole[];
  resigned: { bins: number; recentlyClaimed: boolean };
  onlineKeyid: string;
  /** config.json's online signer was changed to this URI. */
  configOnlineSigner?: string;
  commit: CommitResult;
}

/** The published file: canonical signed content with the signatures that verify by `keys`. */
function publishedBytes(p: PendingFile, keys: Record<string, PublicKeyJson>): Buffer {
  const bytes = signedBytesOf(p.signed);
  const valid = new Set(checkSignatures(bytes, p.signatures, keys).valid);
  const sigs = p.signatures.filter((s) => valid.has(s.keyid));
  return Buffer.from(serializeEnvelope(canonicalize(p.signed), sigs), 'utf8');
}

function refusal(plan: PublishPlan): string {
  const lines = plan.roles.filter((r) => r.state === 'waiting' || r.state === 'stale').map((r) => `  - ${r.role} v${r.version} (${r.state}): ${r.reasons.join('; ')}`);
  return lines.join('\n');
}

/** Adds the ready proposals to `tx`, with the online re-signing their key changes need. */
function stage(tx: Transaction, plan: PublishPlan, pending: Map<ProposableRole, PendingFile>, pub: Published, state: PublishedState): number {
  // Keys a signature may be by: the delegator as published with this transaction (for root,
  // the trusted root and the new one, TUF spec 5.3.4).
  const newRoot = pending.get(ROOT)?.signed as RootSigned | undefined;
  const finalRoot = plan.publish.includes(ROOT) ? newRoot! : pub.root.signed;
  const finalTargets = plan.publish.includes(TARGETS) ? (pending.get(TARGETS)!.signed as TargetsSigned) : state.roles.targets.envelope.signed;
  for (const role of plan.publish) {
    const p = pending.get(role)!;
    if (role === ROOT) tx.putRoot(publishedBytes(p, { ...pub.root.signed.keys, ...newRoot!.keys }), p.signed.version);
    else tx.putSignedRole(role, publishedBytes(p, role === TARGETS ? finalRoot.keys : finalTargets.delegations?.keys ?? {}), p.signed.version);
  }
  // Delegates of a re-keyed targets are verified too (self-check, as clients would).
  if (plan.publish.includes(TARGETS)) for (const r of [CLAIMED, RECENTLY_CLAIMED, BINS]) if (!plan.publish.includes(r as ProposableRole)) tx.verifyAlso(r);
  let bins = 0;
  if (plan.resignBins) {
    for (const file of pub.versions.keys()) {
      const role = file.slice(0, -'.json'.length);
      if (isBinRole(role)) {
        tx.resign(role);
        bins++;
      }
    }
  }
  if (plan.resignRecentlyClaimed) tx.resign(RECENTLY_CLAIMED);
  tx.forceSnapshot = true;
  return bins;
}

export async function publishPending(repoDir: string, o: PublishOptions = {}): Promise<PublishResult> {
  return withRepo(repoDir, { ...o, onlineKey: undefined, finishesPublish: true }, async (ctx) => {
    const { layout, config, published: pub, now } = ctx;
    const loaded = await loadPendingFiles(ctx.storage.state);
    if (loaded.size === 0) throw new TufpipError('NOT_FOUND', `nothing is pending in ${path.dirname(pendingFileOf(ctx.storage.state, ROOT))} (propose first: tufpip-repo propose)`);
    // As for every command: a flag's relative path is the user's (cwd), config.json's the repository's.
    const baseDir = o.onlineKey ? process.cwd() : layout.dir;
    const raw = o.onlineKey ?? config.onlineSigner;
    const uri = signerUriText(raw);
    const file = signerKeyFile(uri);
    const keyFile = file !== undefined ? path.resolve(baseDir, file) : undefined;
    if (keyFile && layout.isUnderSite(keyFile)) throw new TufpipError('REFUSED', `the online key ${uri} is under site/: move it out of the served tree`);
    const envName = config.onlinePassphraseEnv;
    if (envName && process.env[envName] === undefined) {
      throw new TufpipError('BAD_KEY', `the online key is encrypted: set ${envName} (config.json onlinePassphraseEnv) to its passphrase`);
    }
    const signer = await loadSigner(uri, { baseDir, passphrase: envName ? process.env[envName] : undefined });
    // What config.json will name: a file relative to the repository, or the URI as given.
    const configUri = o.onlineKey ? (keyFile ? `file:${path.relative(layout.dir, keyFile)}` : uri) : config.onlineSigner;
    const state = await loadPublishedState(pub);
    const pending = new Map([...loaded].map(([r, l]) => [r, l.pending] as const));
    const plan = planPublish({ published: state, pending, now, onlineKeyid: signer.keyid });
    const alreadyPublished = plan.roles.filter((r) => r.state === 'published').map((r) => r.role);
    const waiting = refusal(plan);

    let commit: CommitResult;
    let bins = 0;
    if (plan.publish.length === 0) {
      // Proposals that are all published already (a publish interrupted after its commit) are
      // finished below; anything else not ready is a refusal that changes nothing.
      if (waiting || alreadyPublished.length === 0) throw new TufpipError('REFUSED', `nothing was published: no pending role is ready\n${waiting}`);
      if (!plan.onlineKeyids.includes(signer.keyid)) throw new TufpipError('BAD_KEY', `the online key ${uri} is not the one the published metadata trusts`);
      commit = { noop: true, timestampVersion: pub.timestamp.signed.version, snapshotVersion: pub.snapshotVersion, roles: [] };
    } else {
      if (plan.blockers.length) {
        const together = waiting && plan.incomplete.length === 0 ? '\nthey must be published together with the roles still waiting; sign those first:' : waiting ? '\nstill waiting:' : '';
        throw new TufpipError('REFUSED', `nothing was published: publishing ${plan.publish.join(', ')} alone would leave the repository inconsistent:\n${plan.blockers.map((b) => `  - ${b}`).join('\n')}${together}${waiting ? `\n${waiting}` : ''}`);
      }
      // The online signer for this transaction is the one the published result trusts.
      const tx = new Transaction({ ...ctx, onlineSigner: async () => signer }, 'publish');
      bins = stage(tx, plan, pending, pub, state);
      commit = await tx.commit();
    }

    // Published: point config.json at the online key now trusted, then remove the proposals (in
    // this order, so that running publish again finishes an interrupted run).
    let configOnlineSigner: string | undefined;
    if (configUri !== config.onlineSigner) {
      const next = { ...config, onlineSigner: configUri };
      await ctx.storage.state.saveConfig(next);
      // Commands read this machine's config.json; on object storage saveConfig writes only the
      // store's private copy (as init writes both).
      if (config.storage) await layout.saveConfig(next);
      configOnlineSigner = configUri;
    }
    for (const r of [...plan.publish, ...alreadyPublished]) await removePending(ctx.storage.state, r);
    return {
      published: plan.publish.map((role) => ({ role, version: pending.get(role)!.signed.version })),
      waiting: plan.roles.filter((r) => r.state === 'waiting' || r.state === 'stale').map((r) => ({ role: r.role, version: r.version, reasons: r.reasons })),
      alreadyPublished,
      resigned: { bins, recentlyClaimed: plan.publish.length > 0 && plan.resignRecentlyClaimed },
      onlineKeyid: signer.keyid,
      configOnlineSigner,
      commit,
    };
  });
}
