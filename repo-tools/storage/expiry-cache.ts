// A hint, outside site/, of the expiry of every online targets role, so the cron job (`bump`)
// does not read 16,384 bin files every few minutes. Each entry is trusted only when its version is
// the one the published snapshot names (versioned files are immutable once published); anything
// else is read from the file itself.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RepoLayout } from './layout.js';
import { writeFileAtomic, writeFileAtomicSync } from '../../io/atomic-file.js';
import type { Published } from './published.js';
import { isOnlineRole } from '../../metadata/roles.js';

export interface ExpiryCache {
  roles: Record<string, { version: number; expires: string }>;
}

function cacheFile(layout: RepoLayout): string {
  return path.join(layout.dir, 'expiry-cache.json');
}

export async function loadExpiryCache(layout: RepoLayout): Promise<ExpiryCache> {
  try {
    const c = JSON.parse(await fsp.readFile(cacheFile(layout), 'utf8')) as ExpiryCache;
    if (c && typeof c.roles === 'object') return c;
  } catch {
    // missing or unreadable: rebuilt from the files
  }
  return { roles: {} };
}

/** Expiry of every online targets role in the published snapshot (reads only stale entries). */
export async function onlineRoleExpiries(pub: Published): Promise<Map<string, string>> {
  const cache = await loadExpiryCache(pub.layout);
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
  if (dirty) await writeFileAtomic(cacheFile(pub.layout), JSON.stringify(cache), 0o644, false);
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

function summaryFile(layout: RepoLayout): string {
  return path.join(layout.dir, 'due-summary.json');
}

export function loadDueSummary(layout: RepoLayout): DueSummary | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(summaryFile(layout), 'utf8')) as DueSummary;
    return typeof s.snapshotVersion === 'number' && typeof s.nextDue === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Not made durable (atomic rename only): after a power cut the file holds the previous summary, the
 * new one or nothing readable, and each is safe: a summary is used only while its snapshot version
 * is the published one, and an unreadable one makes `bump` rescan.
 */
export function saveDueSummary(layout: RepoLayout, s: DueSummary): void {
  writeFileAtomicSync(summaryFile(layout), JSON.stringify(s), false);
}

/**
 * After a transaction: the new roles can only be due later than before, so the previous
 * summary's nextDue (if it was for the previous snapshot) stays a safe lower bound.
 */
export function advanceDueSummary(
  layout: RepoLayout,
  previousSnapshotVersion: number,
  newSnapshotVersion: number,
  entries: { role: string; expires: string; periodDays: number }[],
): void {
  const prev = loadDueSummary(layout);
  if (!prev || prev.snapshotVersion !== previousSnapshotVersion) return; // stays stale: bump rescans
  let nextDue = prev.nextDue;
  let offline = prev.offline;
  for (const e of entries) {
    if (!isOnlineRole(e.role)) offline = undefined; // an offline role changed: re-read it
    if (!isOnlineRole(e.role) || e.role === 'timestamp') continue;
    nextDue = Math.min(nextDue, dueTime(e.expires, e.periodDays));
  }
  saveDueSummary(layout, { snapshotVersion: newSnapshotVersion, nextDue, offline });
}

/** PEP 458 "Metadata Expiry Times" via DESIGN.md: due when less than half the period is left. */
export function dueTime(expires: string, periodDays: number): number {
  return Date.parse(expires) - (periodDays * 86400_000) / 2;
}
