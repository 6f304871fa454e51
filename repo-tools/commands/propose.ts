// `tufpip-repo propose DIR --role root|targets|bins|claimed [changes]`: writes the next version of
// an offline role as a pending, unsigned file `DIR/pending/<role>.json` (issue 5). Nothing is
// signed or published here: key holders add signatures with `tufpip-repo sign` (on their own,
// air-gapped machines if they like), and `tufpip-repo publish` publishes once the thresholds are
// met. Renewing a role before it expires is a proposal with only --expires.
import { TufpipError } from '../../metadata/errors.js';
import type { Envelope, RootSigned, TargetsSigned } from '../../metadata/builders.js';
import type { PublicKeyJson } from '../../metadata/keys.js';
import { normalizeProject, verifyProjectName } from '../../metadata/pep503.js';
import { PENDING_FORMAT, signedBytesOf, type PendingFile, type SignerSet } from '../../metadata/pending-file.js';
import { sha256Hex } from '../../metadata/hash.js';
import { expiresAt } from '../../metadata/profile.js';
import {
  emptyChanges,
  isProposableRole,
  planBinsProposal,
  planClaimedProposal,
  planRootProposal,
  planTargetsProposal,
  type ProposableRole,
  type ProposalChanges,
} from '../../metadata/proposals.js';
import { planPublish } from '../../metadata/publish-plan.js';
import { describeRoleChanges } from '../../metadata/role-diff.js';
import { BINS, CLAIMED, ROOT, TARGETS } from '../../metadata/roles.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { loadPendingFiles, pendingFileOf, savePending } from '../storage/pending-store.js';
import { readPublicKeyFile, resolveKeyId } from '../keys/public-key-file.js';
import { loadPublishedState } from './pending.js';

export interface ProposeOptions extends OpenOptions {
  role: string;
  /** --add-key PUB.json */
  addKeys?: string[];
  /** --remove-key KEYID|PUB.json */
  removeKeys?: string[];
  threshold?: number;
  /** --expires DAYS (default: the role's configured period) */
  expiresDays?: number;
  /** --role-key ROLE=PUB.json */
  roleKeys?: string[];
  /** --role-threshold ROLE=N */
  roleThresholds?: string[];
  /** claimed: the project whose maintainer keys change */
  project?: string;
  /** Replace an existing pending proposal of this role (its signatures are lost). */
  replace?: boolean;
  allowSingleRootKey?: boolean;
}

export interface ProposeResult {
  file: string;
  role: ProposableRole;
  version: number;
  baseVersion: number;
  expires: string;
  /** sha256 of the canonical signed content: read it to the signers, `sign` shows the same. */
  signedSha256: string;
  changes: string[];
  signers: Array<{ label: string; threshold: number; keyids: string[] }>;
  /** What else must be proposed before `publish` can succeed (empty when nothing). */
  alsoNeeded: string[];
}

function splitAssignment(item: string, flag: string): [string, string] {
  const i = item.indexOf('=');
  if (i <= 0 || i === item.length - 1) throw new TufpipError('USAGE', `${flag} takes ROLE=VALUE, got ${JSON.stringify(item)}`);
  return [item.slice(0, i), item.slice(i + 1)];
}

function signerSet(label: string, keys: Record<string, PublicKeyJson>, role: { keyids: string[]; threshold: number }): SignerSet {
  const subset: Record<string, PublicKeyJson> = {};
  for (const id of role.keyids) if (keys[id]) subset[id] = keys[id];
  return { label, keys: subset, keyids: [...role.keyids], threshold: role.threshold };
}

export async function propose(repoDir: string, o: ProposeOptions): Promise<ProposeResult> {
  const role = o.role;
  if (!isProposableRole(role)) {
    throw new TufpipError('USAGE', `--role must be root, targets, bins or claimed (offline roles), got ${JSON.stringify(role)}; online roles are re-signed by 'tufpip-repo bump'`);
  }
  const days = o.expiresDays;
  if (days !== undefined && !(Number.isFinite(days) && days > 0 && days <= 3650)) throw new TufpipError('USAGE', `--expires: days must be > 0 and at most 3650, got ${days}`);
  if (o.threshold !== undefined && !Number.isInteger(o.threshold)) throw new TufpipError('USAGE', `--threshold must be a whole number, got ${o.threshold}`);
  const addKeys: PublicKeyJson[] = [];
  for (const f of o.addKeys ?? []) addKeys.push(await readPublicKeyFile(f, '--add-key'));
  const roleKeys = new Map<string, PublicKeyJson[]>();
  for (const item of o.roleKeys ?? []) {
    const [name, file] = splitAssignment(item, '--role-key');
    roleKeys.set(name, [...(roleKeys.get(name) ?? []), await readPublicKeyFile(file, `--role-key ${name}=`)]);
  }
  const roleThresholds = new Map<string, number>();
  for (const item of o.roleThresholds ?? []) {
    const [name, n] = splitAssignment(item, '--role-threshold');
    if (!/^\d+$/.test(n)) throw new TufpipError('USAGE', `--role-threshold ${name}=${n}: not a whole number`);
    roleThresholds.set(name, Number(n));
  }
  let project: string | undefined;
  if (o.project !== undefined) {
    if (role !== CLAIMED) throw new TufpipError('USAGE', '--project applies to --role claimed only');
    verifyProjectName(o.project);
    project = normalizeProject(o.project);
  }

  return withRepo(repoDir, { ...o, onlineKey: undefined }, async (ctx) => {
    const { layout, config, published: pub, now } = ctx;
    const file = pendingFileOf(ctx.storage.state, role);
    const pendingAll = await loadPendingFiles(ctx.storage.state);
    const existing = pendingAll.get(role);
    if (existing && !o.replace) {
      const p = existing.pending;
      throw new TufpipError('EXISTS', `${file} already proposes ${role} v${p.signed.version} (${p.signatures.length} signature${p.signatures.length === 1 ? '' : 's'} collected): publish it, or give --replace to discard it and propose anew`);
    }
    const state = await loadPublishedState(pub);
    const current: { version: number; sha256: string; envelope: Envelope } = role === ROOT ? state.root : state.roles[role];
    const changes: ProposalChanges = {
      ...emptyChanges(expiresAt(now, days ?? config.expires[role])),
      addKeys,
      threshold: o.threshold,
      roleKeys,
      roleThresholds,
      project,
      allowSingleRootKey: o.allowSingleRootKey,
    };
    // --remove-key takes key IDs (or prefixes) among the keys the proposal's role lists.
    const cur = current.envelope.signed;
    const knownIds = Object.keys(cur._type === 'root' ? cur.keys : (cur as TargetsSigned).delegations?.keys ?? {});
    for (const k of o.removeKeys ?? []) changes.removeKeys.push(await resolveKeyId(k, knownIds, '--remove-key'));

    let signed: RootSigned | TargetsSigned;
    const signers: SignerSet[] = [];
    // Delegators as they will be published: a pending root (targets' keys) or targets (bins', claimed').
    const other = (r: ProposableRole) => (existing && r === role ? undefined : pendingAll.get(r)?.pending);
    if (role === ROOT) {
      const trusted = cur as RootSigned;
      signed = planRootProposal(trusted, changes);
      // TUF spec 5.3.4: a threshold of the trusted root's keys AND of the new root's own keys.
      signers.push(signerSet(`root v${trusted.version} keys (the trusted root)`, trusted.keys, trusted.roles.root));
      signers.push(signerSet(`root v${signed.version} keys (the new root)`, signed.keys, signed.roles.root));
    } else if (role === TARGETS) {
      signed = planTargetsProposal(cur as TargetsSigned, changes);
      const pendingRoot = other(ROOT)?.signed as RootSigned | undefined;
      const root = pendingRoot ?? state.root.envelope.signed;
      signers.push(signerSet(`targets keys listed by root v${root.version}${pendingRoot ? ' (pending)' : ''}`, root.keys, root.roles.targets));
    } else {
      signed = role === BINS ? planBinsProposal(cur as TargetsSigned, changes) : planClaimedProposal(cur as TargetsSigned, changes);
      const pendingTargets = other(TARGETS)?.signed as TargetsSigned | undefined;
      const targets = pendingTargets ?? state.roles.targets.envelope.signed;
      const d = targets.delegations?.roles?.find((r) => r.name === role);
      if (!d) throw new TufpipError('BAD_INPUT', `targets v${targets.version} does not delegate to ${role}`);
      signers.push(signerSet(`${role} keys listed by targets v${targets.version}${pendingTargets ? ' (pending)' : ''}`, targets.delegations!.keys, d));
    }

    const signedSha256 = sha256Hex(signedBytesOf(signed));
    const pending: PendingFile = {
      signatures: [],
      signed,
      pending: {
        format: PENDING_FORMAT,
        role,
        repository: config.url,
        base: { version: current.version, sha256: current.sha256 },
        previous: current.envelope,
        proposed: now.toISOString(),
        signedSha256,
        signers,
      },
    };
    await savePending(ctx.storage.state, pending);

    // What else publishing will need (e.g. a new online key proposed for root but not for bins).
    const all = new Map([...pendingAll].map(([r, l]) => [r, l.pending] as const));
    all.set(role, pending);
    const plan = planPublish({ published: state, pending: all, now });
    return {
      file,
      role,
      version: signed.version,
      baseVersion: current.version,
      expires: signed.expires,
      signedSha256,
      changes: describeRoleChanges(cur, signed),
      signers: signers.map((s) => ({ label: s.label, threshold: s.threshold, keyids: s.keyids })),
      alsoNeeded: plan.incomplete,
    };
  });
}
