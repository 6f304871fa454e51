// A hint, in the private state (never served), of the expiry of every online targets role, so the cron job (`bump`)
// does not read 16,384 bin files every few minutes. Each entry is trusted only when its version is
// the one the published snapshot names (versioned files are immutable once published); anything
// else is read from the file itself.
import type { Published } from './published.js';
import type { PrivateState } from './storage.js';
import { isOnlineRole } from '../../metadata/roles.js';

export interface ExpiryCache {
  roles: Record<string, { version: number; expires: string }>;
}

const CACHE_RECORD = 'expiry-cache.json';
const SUMMARY_RECORD = 'due-summary.json';

/** A record parsed as JSON, or undefined when missing or unreadable (hints are rebuilt). */
async function readHint(state: PrivateState, name: string): Promise<unknown> {
  try {
    const b = await state.readRecord(name);
    return b === undefined ? undefined : JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function loadExpiryCache(state: PrivateState): Promise<ExpiryCache> {
  try {
    const c = (await readHint(state, CACHE_RECORD)) as ExpiryCache;
    if (c && typeof c.roles === 'object') return c;
  } catch {
    // missing or unreadable: rebuilt from the files
  }
  return { roles: {} };
}

/** Expiry of every online targets role in the published snapshot (reads only stale entries). */
export async function onlineRoleExpiries(pub: Published, state: PrivateState): Promise<Map<string, string>> {
  const cache = await loadExpiryCache(state);
  const out = new Map<string, string>();
  let dirty = false;
  for (const [file, version] of pub.versions) {
    const role = file.slice(0, -'.json'.length);
    if (!isOnlineRole(role)) continue;
    const hit = cache.roles[role];
    if (hit && hit.version === version) {
      out.set(role, hit.expires);
      continue;
    }
    const loaded = await pub.role(role);
    cache.roles[role] = { version, expires: loaded.signed.expires };
    out.set(role, loaded.signed.expires);
    dirty = true;
  }
  if (dirty) await state.writeRecord(CACHE_RECORD, Buffer.from(JSON.stringify(cache)), { durable: false });
  return out;
}

/**
 * The earliest moment any online targets role becomes due (less than half its period left),
 * for one snapshot version: while the published snapshot is that version and the time is
 * before `nextDue`, `bump` needs to look at no role file and no cache entry.
 */
export interface DueSummary {
  snapshotVersion: number;
  nextDue: number;
  /** Expiry of the offline targets roles (targets, bins, claimed) at that snapshot version. */
  offline?: Record<string, string>;
}

export async function loadDueSummary(state: PrivateState): Promise<DueSummary | undefined> {
  const s = (await readHint(state, SUMMARY_RECORD)) as DueSummary | undefined;
  return s && typeof s.snapshotVersion === 'number' && typeof s.nextDue === 'number' ? s : undefined;
}

export async function saveDueSummary(state: PrivateState, s: DueSummary): Promise<void> {
  await state.writeRecord(SUMMARY_RECORD, Buffer.from(JSON.stringify(s)), { durable: false }); // a hint: used only while its snapshot version is the published one
}

/**
 * After a transaction: the new roles can only be due later than before, so the previous
 * summary's nextDue (if it was for the previous snapshot) stays a safe lower bound.
 */
export async function advanceDueSummary(
  state: PrivateState,
  previousSnapshotVersion: number,
  newSnapshotVersion: number,
  entries: { role: string; expires: string; periodDays: number }[],
): Promise<void> {
  const prev = await loadDueSummary(state);
  if (!prev || prev.snapshotVersion !== previousSnapshotVersion) return; // stays stale: bump rescans
  let nextDue = prev.nextDue;
  let offline = prev.offline;
  for (const e of entries) {
    if (!isOnlineRole(e.role)) offline = undefined; // an offline role changed: re-read it
    if (!isOnlineRole(e.role) || e.role === 'timestamp') continue;
    nextDue = Math.min(nextDue, dueTime(e.expires, e.periodDays));
  }
  await saveDueSummary(state, { snapshotVersion: newSnapshotVersion, nextDue, offline });
}

/** PEP 458 "Metadata Expiry Times" via DESIGN.md: due when less than half the period is left. */
export function dueTime(expires: string, periodDays: number): number {
  return Date.parse(expires) - (periodDays * 86400_000) / 2;
}
