// Signer pins: the installer's memory of who vouched for each locked package (DESIGN.md
// "Installer memory"), kept in a PEP 751 lock under `[packages.tool.tufpip]`, and the review of
// how they would change. Pure: the pins are built from what tuf-js's Updater verified (the vouch
// of a target and the trusted root) by the client; this module only compares them.
//
// A pin holds when the same index root (key IDs and threshold) is trusted and the same kind of
// signer vouches with the same key set and threshold. PEP 480 in tufpip: a release role
// `project-<p>--<v>` carries the keys and threshold of `project-<p>` (docs/design-decisions.md), so
// the pin names the project role and not the release role: a new release by the same
// maintainers keeps the pin.
import { projectRoleOf } from './role-graph.js';
import { isProjectRole } from './roles.js';
import { shortKeyId } from './short-key-id.js';

/** The trusted root a lock was made with (TUF spec 5.3: the root role's keys and threshold). */
export interface RootPin {
  keyids: string[];
  threshold: number;
}

export interface SignerPin {
  /** Index base URL (metadata at `<index>metadata/`), never with credentials. */
  index: string;
  root: RootPin;
  /** `developer`: a PEP 480 project role (maintainers' keys); `index`: the index's online key. */
  vouchedBy: 'developer' | 'index';
  /** For developer-signed projects the project role `project-<p>`; else the role that listed the file. */
  role: string;
  /** The key IDs the delegator gave that role, sorted. */
  keyids: string[];
  threshold: number;
  /** Names of the keys, when the delegation carries them (TUF key JSON has no standard field: empty today). */
  keyNames: string[];
  /** PEP 740 attestation identities (Trusted Publishers): recorded and compared by a later release. */
  attestationIdentities: unknown[];
}

/** What the client verified for a file (client/lib/api.ts `Vouch`, structurally). */
export interface VouchLike {
  kind: 'developer' | 'index';
  role: string;
  keyids: readonly string[];
  threshold: number;
}

const sorted = (ids: readonly string[]): string[] => [...new Set(ids)].sort();

/** The pin of a verified file: who vouched for it, under which root. */
export function pinOf(index: string, root: RootPin, vouch: VouchLike): SignerPin {
  const developer = vouch.kind === 'developer' && isProjectRole(vouch.role);
  return {
    index,
    root: { keyids: sorted(root.keyids), threshold: root.threshold },
    vouchedBy: developer ? 'developer' : 'index',
    // The project role, found through the role graph: a release role's delegator is its project role.
    role: developer ? projectRoleOf(vouch.role) : vouch.role,
    keyids: sorted(vouch.keyids),
    threshold: vouch.threshold,
    keyNames: [],
    attestationIdentities: [],
  };
}

/** The root role of a trusted root.json's signed part (`signed.roles.root`). */
export function rootPinOf(rootSigned: unknown): RootPin {
  const r = (rootSigned as { roles?: { root?: { keyids?: unknown; threshold?: unknown } } } | null)?.roles?.root;
  if (!r || !Array.isArray(r.keyids) || !r.keyids.every((k) => typeof k === 'string') || typeof r.threshold !== 'number') {
    throw new Error('root metadata has no root role (roles.root.keyids, threshold)');
  }
  return { keyids: sorted(r.keyids as string[]), threshold: r.threshold };
}

export const sameKeys = (a: readonly string[], b: readonly string[]): boolean => {
  const x = sorted(a);
  const y = sorted(b);
  return x.length === y.length && x.every((k, i) => k === y[i]);
};

export const sameRoot = (a: RootPin, b: RootPin): boolean => a.threshold === b.threshold && sameKeys(a.keyids, b.keyids);

/**
 * How a pin changed, for review:
 * - `root-change`: the index's root keys or threshold differ from those the lock was made with;
 * - `substitution`: a developer-signed project is now vouched for by a different key set;
 * - `downgrade`: a developer-signed project is now only index-signed;
 * - `threshold-change`: same developer keys, another threshold;
 * - `index-key-change`: an index-signed project, another online key set or threshold;
 * - `now-developer-signed`: an index-signed project is now developer-signed;
 * - `new-not-developer-signed`: a package the lock did not have, only index-signed (`--strict`).
 */
export type PinChangeKind =
  | 'root-change'
  | 'substitution'
  | 'downgrade'
  | 'threshold-change'
  | 'index-key-change'
  | 'now-developer-signed'
  | 'new-not-developer-signed';

export interface PinChange {
  kind: PinChangeKind;
  /** PEP 503-normalised package name (for `root-change`: the index URL). */
  name: string;
  fromVersion?: string;
  toVersion?: string;
  from?: SignerPin;
  to?: SignerPin;
}

/** One package's pin change, or undefined when the pin holds. The root is compared by diffRoots. */
export function comparePins(name: string, from: SignerPin, to: SignerPin, versions: { from?: string; to?: string } = {}): PinChange | undefined {
  const base = { name, fromVersion: versions.from, toVersion: versions.to, from, to };
  if (from.vouchedBy === 'developer' && to.vouchedBy === 'index') return { kind: 'downgrade', ...base };
  if (from.vouchedBy === 'index' && to.vouchedBy === 'developer') return { kind: 'now-developer-signed', ...base };
  if (!sameKeys(from.keyids, to.keyids)) return { kind: from.vouchedBy === 'developer' ? 'substitution' : 'index-key-change', ...base };
  if (from.threshold !== to.threshold) return { kind: from.vouchedBy === 'developer' ? 'threshold-change' : 'index-key-change', ...base };
  return undefined;
}

/** A package as the diff sees it: normalised name, version and pin. */
export interface PinnedPackage {
  name: string;
  version: string;
  pin: SignerPin;
}

export interface PinDiff {
  /** Every signer change: each makes `lock --check` fail. */
  changes: PinChange[];
  /** Version changes with the same signer, packages added or dropped: information only. */
  versions: { name: string; from?: string; to?: string }[];
}

/**
 * Compares a lock's packages with a fresh resolution. `strict`: a package the lock did not have
 * that is not developer-signed is a change too (like `require-developer-signed` for new packages).
 */
export function diffPins(locked: readonly PinnedPackage[], fresh: readonly PinnedPackage[], opts: { strict?: boolean } = {}): PinDiff {
  const changes: PinChange[] = [];
  const versions: PinDiff['versions'] = [];
  const before = new Map(locked.map((p) => [p.name, p]));
  const after = new Map(fresh.map((p) => [p.name, p]));
  const rootFrom = locked[0]?.pin;
  const rootTo = fresh[0]?.pin;
  if (rootFrom && rootTo && !sameRoot(rootFrom.root, rootTo.root)) changes.push({ kind: 'root-change', name: rootTo.index, from: rootFrom, to: rootTo });
  for (const p of fresh) {
    const old = before.get(p.name);
    if (!old) {
      versions.push({ name: p.name, to: p.version });
      if (opts.strict && p.pin.vouchedBy !== 'developer') changes.push({ kind: 'new-not-developer-signed', name: p.name, toVersion: p.version, to: p.pin });
      continue;
    }
    const c = comparePins(p.name, old.pin, p.pin, { from: old.version, to: p.version });
    if (c) changes.push(c);
    if (old.version !== p.version) versions.push({ name: p.name, from: old.version, to: p.version });
  }
  for (const p of locked) if (!after.has(p.name)) versions.push({ name: p.name, from: p.version });
  return { changes, versions: versions.sort((a, b) => a.name.localeCompare(b.name)) };
}

/** Who vouches, for people: `developer keys 1a2b3c4d, 5e6f7a8b (2 of 3, project-alpha)` or `index key 1a2b3c4d (1 of 1)`. */
export function describePin(p: SignerPin): string {
  const keys = p.keyids.map(shortKeyId).join(', ');
  return p.vouchedBy === 'developer'
    ? `developer key${p.keyids.length === 1 ? '' : 's'} ${keys} (${p.threshold} of ${p.keyids.length}, ${p.role})`
    : `index key${p.keyids.length === 1 ? '' : 's'} ${keys} (${p.threshold} of ${p.keyids.length})`;
}

const MEANING: Record<PinChangeKind, string> = {
  'root-change': "the index's root keys changed: every pin rests on them",
  substitution: 'another key set now signs this developer-signed project: a stolen offline claimed key, an insider, or a taken-over maintainer account',
  downgrade: 'the project is no longer signed by its developers, only by the index',
  'threshold-change': 'the number of maintainer signatures required changed',
  'index-key-change': "the index's online key for this project changed",
  'now-developer-signed': 'the project is now signed by its developers (PEP 480)',
  'new-not-developer-signed': 'a new package that only the index signed',
};

/** One line per change, meant for review in a CI log or a commit. */
export function describeChange(c: PinChange): string {
  const versions = c.fromVersion && c.toVersion && c.fromVersion !== c.toVersion ? ` ${c.fromVersion} -> ${c.toVersion}` : c.toVersion && !c.fromVersion ? ` ${c.toVersion}` : '';
  if (c.kind === 'root-change') {
    const r = (p?: SignerPin) => (p ? `${p.root.keyids.map(shortKeyId).join(', ')} (${p.root.threshold} of ${p.root.keyids.length})` : '?');
    return `${c.kind}: index ${c.name}: root keys ${r(c.from)} -> ${r(c.to)}: ${MEANING[c.kind]}`;
  }
  const from = c.from ? describePin(c.from) : 'not locked';
  return `${c.kind}: ${c.name}${versions}: ${from} -> ${c.to ? describePin(c.to) : 'gone'}: ${MEANING[c.kind]}`;
}
