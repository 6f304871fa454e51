// What `tufpip-repo publish` may publish, and what `tufpip-repo pending` reports (issue 5): for each
// pending offline role, whether it follows the published version and reaches its thresholds
// against the metadata that will be published with it (a new root's keys for targets, a new
// targets' delegations for bins and claimed), and whether the repository is consistent afterwards
// (every unchanged role still verifies against its possibly re-keyed delegator; one online key
// trusted for timestamp, snapshot, recently-claimed and every bin). Pure.
import type { Envelope, RoleKeys, RootSigned, TargetsSigned } from './builders.js';
import { canonicalize } from './canonical.js';
import { shortKeyId, type PublicKeyJson } from './keys.js';
import type { PendingFile } from './pending-file.js';
import type { ProposableRole } from './proposals.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP } from './roles.js';
import { checkRootChain, describeThreshold } from './root-rotation.js';
import { checkThreshold, type ThresholdReport } from './threshold.js';

export interface PublishedRole {
  version: number;
  /** sha256 of the published file. */
  sha256: string;
  envelope: Envelope<TargetsSigned>;
}

export interface PublishedState {
  root: { version: number; sha256: string; envelope: Envelope<RootSigned> };
  roles: Record<typeof TARGETS | typeof BINS | typeof CLAIMED | typeof RECENTLY_CLAIMED, PublishedRole>;
}

export interface PlanInput {
  published: PublishedState;
  pending: Map<ProposableRole, PendingFile>;
  now: Date;
  /** Key ID of the online key that will sign (publish); absent when only reporting. */
  onlineKeyid?: string;
}

export type RoleState = 'ready' | 'waiting' | 'stale' | 'published';

export interface RolePlan {
  role: ProposableRole;
  version: number;
  expires: string;
  /** ready: may be published now; waiting: signatures or checks missing; stale: the published
   * version moved on (propose again); published: this exact version is already published. */
  state: RoleState;
  /** Why it is not ready, one sentence each (spec step named). */
  reasons: string[];
  /** Thresholds against the repository's metadata (not the file's own copy of them). */
  sets: Array<{ label: string } & ThresholdReport>;
}

export interface PublishPlan {
  roles: RolePlan[];
  /** Ready roles, in publication order (root, targets, then bins and claimed). */
  publish: ProposableRole[];
  /** Problems of the repository as it would be after publishing the ready roles. */
  blockers: string[];
  /** Problems that remain even once every pending role is signed: what else to propose. */
  incomplete: string[];
  /** The bin-XXXX keys change: every bin is re-signed with the online key. */
  resignBins: boolean;
  /** recently-claimed's keys change: it is re-signed with the online key. */
  resignRecentlyClaimed: boolean;
  /** Key IDs the online key may be after publishing the ready roles. */
  onlineKeyids: string[];
}

const ORDER: ProposableRole[] = [ROOT, TARGETS, BINS, CLAIMED];
const sameKeys = (a?: RoleKeys, b?: RoleKeys) => !!a && !!b && a.threshold === b.threshold && [...a.keyids].sort().join() === [...b.keyids].sort().join();
const list = (ids: string[]) => ids.map(shortKeyId).join(', ') || 'none';

function bytesOf(signed: object): Buffer {
  return Buffer.from(canonicalize(signed), 'utf8');
}

function delegationOf(targets: TargetsSigned, role: string): { keys: Record<string, PublicKeyJson>; role: RoleKeys } | undefined {
  const d = targets.delegations;
  if (!d) return undefined;
  if (role === 'bin') return d.succinct_roles ? { keys: d.keys, role: d.succinct_roles } : undefined;
  const r = d.roles?.find((x) => x.name === role);
  return r ? { keys: d.keys, role: r } : undefined;
}

interface Final {
  root: Envelope<RootSigned>;
  targets: Envelope<TargetsSigned>;
  bins: Envelope<TargetsSigned>;
  claimed: Envelope<TargetsSigned>;
  changed: Set<ProposableRole>;
}

function finalState(pub: PublishedState, chosen: Map<ProposableRole, PendingFile>): Final {
  const pick = <T extends RootSigned | TargetsSigned>(role: ProposableRole, published: Envelope<T>): Envelope<T> => {
    const p = chosen.get(role);
    return p ? { signatures: p.signatures, signed: p.signed as T } : published;
  };
  return {
    root: pick(ROOT, pub.root.envelope),
    targets: pick(TARGETS, pub.roles.targets.envelope),
    bins: pick(BINS, pub.roles.bins.envelope),
    claimed: pick(CLAIMED, pub.roles.claimed.envelope),
    changed: new Set(chosen.keys()),
  };
}

/**
 * Consistency of the repository after publishing `chosen`: each unchanged role must still verify
 * against its delegator when that delegator changes (TUF spec 5.6.3, as clients check it), and
 * one online key must be trusted, threshold 1, for every online role (DESIGN.md role graph).
 */
export function checkFinalState(pub: PublishedState, chosen: Map<ProposableRole, PendingFile>, onlineKeyid?: string): { problems: string[]; onlineKeyids: string[] } {
  const f = finalState(pub, chosen);
  const problems: string[] = [];
  const rootV = f.root.signed.version;
  const targetsV = f.targets.signed.version;
  // A delegator re-keyed without its delegate re-signed: clients would refuse the delegate.
  if (f.changed.has(ROOT) && !f.changed.has(TARGETS)) {
    const r = checkThreshold(bytesOf(f.targets.signed), f.targets.signatures, f.root.signed.keys, f.root.signed.roles.targets);
    if (!r.met) {
      problems.push(`root v${rootV} changes the targets keys, and the published targets v${targetsV} is not signed by them (TUF spec 5.6.3): propose --role targets and sign it with the new targets key, then publish both together`);
    }
  }
  if (f.changed.has(TARGETS)) {
    for (const [role, env] of [[BINS, f.bins], [CLAIMED, f.claimed]] as const) {
      if (f.changed.has(role)) continue;
      const d = delegationOf(f.targets.signed, role);
      const r = d ? checkThreshold(bytesOf(env.signed), env.signatures, d.keys, d.role) : undefined;
      if (!r?.met) {
        problems.push(`targets v${targetsV} changes the ${role} keys, and the published ${role} v${env.signed.version} is not signed by them (TUF spec 5.6.3): propose --role ${role} and sign it with the new ${role} key, then publish them together`);
      }
    }
  }
  // The one online key (DESIGN.md): timestamp, snapshot (root), recently-claimed (targets), bin-* (bins).
  const slots: Array<[string, string, RoleKeys | undefined]> = [
    [TIMESTAMP, `root v${rootV}`, f.root.signed.roles.timestamp],
    [SNAPSHOT, `root v${rootV}`, f.root.signed.roles.snapshot],
    [RECENTLY_CLAIMED, `targets v${targetsV}`, delegationOf(f.targets.signed, RECENTLY_CLAIMED)?.role],
    ['bin-*', `bins v${f.bins.signed.version}`, delegationOf(f.bins.signed, 'bin')?.role],
  ];
  let common: string[] | undefined;
  for (const [, , keys] of slots) {
    const ids = keys && keys.threshold === 1 ? keys.keyids : [];
    common = common ? common.filter((id) => ids.includes(id)) : [...ids];
  }
  const onlineKeyids = common ?? [];
  const where = slots.map(([name, by, keys]) => `${name}: ${keys ? `${list(keys.keyids)} (threshold ${keys.threshold}, ${by})` : `not delegated by ${by}`}`).join('; ');
  if (onlineKeyids.length === 0) {
    problems.push(`no single online key would be trusted for timestamp, snapshot, recently-claimed and every bin (${where}): propose the same new online key for all of them (root, targets and bins: --role-key online=NEW.pub.json)`);
  } else if (onlineKeyid && !onlineKeyids.includes(onlineKeyid)) {
    problems.push(`the online key ${shortKeyId(onlineKeyid)} would not be trusted for the online roles (${where}): give the matching key with --online-key`);
  }
  return { problems, onlineKeyids };
}

function samePublished(p: PendingFile, published: Envelope): boolean {
  return p.signed.version === published.signed.version && canonicalize(p.signed) === canonicalize(published.signed);
}

/** The plan for `publish` (and the report of `pending`). */
export function planPublish(i: PlanInput): PublishPlan {
  const pub = i.published;
  const plans: RolePlan[] = [];
  const ready = new Map<ProposableRole, PendingFile>();
  const live = new Map<ProposableRole, PendingFile>();
  for (const role of ORDER) {
    const p = i.pending.get(role);
    if (!p) continue;
    const published = role === ROOT ? pub.root : pub.roles[role];
    const plan: RolePlan = { role, version: p.signed.version, expires: p.signed.expires, state: 'waiting', reasons: [], sets: [] };
    plans.push(plan);
    if (samePublished(p, published.envelope)) {
      plan.state = 'published';
      continue;
    }
    if (p.pending.base.version !== published.version || p.pending.base.sha256 !== published.sha256) {
      plan.state = 'stale';
      plan.reasons.push(`proposed as the successor of ${role} v${p.pending.base.version}, but ${role} v${published.version} is published now (or its file changed): discard it and propose again (propose --replace)`);
      continue;
    }
    live.set(role, p);
    const bytes = bytesOf(p.signed);
    if (role === ROOT) {
      // TUF spec 5.3.4 / 5.3.5: threshold of the trusted root AND of the new root; version N+1.
      const chain = checkRootChain(pub.root.envelope.signed, { signatures: p.signatures, signed: p.signed as RootSigned });
      plan.sets.push({ label: `root v${pub.root.version} keys (the trusted root)`, ...chain.old }, { label: `root v${p.signed.version} keys (the new root)`, ...chain.new });
      plan.reasons.push(...chain.problems);
    } else {
      if (p.signed.version <= published.version) {
        plan.reasons.push(`TUF spec 5.6.4: ${role} v${p.signed.version} would not be newer than the published v${published.version}`);
      }
      // TUF spec 5.6.3: signed by a threshold of the keys its delegator lists, as it will be published.
      const fromPending = role === TARGETS ? ready.get(ROOT) : ready.get(TARGETS);
      const delegator = (fromPending?.signed ?? (role === TARGETS ? pub.root.envelope.signed : pub.roles.targets.envelope.signed)) as RootSigned | TargetsSigned;
      const d = delegator._type === 'root' ? { keys: delegator.keys, role: delegator.roles.targets } : delegationOf(delegator, role);
      const label = `${role} keys listed by ${delegator._type} v${delegator.version}${fromPending ? ' (pending, published together)' : ''}`;
      if (!d) {
        plan.reasons.push(`${delegator._type} v${delegator.version} does not delegate to ${role}`);
      } else {
        const r = checkThreshold(bytes, p.signatures, d.keys, d.role);
        plan.sets.push({ label, ...r });
        if (!r.met) plan.reasons.push(`TUF spec 5.6.3: ${describeThreshold(`${role} v${p.signed.version}`, `${role} in ${delegator._type} v${delegator.version}`, r)}`);
      }
    }
    // TUF spec 5.3.10 / 5.6.5 (freeze attack): clients refuse expired metadata.
    if (!(Date.parse(p.signed.expires) > i.now.getTime())) plan.reasons.push(`${role} v${p.signed.version} expired on ${p.signed.expires}: propose again with --expires DAYS`);
    if (plan.reasons.length === 0) {
      plan.state = 'ready';
      ready.set(role, p);
    }
  }
  const publish = ORDER.filter((r) => ready.has(r));
  const after = checkFinalState(pub, ready, i.onlineKeyid);
  const whenAllSigned = checkFinalState(pub, live);
  const fin = finalState(pub, ready);
  return {
    roles: plans,
    publish,
    blockers: publish.length ? after.problems : [],
    incomplete: whenAllSigned.problems,
    resignBins: !sameKeys(delegationOf(fin.bins.signed, 'bin')?.role, delegationOf(pub.roles.bins.envelope.signed, 'bin')?.role),
    resignRecentlyClaimed: !sameKeys(delegationOf(fin.targets.signed, RECENTLY_CLAIMED)?.role, delegationOf(pub.roles.targets.envelope.signed, RECENTLY_CLAIMED)?.role),
    onlineKeyids: after.onlineKeyids,
  };
}
