// `tufpip-repo pending DIR`: what is pending and which signatures are still needed, checked
// against the repository's published metadata (for root: the threshold of the trusted root AND of
// the new one, TUF spec 5.3.4), plus what publishing would still need (a re-keyed delegator
// whose delegate is not re-signed, no single online key for every online role).
// `tufpip-repo pending FILE.json`: the same for one pending file on its own (the air-gapped view:
// the thresholds the file itself names). Read-only; `--discard ROLE` removes one proposal.
import { TufpipError } from '../../metadata/errors.js';
import { allSignerKeys, pendingStatus, signedBytesOf, type PendingFile, type PendingStatus } from '../../metadata/pending-file.js';
import { sha256Hex } from '../../metadata/hash.js';
import { shortKeyId } from '../../metadata/keys.js';
import { canonicalize } from '../../metadata/canonical.js';
import { checkSignatures } from '../../metadata/threshold.js';
import { planPublish, type PublishedState, type RolePlan } from '../../metadata/publish-plan.js';
import { isProposableRole, type ProposableRole } from '../../metadata/proposals.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, TARGETS } from '../../metadata/roles.js';
import { RepoLayout } from '../storage/layout.js';
import { Published } from '../storage/published.js';
import { openStorage } from '../storage/open-storage.js';
import { loadPendingFile, loadPendingFiles, pendingFileOf, removePending, savePending } from '../storage/pending-store.js';

/** The published root and offline/online delegating roles, as the plan needs them. */
export async function loadPublishedState(pub: Published): Promise<PublishedState> {
  const role = async (name: string) => {
    const r = await pub.role(name);
    return { version: r.version, sha256: sha256Hex(r.bytes), envelope: { signatures: r.signatures, signed: r.signed } };
  };
  return {
    root: { version: pub.rootVersion, sha256: sha256Hex(pub.rootBytes), envelope: pub.root },
    roles: { [TARGETS]: await role(TARGETS), [BINS]: await role(BINS), [CLAIMED]: await role(CLAIMED), [RECENTLY_CLAIMED]: await role(RECENTLY_CLAIMED) },
  };
}

export interface PendingRoleReport extends RolePlan {
  file: string;
  signatures: number;
  contentIntact: boolean;
  /** Changes computed from the published version and the proposal. */
  changes: string[];
}

export interface PendingReport {
  dir: string;
  roles: PendingRoleReport[];
  /** Roles `publish` would publish now. */
  publishable: ProposableRole[];
  /** Why `publish` would refuse now (nothing would be published). */
  blockers: string[];
  /** What is missing even once every pending role is signed (propose these too). */
  incomplete: string[];
  onlineKeyids: string[];
}

export async function listPending(repoDir: string, opts: { now?: Date } = {}): Promise<PendingReport> {
  const layout = new RepoLayout(repoDir);
  await layout.loadConfig();
  const storage = await openStorage(layout);
  const pub = await Published.load(layout, storage);
  const loaded = await loadPendingFiles(storage.state);
  const pending = new Map<ProposableRole, PendingFile>([...loaded].map(([r, l]) => [r, l.pending]));
  const plan = planPublish({ published: await loadPublishedState(pub), pending, now: opts.now ?? new Date() });
  return {
    dir: layout.dir,
    roles: plan.roles.map((r) => {
      const l = loaded.get(r.role)!;
      const st = pendingStatus(l.pending);
      return { ...r, file: l.file, signatures: l.pending.signatures.length, contentIntact: st.contentIntact, changes: st.changes };
    }),
    publishable: plan.blockers.length ? [] : plan.publish,
    blockers: plan.blockers,
    incomplete: plan.incomplete,
    onlineKeyids: plan.onlineKeyids,
  };
}

/** One pending file on its own: the thresholds it names, who signed, what changes. */
export async function pendingFileReport(file: string): Promise<PendingStatus & { file: string; repository: string }> {
  const p = await loadPendingFile(file);
  return { file, repository: p.pending.repository, ...pendingStatus(p) };
}

/** Removes one pending proposal (collected signatures are lost). */
export async function discardPending(repoDir: string, role: string): Promise<{ file: string }> {
  if (!isProposableRole(role)) throw new TufpipError('USAGE', `--discard takes root, targets, bins or claimed, got ${JSON.stringify(role)}`);
  const layout = new RepoLayout(repoDir);
  await layout.loadConfig();
  const state = (await openStorage(layout)).state;
  const file = pendingFileOf(state, role);
  if (!(await removePending(state, role))) throw new TufpipError('NOT_FOUND', `nothing pending for ${role} (${file})`);
  return { file };
}

export interface MergeResult {
  file: string;
  role: ProposableRole;
  /** Key IDs whose signatures were added from the copies. */
  added: string[];
  status: PendingStatus;
}

/**
 * Collects the signatures of copies signed in parallel (each on its own air-gapped machine) into
 * the repository's pending file. A copy must hold exactly the same signed content; only
 * signatures that verify by a key the file names are taken. Nothing is written on a refusal.
 */
export async function mergePendingSignatures(repoDir: string, copies: string[]): Promise<MergeResult[]> {
  const layout = new RepoLayout(repoDir);
  await layout.loadConfig();
  const state = (await openStorage(layout)).state;
  const loaded = await loadPendingFiles(state);
  const updates = new Map<ProposableRole, { file: string; pending: PendingFile; added: string[] }>();
  for (const copy of copies) {
    const c = await loadPendingFile(copy);
    const role = c.pending.role;
    const target = updates.get(role) ?? (loaded.has(role) ? { ...loaded.get(role)!, added: [] as string[] } : undefined);
    if (!target) throw new TufpipError('NOT_FOUND', `${copy} is a copy of a ${role} proposal, but nothing is pending for ${role} in ${layout.dir}`);
    if (canonicalize(c.signed) !== canonicalize(target.pending.signed)) {
      throw new TufpipError('REFUSED', `${copy} proposes other ${role} content than ${target.file} (sha256 ${sha256Hex(signedBytesOf(c.signed)).slice(0, 16)}..., pending ${target.pending.pending.signedSha256.slice(0, 16)}...): no signature was merged`);
    }
    const keys = allSignerKeys(target.pending);
    const check = checkSignatures(signedBytesOf(target.pending.signed), c.signatures, keys);
    if (check.invalid.length) throw new TufpipError('REFUSED', `${copy}: signature by key ${shortKeyId(check.invalid[0])} does not verify: no signature was merged`);
    for (const sig of c.signatures) {
      if (check.valid.includes(sig.keyid) && !target.pending.signatures.some((x) => x.keyid === sig.keyid)) {
        target.pending.signatures.push(sig);
        target.added.push(sig.keyid);
      }
    }
    updates.set(role, target);
  }
  const out: MergeResult[] = [];
  for (const [role, u] of updates) {
    if (u.added.length) await savePending(state, u.pending);
    out.push({ file: u.file, role, added: u.added, status: pendingStatus(u.pending) });
  }
  return out;
}
