// The plan step of a publication (DESIGN.md "Publishing rules"): from the published state, the
// edits and the clock, the signed payloads of every role that changes. Pure: no I/O, no clock
// (`now` is given: TUF spec 5.1, one reference time per operation), no keys. The pipeline
// (repo-tools/txn/) signs what this returns, self-checks it and persists it.
import { canonicalize } from './canonical.js';
import { buildTargets, buildTimestamp, canonicalSnapshot, type TargetInfo, type TargetsSigned } from './builders.js';
import { TufpipError } from './errors.js';
import { sha256Hex } from './hash.js';
import { expiresAt, expiryKeyForRole, type ExpiryKey } from './profile.js';
import { isOnlineRole } from './roles.js';
import type { SnapshotText } from './snapshot-text.js';

/** Up to this many changed roles, the snapshot is edited as text; past it, one full build is cheaper. */
export const SNAPSHOT_TEXT_EDITS = 64;

/** What the plan reads of the published repository (nothing at init: timestamp and snapshot version 0). */
export interface PublishedState {
  timestampVersion: number;
  snapshotVersion: number;
  /** The published snapshot as text, when it has tufpip's canonical shape (metadata/snapshot-text.ts). */
  snapshotText(): SnapshotText | undefined;
  /** Version of a role in the published snapshot (undefined: not listed). */
  versionOf(role: string): number | undefined;
  /** Every "<role>.json" -> version of the published snapshot; read only for a snapshot built in full. */
  versions(): ReadonlyMap<string, number>;
  /** The published version and payload of every role edited in place (`targetEdits`, `resign`). */
  current: ReadonlyMap<string, { version: number; signed: TargetsSigned }>;
}

/** The changes of one publication. A role appears in at most one of targetEdits/replaced/presigned. */
export interface PublicationEdits {
  /** Online targets roles edited in place: target path -> new info, or null to remove it. */
  targetEdits: ReadonlyMap<string, ReadonlyMap<string, TargetInfo | null>>;
  /** Online targets roles re-signed with unchanged content (bump). */
  resign: ReadonlySet<string>;
  /** Roles built whole by the caller (version and expiry set), signed by the signers given with them. */
  replaced: ReadonlyMap<string, TargetsSigned>;
  /** Roles signed elsewhere (PEP 480 maintainers): role -> its version; published as they are. */
  presigned: ReadonlyMap<string, number>;
  /** Online bins rebuilt in bulk by the rebuild stage (repo-tools/txn/bin-rebuild*.ts): planned by version only. */
  bulk: ReadonlySet<string>;
  /** Re-sign snapshot even if no targets role changed (bump). */
  forceSnapshot: boolean;
  /** A new root version is published with this plan (it changes the snapshot too). */
  newRoot: boolean;
}

/**
 * Who signs a payload: `online` the online key; `given` the signers handed in with the edit;
 * `presigned` nobody (bytes given); `bulk` the online key, in the rebuild stage.
 */
export type SignerSlot = 'online' | 'given' | 'presigned' | 'bulk';

export interface RolePayload {
  role: string;
  version: number;
  slot: SignerSlot;
  /** Canonical JSON of the signed part (`online` and `given` only). */
  signedText?: string;
  /** Expiry (''), and its period in days (0), as the due summary records them; absent: not recorded. */
  due?: { expires: string; periodDays: number };
}

export interface PublicationPlan {
  /** In publication order: roles edited in place, then replaced roles, then presigned ones. */
  payloads: RolePayload[];
  /** "<role>.json" -> new version, for every targets role of the plan (TUF spec 4.4). */
  versionEdits: Map<string, number>;
  /** The new snapshot, when anything it lists (or the root) changes. */
  snapshot?: {
    version: number;
    expires: string;
    signedText: string;
    /** Edited as text from the published one, or built in full (then `newVersions` is the whole map). */
    built: 'edited' | 'in-full';
    newVersions?: Map<string, number>;
  };
  /** TUF spec 4.6: the timestamp as a function of the signed snapshot bytes it names. */
  timestamp(snapshotBytes: Uint8Array): { version: number; expires: string; signedText: string };
}

/**
 * The next version of a targets role edited in place: its targets with `edits` applied, version
 * and expiry set, delegations unchanged. With `inPlace`, `cur.targets` itself is edited (a caller
 * that parsed the role for this alone: the bulk rebuild).
 */
export function editedTargetsText(cur: TargetsSigned, edits: Iterable<readonly [string, TargetInfo | null]>, version: number, expires: string, inPlace = false): string {
  const targets: Record<string, TargetInfo> = inPlace ? cur.targets : { ...cur.targets };
  for (const [p, info] of edits) {
    if (info) targets[p] = info;
    else delete targets[p];
  }
  return canonicalize(buildTargets(version, expires, targets, cur.delegations));
}

export function planPublication(state: PublishedState, edits: PublicationEdits, now: Date, expiryDays: Record<ExpiryKey, number>): PublicationPlan {
  const expires = (role: string) => expiresAt(now, expiryDays[expiryKeyForRole(role)]);
  const due = (role: string, exp: string) => ({ expires: exp, periodDays: expiryDays[expiryKeyForRole(role)] });
  const payloads: RolePayload[] = [];
  const versionEdits = new Map<string, number>();
  const add = (p: RolePayload) => {
    payloads.push(p);
    versionEdits.set(`${p.role}.json`, p.version);
  };

  for (const role of new Set([...edits.targetEdits.keys(), ...edits.resign])) {
    if (edits.replaced.has(role)) continue;
    if (edits.bulk.has(role)) {
      const version = state.versionOf(role);
      if (version === undefined) throw new TufpipError('NOT_FOUND', `role ${role} is not in the published snapshot`);
      add({ role, version: version + 1, slot: 'bulk', due: due(role, expires(role)) });
      continue;
    }
    const cur = state.current.get(role);
    if (!cur) throw new TufpipError('NOT_FOUND', `role ${role} is not in the published snapshot`);
    const exp = expires(role);
    const signedText = editedTargetsText(cur.signed, edits.targetEdits.get(role) ?? [], cur.version + 1, exp);
    add({ role, version: cur.version + 1, slot: 'online', signedText, due: due(role, exp) });
  }
  for (const [role, signed] of edits.replaced) {
    if (edits.targetEdits.has(role)) throw new Error(`role ${role} both edited and replaced in one transaction`);
    add({ role, version: signed.version, slot: 'given', signedText: canonicalize(signed), due: due(role, signed.expires) });
  }
  for (const [role, version] of edits.presigned) {
    if (edits.targetEdits.has(role) || edits.replaced.has(role)) throw new Error(`role ${role} both edited and replaced in one transaction`);
    // An offline role changed: the due summary must forget its cached expiry (bump warnings).
    add({ role, version, slot: 'presigned', ...(isOnlineRole(role) ? {} : { due: { expires: '', periodDays: 0 } }) });
  }

  // TUF spec 4.4: snapshot lists the version of every targets role.
  let snapshot: PublicationPlan['snapshot'];
  if (versionEdits.size > 0 || edits.forceSnapshot || edits.newRoot) {
    const version = state.snapshotVersion + 1;
    const exp = expires('snapshot');
    // A few versions changed in a snapshot in tufpip's canonical shape: its text is edited (a
    // 16,385-entry snapshot is not re-canonicalised on every add). Otherwise, or when a role is
    // new, it is built in full. Either way the self-check verifies the bytes.
    const edited = versionEdits.size <= SNAPSHOT_TEXT_EDITS ? state.snapshotText()?.next(version, exp, versionEdits) : undefined;
    if (edited !== undefined) {
      snapshot = { version, expires: exp, signedText: edited, built: 'edited' };
    } else {
      const newVersions = new Map(state.versions());
      for (const [file, v] of versionEdits) newVersions.set(file, v);
      snapshot = { version, expires: exp, signedText: canonicalSnapshot(version, exp, newVersions), built: 'in-full', newVersions };
    }
  }
  const snapshotVersion = snapshot?.version ?? state.snapshotVersion;
  const timestampExpires = expires('timestamp');
  const timestampVersion = state.timestampVersion + 1;
  return {
    payloads,
    versionEdits,
    snapshot,
    timestamp(snapshotBytes) {
      // TUF spec 4.6: timestamp names the snapshot by version, length and hash.
      const signed = buildTimestamp(timestampVersion, timestampExpires, {
        version: snapshotVersion,
        length: snapshotBytes.length,
        sha256: sha256Hex(snapshotBytes),
      });
      return { version: timestampVersion, expires: timestampExpires, signedText: canonicalize(signed) };
    },
  };
}
