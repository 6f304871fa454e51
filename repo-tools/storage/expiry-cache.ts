// A hint, outside site/, of the expiry of every online targets role, so the cron job (`bump`)
// does not read 16,384 bin files every few minutes. Each entry is trusted only when its version is
// the one the published snapshot names (versioned files are immutable once published); anything
// else is read from the file itself.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RepoLayout } from './layout.js';
import { writeFileAtomic } from './fs-atomic.js';
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

/** Records roles a transaction just published (after timestamp.json was replaced). */
export async function recordExpiries(layout: RepoLayout, entries: { role: string; version: number; expires: string }[]): Promise<void> {
  const online = entries.filter((e) => isOnlineRole(e.role) && e.role !== 'snapshot' && e.role !== 'timestamp');
  if (online.length === 0) return;
  const cache = await loadExpiryCache(layout);
  for (const e of online) cache.roles[e.role] = { version: e.version, expires: e.expires };
  await writeFileAtomic(cacheFile(layout), JSON.stringify(cache), 0o644, false);
}
