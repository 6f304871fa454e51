// What changes between two versions of a role, in sentences a key holder can review before
// signing ("root: add key 1a2b3c4d; threshold 2 -> 3"). Computed from the two signed documents
// themselves, never taken from a proposer's description. Pure.
import type { AnySigned, RoleKeys, RootSigned, TargetsSigned } from './builders.js';
import { shortKeyId } from './keys.js';

function keySetChanges(name: string, before: RoleKeys | undefined, after: RoleKeys | undefined): string[] {
  if (!before && after) return [`${name}: new role, keys ${after.keyids.map(shortKeyId).join(', ')}, threshold ${after.threshold}`];
  if (before && !after) return [`${name}: role removed`];
  if (!before || !after) return [];
  const out: string[] = [];
  const added = after.keyids.filter((k) => !before.keyids.includes(k));
  const removed = before.keyids.filter((k) => !after.keyids.includes(k));
  if (added.length) out.push(`${name}: add key${added.length > 1 ? 's' : ''} ${added.map(shortKeyId).join(', ')}`);
  if (removed.length) out.push(`${name}: remove key${removed.length > 1 ? 's' : ''} ${removed.map(shortKeyId).join(', ')}`);
  if (before.threshold !== after.threshold) out.push(`${name}: threshold ${before.threshold} -> ${after.threshold}`);
  return out;
}

function targetsChanges(prev: TargetsSigned, next: TargetsSigned): string[] {
  const out: string[] = [];
  const pt = Object.keys(prev.targets ?? {});
  const nt = Object.keys(next.targets ?? {});
  const addedT = nt.filter((p) => !pt.includes(p)).length;
  const removedT = pt.filter((p) => !nt.includes(p)).length;
  const changedT = nt.filter((p) => pt.includes(p) && JSON.stringify(prev.targets[p]) !== JSON.stringify(next.targets[p])).length;
  if (addedT || removedT || changedT) out.push(`targets: ${addedT} added, ${removedT} removed, ${changedT} changed`);
  const pr = new Map((prev.delegations?.roles ?? []).map((r) => [r.name, r]));
  const nr = new Map((next.delegations?.roles ?? []).map((r) => [r.name, r]));
  for (const name of new Set([...pr.keys(), ...nr.keys()])) {
    const a = pr.get(name);
    const b = nr.get(name);
    out.push(...keySetChanges(`delegation ${name}`, a, b));
    if (a && b && (JSON.stringify(a.paths) !== JSON.stringify(b.paths) || a.terminating !== b.terminating)) out.push(`delegation ${name}: paths or terminating changed`);
  }
  const ps = prev.delegations?.succinct_roles;
  const ns = next.delegations?.succinct_roles;
  out.push(...keySetChanges(`delegation ${ns?.name_prefix ?? ps?.name_prefix ?? 'bin'}-*`, ps, ns));
  if (ps && ns && (ps.bit_length !== ns.bit_length || ps.name_prefix !== ns.name_prefix)) out.push(`hash bins: ${2 ** ps.bit_length} -> ${2 ** ns.bit_length}`);
  return out;
}

/** Sentences describing `next` against `prev` (same role), version and expiry first. */
export function describeRoleChanges(prev: AnySigned, next: AnySigned): string[] {
  const out = [`version ${prev.version} -> ${next.version}`, `expires ${prev.expires} -> ${next.expires}`];
  if (prev._type !== next._type) return [...out, `type ${prev._type} -> ${next._type}`];
  if (next._type === 'root') {
    const p = prev as RootSigned;
    for (const name of ['root', 'targets', 'snapshot', 'timestamp'] as const) out.push(...keySetChanges(name, p.roles[name], next.roles[name]));
    if (p.consistent_snapshot !== next.consistent_snapshot) out.push(`consistent_snapshot ${p.consistent_snapshot} -> ${next.consistent_snapshot}`);
  } else if (next._type === 'targets') {
    out.push(...targetsChanges(prev as TargetsSigned, next));
  }
  return out;
}
