// The one place that reaches into tuf-js 5.0.1's Updater beyond its public API (typed here so a
// tuf-js upgrade breaks at compile time, in one file). Used by the client (client/lib/index-client.ts)
// and `tufpip-repo verify` to enumerate roles, and to close the gaps listed in DESIGN.md:
// - persistMetadata: tuf-js writes with writeFileSync straight to the final name; replaced by
//   write-temp + fsync + rename (writeFileAtomicSync);
// - loadTargets: tuf-js returns a role already in the trusted set by name, whoever delegates to it
//   this time; a role reached through a second delegator is now verified against that delegator
//   too (the "diamond delegation" fix of tuf-js 6.0.2 / python-tuf #2978).
import path from 'node:path';
import type { Updater } from 'tuf-js';
import type { Metadata, Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { MetadataKind } from '@tufjs/models';
import { writeFileAtomicSync } from '../io/atomic-file.js';

export interface TrustedSetInternals {
  root: Metadata<Root>;
  timestamp?: Metadata<Timestamp>;
  snapshot?: Metadata<Snapshot>;
  targets?: Metadata<Targets>;
  getRole(name: string): Metadata<Targets> | undefined;
}

export interface UpdaterInternals {
  trustedSet: TrustedSetInternals & { trustedSet: Record<string, Metadata<Targets> | undefined> };
  loadTargets(role: string, parentRole: string): Promise<Metadata<Targets> | undefined>;
}

interface UpdaterPrivates extends UpdaterInternals {
  dir: string;
  persistMetadata(name: string, bytes: Buffer): void;
}

export function internals(u: Updater): UpdaterInternals {
  return u as unknown as UpdaterInternals;
}

export interface HardeningOptions {
  /** Called after a new root was verified and persisted (root history; TUF spec 5.3.8). */
  onRootPersisted?: (version: number, bytes: Buffer) => void;
  /** Called before a targets role is loaded or taken from the trusted set. */
  onRoleLoading?: (role: string, parent: string) => void;
  /** Called for every (role, delegator) the delegation walk visits, cached or loaded. */
  onRoleVisited?: (role: string, parent: string) => void;
}

/** The delegator's metadata as tuf-js keys it: `root` for `targets`, else the delegating role. */
function delegatorOf(u: UpdaterPrivates, parent: string): Metadata<Root> | Metadata<Targets> | undefined {
  return parent === MetadataKind.Root ? u.trustedSet.root : u.trustedSet.getRole(parent);
}

/**
 * Closes the persistence and diamond-delegation gaps on one Updater instance (instance properties
 * shadow the prototype methods the Updater calls as `this.persistMetadata` / `this.loadTargets`).
 */
export function hardenUpdater(updater: Updater, opts: HardeningOptions = {}): Updater {
  const u = updater as unknown as UpdaterPrivates;
  const stockLoadTargets = u.loadTargets.bind(updater);
  const verifiedPairs = new Set<string>();

  u.persistMetadata = (name: string, bytes: Buffer): void => {
    // Same file name as tuf-js (it reads `${role}.json` back), written atomically.
    // root.json and timestamp.json carry trust and rollback protection across runs (TUF spec
    // 5.3.8, 5.4.5): durable. Snapshot and targets roles are re-verified against the signed
    // version/hash on every load and re-downloaded if torn (5.5.2, 5.6.2): atomic, no fsync.
    const durable = name === MetadataKind.Root || name === MetadataKind.Timestamp;
    writeFileAtomicSync(path.join(u.dir, `${encodeURIComponent(name)}.json`), bytes, durable);
    if (name === MetadataKind.Root) opts.onRootPersisted?.(u.trustedSet.root.signed.version, bytes);
  };

  u.loadTargets = async (role: string, parent: string): Promise<Metadata<Targets> | undefined> => {
    opts.onRoleLoading?.(role, parent);
    const pair = `${parent}\u0000${role}`;
    const cached = u.trustedSet.getRole(role);
    if (cached && !verifiedPairs.has(pair)) {
      // TUF spec 5.6.3 (check for an arbitrary software attack): the role must be signed by a
      // threshold of the keys *this* delegator names, not only those of the delegator that first
      // led to it. verifyDelegate throws UnsignedMetadataError (or ValueError: not delegated).
      const delegator = delegatorOf(u, parent);
      if (!delegator) throw new ReferenceError(`No trusted ${parent} metadata`);
      delegator.verifyDelegate(role, cached);
    }
    const md = await stockLoadTargets(role, parent);
    verifiedPairs.add(pair);
    opts.onRoleVisited?.(role, parent);
    return md;
  };
  return updater;
}
