// The events a watcher reports (docs/watch.md), derived from two verified views of an
// index (metadata/watch-view.ts) or from what the watcher observed. Pure: no I/O, `now` passed in.
//
// Alarms: an unauthorized file (its project has expected hashes, or is developer-signed, and the
// file is neither expected nor signed by the maintainers), equivocation (one version, two
// contents), a version going backwards, a fork between two watchers' logs, a refused update.
// Everything else is a notice.
import { isTransitionPath } from './key-transition.js';
import { shortKeyId } from './short-key-id.js';
import type { KeySet, ProjectView, WatchView, WatchVouch } from './watch-view.js';

export type WatchEventKind =
  | 'file-added'
  | 'file-removed'
  | 'unsigned-file'
  | 'delegation-changed'
  | 'root-rotated'
  | 'online-key-changed'
  | 'expiring'
  | 'equivocation'
  | 'rollback'
  | 'fork'
  | 'refused'
  | 'history-gap';

export interface WatchEvent {
  kind: WatchEventKind;
  alarm: boolean;
  /** One line for people. */
  message: string;
  /** Snapshot version the event was seen in. */
  snapshot?: number;
  project?: string;
  path?: string;
  sha256?: string;
  vouch?: WatchVouch;
  /** file-added: expected by the maintainers (their own signature, or a hash they listed). */
  authorized?: boolean;
  role?: string;
  version?: number;
  before?: unknown;
  after?: unknown;
}

/** The hashes each project's maintainers said to expect (`tufpip watch expect`). */
export type Expectations = Readonly<Record<string, readonly string[]>>;

const keysText = (k: KeySet | undefined) => (k ? `${k.threshold} of ${k.keyids.map(shortKeyId).join(', ')}` : 'none');
const sameKeys = (a: KeySet | undefined, b: KeySet | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
export const vouchText = (v: WatchVouch) => `${v.kind === 'developer' ? 'maintainers' : "index's online key"} (${v.role}: ${keysText(v)})`;

/**
 * Source Spotter model: a file is authorized when its project's maintainers signed it (PEP 480
 * release roles count as their own expectation) or listed its sha256. A project with no
 * expectation and no maintainer keys has nobody to authorize: its files are notices.
 */
export function authorizationOf(project: string, view: ProjectView | undefined, sha256: string, vouch: WatchVouch, expected: Expectations): { authorized?: boolean; alarm: boolean } {
  if (vouch.kind === 'developer') return { authorized: true, alarm: false };
  const list = expected[project];
  if (list && list.length) return list.includes(sha256) ? { authorized: true, alarm: false } : { authorized: false, alarm: true };
  if (view && view.signing !== 'index-signed') return { authorized: false, alarm: true };
  return { alarm: false };
}

function projectEvents(project: string, a: ProjectView | undefined, b: ProjectView | undefined, snapshot: number, expected: Expectations): WatchEvent[] {
  const out: WatchEvent[] = [];
  const sa = a?.signing ?? 'index-signed';
  const sb = b?.signing ?? 'index-signed';
  if (sa !== sb || !sameKeys(a?.keys, b?.keys)) {
    const what = sa !== sb ? `${sa} -> ${sb}` : `keys ${keysText(a?.keys)} -> ${keysText(b?.keys)}`;
    out.push({ kind: 'delegation-changed', alarm: false, snapshot, project, message: `project ${project}: delegation changed: ${what}${sa !== sb && b?.keys ? ` (keys ${keysText(b.keys)})` : ''}`, before: { signing: sa, keys: a?.keys }, after: { signing: sb, keys: b?.keys } });
  }
  const fa = a?.files ?? {};
  const fb = b?.files ?? {};
  for (const [path, f] of Object.entries(fb)) {
    const old = fa[path];
    if (old && old.sha256 === f.sha256 && old.vouch.kind === f.vouch.kind) continue;
    const auth = authorizationOf(project, b, f.sha256, f.vouch, expected);
    const state = auth.authorized === true ? 'authorized' : auth.authorized === false ? 'NOT AUTHORIZED' : 'no expectation';
    // A key transition is the maintainers' signed record of a key rotation (metadata/key-transition.ts), not a release.
    const what = isTransitionPath(path) ? ` (a key transition of ${project}: its maintainers' record of a key rotation, which tufpip lock follows)` : '';
    out.push({ kind: 'file-added', ...auth, snapshot, project, path, sha256: f.sha256, vouch: f.vouch, message: `${path} appeared${what}, sha256 ${f.sha256}, vouched by ${vouchText(f.vouch)}: ${state}` });
  }
  const ua = a?.unsigned ?? {};
  for (const [path, f] of Object.entries(b?.unsigned ?? {})) {
    if (ua[path]?.sha256 === f.sha256) continue;
    out.push({ kind: 'unsigned-file', alarm: true, authorized: false, snapshot, project, path, sha256: f.sha256, vouch: f.vouch, message: `${path} (sha256 ${f.sha256}) listed by ${vouchText(f.vouch)} in developer-signed project ${project}, which its maintainers did not sign (PEP 480 signature gap: clients refuse it)` });
  }
  for (const [path, f] of Object.entries(fa)) {
    if (fb[path]) continue;
    out.push({ kind: 'file-removed', alarm: false, snapshot, project, path, sha256: f.sha256, vouch: f.vouch, message: `${path} disappeared (was sha256 ${f.sha256})` });
  }
  return out;
}

/** Events between two consecutive verified views of one index (the previous view first). */
export function diffViews(prev: WatchView, next: WatchView, expected: Expectations = {}): WatchEvent[] {
  const out: WatchEvent[] = [];
  const snapshot = next.snapshotVersion;
  if (prev.root.version !== next.root.version) {
    const roles = Object.keys({ ...prev.root.roles, ...next.root.roles }).sort();
    const changes = roles.filter((r) => !sameKeys(prev.root.roles[r], next.root.roles[r])).map((r) => `${r} ${keysText(prev.root.roles[r])} -> ${keysText(next.root.roles[r])}`);
    out.push({ kind: 'root-rotated', alarm: false, snapshot, role: 'root', version: next.root.version, message: `root rotated: version ${prev.root.version} -> ${next.root.version}${changes.length ? `: ${changes.join('; ')}` : ' (same keys)'}`, before: prev.root, after: next.root });
  }
  if (JSON.stringify(prev.onlineKeys) !== JSON.stringify(next.onlineKeys)) {
    out.push({ kind: 'online-key-changed', alarm: false, snapshot, message: `online key changed: ${prev.onlineKeys.map(shortKeyId).join(', ')} -> ${next.onlineKeys.map(shortKeyId).join(', ')}`, before: prev.onlineKeys, after: next.onlineKeys });
  }
  for (const project of [...new Set([...Object.keys(prev.projects), ...Object.keys(next.projects)])].sort()) {
    out.push(...projectEvents(project, prev.projects[project], next.projects[project], snapshot, expected));
  }
  return out;
}

/** Offline roles already warned about, by role: the expiry that was reported. */
export type ExpiryWarned = Record<string, string>;

/**
 * PEP 458 "Metadata Expiry Times": an offline role (root, targets, claimed, bins) that expires
 * within `days` of `now`, reported once per expiry date (a renewal with a new date warns again).
 */
export function expiryEvents(view: WatchView, now: Date, days: number, warned: ExpiryWarned): { events: WatchEvent[]; warned: ExpiryWarned } {
  const events: WatchEvent[] = [];
  const next: ExpiryWarned = {};
  for (const [role, { version, expires }] of Object.entries(view.offlineExpiry)) {
    const left = Date.parse(expires) - now.getTime();
    if (left > days * 86400_000) continue;
    next[role] = expires;
    if (warned[role] === expires) continue;
    const when = left <= 0 ? 'has expired' : `expires in ${(left / 86400_000).toFixed(1)} days`;
    events.push({ kind: 'expiring', alarm: false, snapshot: view.snapshotVersion, role, version, message: `offline role ${role} (version ${version}) ${when} (${expires}): its key holders must renew it` });
  }
  return { events, warned: next };
}

/** One observed metadata file: role, version and the sha256 of its bytes. */
export interface Observation {
  role: string;
  version: number;
  sha256: string;
}

export const observationKey = (role: string, version: number) => `${role}@${version}`;

/** TUF equivocation check of the watcher: the same (role, version) seen with other bytes. */
export function equivocationOf(seen: Readonly<Record<string, string>>, o: Observation, source: string): WatchEvent | undefined {
  const before = seen[observationKey(o.role, o.version)];
  if (before === undefined || before === o.sha256) return undefined;
  return { kind: source === 'fork' ? 'fork' : 'equivocation', alarm: true, role: o.role, version: o.version, sha256: o.sha256, before, message: `${o.role} version ${o.version} has two contents: sha256 ${before} (${source === 'fork' ? 'seen by this watcher' : 'seen before'}) and ${o.sha256} (${source === 'fork' ? 'seen by the other watcher' : source})` };
}

/** Fork detection between two watchers' logs: every (role, version) both saw with different bytes. */
export function compareObservations(mine: Readonly<Record<string, string>>, theirs: readonly Observation[]): { events: WatchEvent[]; common: number } {
  const events: WatchEvent[] = [];
  let common = 0;
  for (const o of theirs) {
    if (mine[observationKey(o.role, o.version)] === undefined) continue;
    common++;
    const e = equivocationOf(mine, o, 'fork');
    if (e) events.push(e);
  }
  return { events, common };
}
