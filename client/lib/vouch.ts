// Who vouched for a target (DESIGN.md "Client": every fetched file names its signers): the role
// that listed it, the keys and threshold its delegator gave that role, and the keys whose
// signatures on it verify. Pure over verified metadata.
import type { Key, Metadata, Root, Targets } from '../../tuf/models.js';
import { MetadataKind } from '../../tuf/models.js';
import { isProjectRole } from '../../metadata/roles.js';
import type { Vouch } from './api.js';

interface RoleKeys {
  keyIDs: string[];
  threshold: number;
}

/** The keys and threshold `delegator` gives `role` (root for `targets`). */
export function delegationOf(delegator: Metadata<Root> | Metadata<Targets>, role: string): { keys: Record<string, Key>; role: RoleKeys } | undefined {
  const signed = delegator.signed;
  if (signed.type === MetadataKind.Root) {
    const root = signed as Root;
    const r = root.roles[role];
    return r ? { keys: root.keys, role: r } : undefined;
  }
  const d = (signed as Targets).delegations;
  if (!d) return undefined;
  const named = d.roles?.[role];
  if (named) return { keys: d.keys, role: named };
  if (d.succinctRoles?.isDelegatedRole(role)) return { keys: d.keys, role: d.succinctRoles };
  return undefined;
}

function signs(key: Key, md: Metadata<Targets>): boolean {
  try {
    key.verifySignature(md);
    return true;
  } catch {
    // Key.verifySignature throws UnsignedMetadataError for a missing or bad signature: not a signer.
    return false;
  }
}

export function vouchFor(role: string, md: Metadata<Targets>, delegator: Metadata<Root> | Metadata<Targets>): Vouch {
  const d = delegationOf(delegator, role);
  const keyids = d ? [...d.role.keyIDs] : [];
  const signedBy = d ? keyids.filter((k) => d.keys[k] && signs(d.keys[k], md)) : [];
  return {
    kind: isProjectRole(role) ? 'developer' : 'index',
    role,
    keyids,
    threshold: d?.role.threshold ?? 0,
    signedBy,
  };
}
