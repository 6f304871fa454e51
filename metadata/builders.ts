// Builders for the signed part of every role (TUF spec "Document formats"), as plain wire JSON.
// Pure: time comes in as `expires` strings computed by the caller from a passed-in `now`.
import { SPEC_VERSION } from './profile.js';
import { BIN_PREFIX, CLAIMED, RECENTLY_CLAIMED, BINS, SNAPSHOT, bitLengthFor } from './roles.js';
import { TOP_DELEGATIONS } from './role-graph.js';
import type { PublicKeyJson } from './keys.js';
import { canonicalVersionMeta, canonicalString } from './canonical.js';

export interface Hashes {
  sha256: string;
  sha512?: string;
}
export interface TargetInfo {
  length: number;
  hashes: Hashes;
  custom?: Record<string, unknown>;
}
export interface RoleKeys {
  keyids: string[];
  threshold: number;
}
export interface DelegatedRoleJson extends RoleKeys {
  name: string;
  terminating: boolean;
  paths: string[];
}
export interface SuccinctRolesJson extends RoleKeys {
  bit_length: number;
  name_prefix: string;
}
export interface DelegationsJson {
  keys: Record<string, PublicKeyJson>;
  roles?: DelegatedRoleJson[];
  succinct_roles?: SuccinctRolesJson;
}
interface Common {
  spec_version: string;
  version: number;
  expires: string;
}
export interface RootSigned extends Common {
  _type: 'root';
  consistent_snapshot: boolean;
  keys: Record<string, PublicKeyJson>;
  roles: Record<'root' | 'targets' | 'snapshot' | 'timestamp', RoleKeys>;
}
export interface TargetsSigned extends Common {
  _type: 'targets';
  targets: Record<string, TargetInfo>;
  delegations?: DelegationsJson;
}
export interface SnapshotSigned extends Common {
  _type: 'snapshot';
  meta: Record<string, { version: number; length?: number; hashes?: Hashes }>;
}
export interface TimestampSigned extends Common {
  _type: 'timestamp';
  meta: { 'snapshot.json': { version: number; length: number; hashes: Hashes } };
}
export type AnySigned = RootSigned | TargetsSigned | SnapshotSigned | TimestampSigned;

export interface SignatureJson {
  keyid: string;
  sig: string;
}
export interface Envelope<T extends AnySigned = AnySigned> {
  signatures: SignatureJson[];
  signed: T;
}

export interface RootInput {
  version: number;
  expires: string;
  keys: Record<string, PublicKeyJson>;
  roles: RootSigned['roles'];
}

/** TUF spec 4.3 (root.json); consistent snapshots always on (DESIGN.md served tree). */
export function buildRoot(i: RootInput): RootSigned {
  return {
    _type: 'root',
    spec_version: SPEC_VERSION,
    version: i.version,
    expires: i.expires,
    consistent_snapshot: true,
    keys: i.keys,
    roles: i.roles,
  };
}

export function buildTargets(version: number, expires: string, targets: Record<string, TargetInfo>, delegations?: DelegationsJson): TargetsSigned {
  const t: TargetsSigned = { _type: 'targets', spec_version: SPEC_VERSION, version, expires, targets };
  if (delegations) t.delegations = delegations;
  return t;
}

export interface TopDelegationKeys {
  claimed: { key: PublicKeyJson; keyid: string };
  recentlyClaimed: { key: PublicKeyJson; keyid: string };
  bins: { key: PublicKeyJson; keyid: string };
}

/**
 * DESIGN.md role graph: `targets` delegates, in order, to `claimed` and `recently-claimed`
 * (PEP 480, packages only, not terminating so unclaimed projects fall through) and `bins`
 * (PEP 458, everything the repository signs).
 */
export function topDelegations(k: TopDelegationKeys): DelegationsJson {
  const keys: Record<string, PublicKeyJson> = {
    [k.claimed.keyid]: k.claimed.key,
    [k.recentlyClaimed.keyid]: k.recentlyClaimed.key,
    [k.bins.keyid]: k.bins.key,
  };
  const keyid = { [CLAIMED]: k.claimed.keyid, [RECENTLY_CLAIMED]: k.recentlyClaimed.keyid, [BINS]: k.bins.keyid };
  return {
    keys,
    roles: TOP_DELEGATIONS.map((d) => ({ name: d.name, keyids: [keyid[d.name]], threshold: 1, terminating: d.terminating, paths: [...d.paths] })),
  };
}

/** TAP 15 succinct hash-bin delegation from `bins` to every `bin-XXXX` (online key). */
export function binDelegations(onlineKey: PublicKeyJson, onlineKeyId: string, binCount: number): DelegationsJson {
  return {
    keys: { [onlineKeyId]: onlineKey },
    succinct_roles: {
      keyids: [onlineKeyId],
      threshold: 1,
      bit_length: bitLengthFor(binCount),
      name_prefix: BIN_PREFIX,
    },
  };
}

/** An empty delegation list (claimed / recently-claimed before any project is claimed). */
export function emptyDelegations(): DelegationsJson {
  return { keys: {}, roles: [] };
}

/**
 * TUF spec 4.4 (snapshot.json), versions only (DESIGN.md: keeps a 16,384-bin snapshot small).
 * Returns the canonical JSON text of the signed part directly: building an object of 16,385
 * entries and canonicalising it generically is the slowest step of every `add`.
 */
export function canonicalSnapshot(version: number, expires: string, versions: Map<string, number>): string {
  // Keys in sorted order: _type, expires, meta, spec_version, version.
  return (
    `{"_type":"${SNAPSHOT}","expires":${canonicalString(expires)},"meta":${canonicalVersionMeta(versions)},` +
    `"spec_version":${canonicalString(SPEC_VERSION)},"version":${version}}`
  );
}

export function buildSnapshot(version: number, expires: string, versions: Map<string, number>): SnapshotSigned {
  const meta: SnapshotSigned['meta'] = {};
  for (const [name, v] of versions) meta[name] = { version: v };
  return { _type: 'snapshot', spec_version: SPEC_VERSION, version, expires, meta };
}

/** TUF spec 4.6 (timestamp.json): snapshot version, length and hash. */
export function buildTimestamp(version: number, expires: string, snapshot: { version: number; length: number; sha256: string }): TimestampSigned {
  return {
    _type: 'timestamp',
    spec_version: SPEC_VERSION,
    version,
    expires,
    meta: { 'snapshot.json': { version: snapshot.version, length: snapshot.length, hashes: { sha256: snapshot.sha256 } } },
  };
}

/** Serialised metadata file: canonical JSON of the envelope, reusing the signed text. */
export function serializeEnvelope(signedCanonical: string, signatures: SignatureJson[]): string {
  const sigs = signatures.map((s) => `{"keyid":${canonicalString(s.keyid)},"sig":${canonicalString(s.sig)}}`).join(',');
  return `{"signatures":[${sigs}],"signed":${signedCanonical}}`;
}
