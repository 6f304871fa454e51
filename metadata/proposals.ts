// Offline-role proposals (issue 5): the next version of root, targets, bins or claimed with key,
// threshold and expiry changes applied. Pure: the caller reads key files and passes `expires`
// (computed from a passed-in `now`). Each change is checked so that the proposal can be signed to
// its thresholds at all; whether it *is* signed is for metadata/publish-plan.ts.
//
// What each role's key flags act on (a role's own keys live in its delegator):
//   root     --add-key/--remove-key/--threshold: the root role's keys;
//            --role-key targets|snapshot|timestamp|online=PUB: keys of a top-level role
//            (online = timestamp + snapshot).
//   targets  --role-key claimed|recently-claimed|bins|online=PUB (online = recently-claimed).
//   bins     --add-key/--remove-key/--threshold, --role-key bin|online=PUB: the keys of every
//            bin-XXXX (TAP 15 succinct_roles), i.e. the online key.
//   claimed  --project P with --add-key/--remove-key/--threshold: that project's maintainer keys.
import { buildRoot, buildTargets, type DelegatedRoleJson, type RoleKeys, type RootSigned, type TargetsSigned } from './builders.js';
import { TufpipError } from './errors.js';
import { keyIdOf, shortKeyId, type PublicKeyJson } from './keys.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP, projectRole } from './roles.js';

/** Offline roles a ceremony can propose (PEP 458 / PEP 480 role graph). */
export const PROPOSABLE_ROLES = [ROOT, TARGETS, BINS, CLAIMED] as const;
export type ProposableRole = (typeof PROPOSABLE_ROLES)[number];

export function isProposableRole(role: string): role is ProposableRole {
  return (PROPOSABLE_ROLES as readonly string[]).includes(role);
}

export interface ProposalChanges {
  /** New expiry (TUF "expires" format), computed by the caller from now + days. */
  expires: string;
  /** --add-key */
  addKeys: PublicKeyJson[];
  /** --remove-key, as full key IDs */
  removeKeys: string[];
  /** --threshold */
  threshold?: number;
  /** --role-key ROLE=PUB (repeatable): the keys of ROLE become exactly these. */
  roleKeys: Map<string, PublicKeyJson[]>;
  /** --role-threshold ROLE=N */
  roleThresholds: Map<string, number>;
  /** claimed: the (normalised) project whose delegation changes. */
  project?: string;
  /** root: accept a root threshold of 1 (DESIGN.md: only with an explicit flag). */
  allowSingleRootKey?: boolean;
}

export function emptyChanges(expires: string): ProposalChanges {
  return { expires, addKeys: [], removeKeys: [], roleKeys: new Map(), roleThresholds: new Map() };
}

/** Roles signed by the one online key: the repository signs them with threshold 1. */
const ONLINE_SLOTS = new Set<string>([TIMESTAMP, SNAPSHOT, RECENTLY_CLAIMED, 'bin']);

const ids = (l: string[]) => l.map(shortKeyId).join(', ') || 'none';

interface KeySet {
  keyids: string[];
  threshold: number;
}

/** --add-key / --remove-key / --threshold applied to one key set; throws on anything unusable. */
export function editKeySet(cur: KeySet, what: string, add: PublicKeyJson[], remove: string[], threshold: number | undefined): { set: KeySet; added: Record<string, PublicKeyJson> } {
  const keyids = [...cur.keyids];
  for (const id of remove) {
    const i = keyids.indexOf(id);
    if (i < 0) throw new TufpipError('USAGE', `--remove-key ${shortKeyId(id)}: not a key of ${what} (its keys: ${ids(cur.keyids)})`);
    keyids.splice(i, 1);
  }
  const added: Record<string, PublicKeyJson> = {};
  for (const k of add) {
    const id = keyIdOf(k);
    if (keyids.includes(id) || added[id]) throw new TufpipError('USAGE', `--add-key ${shortKeyId(id)}: already a key of ${what}`);
    keyids.push(id);
    added[id] = k;
  }
  return { set: { keyids, threshold: checkedThreshold(keyids.length, threshold ?? cur.threshold, threshold !== undefined, what) }, added };
}

/** --role-key: the key set becomes exactly `keys`. */
function replaceKeySet(cur: KeySet, what: string, keys: PublicKeyJson[], threshold: number | undefined): { set: KeySet; added: Record<string, PublicKeyJson> } {
  const added: Record<string, PublicKeyJson> = {};
  for (const k of keys) {
    const id = keyIdOf(k);
    if (added[id]) throw new TufpipError('USAGE', `--role-key: key ${shortKeyId(id)} is given twice for ${what}`);
    added[id] = k;
  }
  const keyids = Object.keys(added);
  return { set: { keyids, threshold: checkedThreshold(keyids.length, threshold ?? cur.threshold, threshold !== undefined, what) }, added };
}

function checkedThreshold(n: number, t: number, explicit: boolean, what: string): number {
  if (n === 0) throw new TufpipError('USAGE', `${what} would have no key left: every role needs at least one key`);
  if (!Number.isInteger(t) || t < 1) throw new TufpipError('USAGE', `threshold of ${what} must be a whole number >= 1, got ${t}`);
  if (t > n) {
    throw new TufpipError('USAGE', explicit
      ? `threshold ${t} of ${what} cannot be reached with ${n} key${n === 1 ? '' : 's'}`
      : `${what} would have ${n} key${n === 1 ? '' : 's'} for its threshold ${t}: give a new threshold (--threshold / --role-threshold)`);
  }
  return t;
}

function verifyOnlineSlot(slot: string, set: KeySet): void {
  // DESIGN.md: one online key signs timestamp, snapshot, recently-claimed and every bin.
  if (ONLINE_SLOTS.has(slot) && set.threshold !== 1) {
    throw new TufpipError('USAGE', `${slot} is signed by the repository's one online key: its threshold must be 1, got ${set.threshold}`);
  }
}

/** Expands --role-key / --role-threshold names for one proposal (`online` is an alias). */
function roleEdits(c: ProposalChanges, allowed: string[], online: string[], forRole: string): Map<string, { keys?: PublicKeyJson[]; threshold?: number }> {
  const out = new Map<string, { keys?: PublicKeyJson[]; threshold?: number }>();
  const expand = (name: string, flag: string) => {
    if (name === 'online') return online;
    if (!allowed.includes(name)) {
      throw new TufpipError('USAGE', `${flag} ${name}=...: ${forRole} lists the keys of ${[...allowed, 'online'].join(', ')}, not ${name}${name === forRole || name === ROOT ? ' (a role\'s own keys are listed by the role that delegates to it)' : ''}`);
    }
    return [name];
  };
  for (const [name, keys] of c.roleKeys) for (const r of expand(name, '--role-key')) out.set(r, { ...out.get(r), keys });
  for (const [name, t] of c.roleThresholds) for (const r of expand(name, '--role-threshold')) out.set(r, { ...out.get(r), threshold: t });
  return out;
}

function noKeyFlags(c: ProposalChanges, role: string, hint: string): void {
  if (c.addKeys.length || c.removeKeys.length || c.threshold !== undefined) {
    throw new TufpipError('USAGE', `--add-key/--remove-key/--threshold do not apply to ${role}: ${hint}`);
  }
}

/** Keeps only the keys some role still lists, in a stable (sorted) order. */
function usedKeys(all: Record<string, PublicKeyJson>, sets: KeySet[]): Record<string, PublicKeyJson> {
  const used = new Set(sets.flatMap((s) => s.keyids));
  const out: Record<string, PublicKeyJson> = {};
  for (const id of Object.keys(all).sort()) if (used.has(id)) out[id] = all[id];
  return out;
}

/** TUF spec 4.3: the next root (version + 1) with the requested key and threshold changes. */
export function planRootProposal(cur: RootSigned, c: ProposalChanges): RootSigned {
  const allKeys: Record<string, PublicKeyJson> = { ...cur.keys };
  const roles: Record<string, RoleKeys> = {};
  const rootEdit = editKeySet(cur.roles.root, 'root', c.addKeys, c.removeKeys, c.threshold);
  Object.assign(allKeys, rootEdit.added);
  roles.root = rootEdit.set;
  if (rootEdit.set.threshold === 1 && cur.roles.root.threshold > 1 && !c.allowSingleRootKey) {
    throw new TufpipError('USAGE', 'a root threshold of 1 lets one stolen key replace all trust: pass --allow-single-root-key to accept that');
  }
  const edits = roleEdits(c, [TARGETS, SNAPSHOT, TIMESTAMP], [TIMESTAMP, SNAPSHOT], 'root');
  for (const name of [TARGETS, SNAPSHOT, TIMESTAMP] as const) {
    const e = edits.get(name);
    const current = cur.roles[name];
    if (!e) {
      roles[name] = { keyids: [...current.keyids], threshold: current.threshold };
      continue;
    }
    const r = e.keys ? replaceKeySet(current, name, e.keys, e.threshold) : editKeySet(current, name, [], [], e.threshold);
    verifyOnlineSlot(name, r.set);
    Object.assign(allKeys, r.added);
    roles[name] = r.set;
  }
  return buildRoot({
    version: cur.version + 1,
    expires: c.expires,
    keys: usedKeys(allKeys, Object.values(roles)),
    roles: roles as RootSigned['roles'],
  });
}

/** The next `targets`: same targets, delegations to claimed / recently-claimed / bins re-keyed. */
export function planTargetsProposal(cur: TargetsSigned, c: ProposalChanges): TargetsSigned {
  noKeyFlags(c, TARGETS, "the targets role's own keys are in root (propose --role root --role-key targets=PUB.json); the keys it delegates to are changed with --role-key claimed|recently-claimed|bins|online=PUB.json");
  const edits = roleEdits(c, [CLAIMED, RECENTLY_CLAIMED, BINS], [RECENTLY_CLAIMED], TARGETS);
  const d = cur.delegations ?? { keys: {}, roles: [] };
  const allKeys: Record<string, PublicKeyJson> = { ...d.keys };
  const roles: DelegatedRoleJson[] = [];
  for (const r of d.roles ?? []) {
    const e = edits.get(r.name);
    if (!e) {
      roles.push({ ...r, keyids: [...r.keyids] });
      continue;
    }
    const x = e.keys ? replaceKeySet(r, r.name, e.keys, e.threshold) : editKeySet(r, r.name, [], [], e.threshold);
    verifyOnlineSlot(r.name, x.set);
    Object.assign(allKeys, x.added);
    roles.push({ ...r, keyids: x.set.keyids, threshold: x.set.threshold });
    edits.delete(r.name);
  }
  if (edits.size) throw new TufpipError('USAGE', `targets v${cur.version} does not delegate to ${[...edits.keys()].join(', ')}`);
  return buildTargets(cur.version + 1, c.expires, cur.targets, { ...d, keys: usedKeys(allKeys, roles), roles });
}

/** The next `bins`: same succinct hash-bin delegation (TAP 15) with the bin-XXXX keys changed. */
export function planBinsProposal(cur: TargetsSigned, c: ProposalChanges): TargetsSigned {
  const d = cur.delegations;
  const succinct = d?.succinct_roles;
  if (!d || !succinct) throw new TufpipError('BAD_INPUT', `bins v${cur.version} has no succinct hash-bin delegation`);
  const edits = roleEdits(c, ['bin'], ['bin'], BINS);
  const e = edits.get('bin');
  if (e && (c.addKeys.length || c.removeKeys.length || c.threshold !== undefined)) {
    throw new TufpipError('USAGE', 'give either --role-key bin|online=PUB.json (replace) or --add-key/--remove-key/--threshold (edit), not both');
  }
  const x = e?.keys
    ? replaceKeySet(succinct, 'bin-*', e.keys, e.threshold)
    : editKeySet(succinct, 'bin-*', c.addKeys, c.removeKeys, e?.threshold ?? c.threshold);
  verifyOnlineSlot('bin', x.set);
  const keys = usedKeys({ ...d.keys, ...x.added }, [x.set]);
  return buildTargets(cur.version + 1, c.expires, cur.targets, { ...d, keys, succinct_roles: { ...succinct, keyids: x.set.keyids, threshold: x.set.threshold } });
}

/** The next `claimed`: PEP 480 project delegations, optionally one project's keys changed. */
export function planClaimedProposal(cur: TargetsSigned, c: ProposalChanges): TargetsSigned {
  if (c.roleKeys.size || c.roleThresholds.size) throw new TufpipError('USAGE', '--role-key/--role-threshold do not apply to claimed: give --project P with --add-key/--remove-key/--threshold');
  const d = cur.delegations ?? { keys: {}, roles: [] };
  const roles = (d.roles ?? []).map((r) => ({ ...r, keyids: [...r.keyids] }));
  const allKeys: Record<string, PublicKeyJson> = { ...d.keys };
  if (c.project === undefined) {
    noKeyFlags(c, CLAIMED, 'claimed delegates to one role per project: name it with --project P');
  } else {
    const name = projectRole(c.project);
    const r = roles.find((x) => x.name === name);
    if (!r) throw new TufpipError('NOT_FOUND', `project ${c.project} is not in claimed v${cur.version} (claim it first: tufpip-repo claim)`);
    if (!c.addKeys.length && !c.removeKeys.length && c.threshold === undefined) {
      throw new TufpipError('USAGE', `--project ${c.project}: give the changes (--add-key, --remove-key, --threshold)`);
    }
    const x = editKeySet(r, name, c.addKeys, c.removeKeys, c.threshold);
    Object.assign(allKeys, x.added);
    r.keyids = [...x.set.keyids].sort();
    r.threshold = x.set.threshold;
  }
  return buildTargets(cur.version + 1, c.expires, cur.targets, { ...d, keys: usedKeys(allKeys, roles), roles });
}
