// `tufpip-repo gc`: removes what no published metadata references any more and that is older
// than the retention window: versioned metadata of past snapshots, hash-named copies of withdrawn
// files and pages, leftovers of interrupted transactions. Root versions are never removed (a
// client that trusts an old root needs every later one: TUF spec 5.3).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { ROOT } from '../../metadata/roles.js';
import { hashedPath } from '../../metadata/target-paths.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import type { Area, StoredObject } from '../storage/storage.js';

export interface GcOptions extends OpenOptions {
  /** Keep anything modified within this many milliseconds (clients mid-update use old files). */
  keepMs?: number;
  dryRun?: boolean;
}

export interface GcResult {
  removed: string[];
  kept: number;
  bytesFreed: number;
  dryRun: boolean;
}

/** Whether a process with this id exists (EPERM: it exists but belongs to someone else). */
function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses `7d`, `12h`, `30m`, `45s` or a bare number of days. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([dhms]?)$/.exec(s.trim());
  if (!m) throw new TufpipError('USAGE', `--keep takes a duration like 7d, 12h, 30m: got ${JSON.stringify(s)}`);
  const unit = { d: 86400_000, h: 3600_000, m: 60_000, s: 1000, '': 86400_000 }[m[2] as 'd' | 'h' | 'm' | 's' | ''];
  return Number(m[1]) * unit;
}

export async function gcRepo(repoDir: string, opts: GcOptions = {}): Promise<GcResult> {
  const keepMs = opts.keepMs ?? 7 * 86400_000;
  return withRepo(repoDir, opts, async (ctx) => {
    const { layout, published: pub, now, storage } = ctx;
    const referenced = new Set<string>(['timestamp.json', `${pub.snapshot.version}.snapshot.json`]);
    const liveTargets = new Set<string>();
    for (const [file, version] of pub.versions) {
      const role = file.slice(0, -'.json'.length);
      referenced.add(`${version}.${file}`);
      const r = await pub.role(role);
      for (const [p, info] of Object.entries(r.signed.targets)) {
        liveTargets.add(p);
        liveTargets.add(hashedPath(p, info.hashes.sha256));
      }
    }
    const removed: string[] = [];
    let kept = 0;
    let bytesFreed = 0;
    const cutoff = now.getTime() - keepMs;
    // Published objects are listed and deleted through the storage seam (storage.ts: `list` gives
    // each object's age and size); `--keep` spares the young ones (clients mid-update use them).
    const consider = async (area: Area, obj: StoredObject, shown: string, isLive: boolean) => {
      if (isLive) return;
      if (obj.modified.getTime() > cutoff) {
        kept++;
        return;
      }
      removed.push(shown);
      bytesFreed += obj.size;
      if (!opts.dryRun) await storage.delete(area, obj.name);
    };
    for (const obj of await storage.list('metadata', '')) {
      const name = obj.name;
      if (name.includes('/')) continue; // the metadata area is flat: anything else is not ours
      if (new RegExp(`^\\d+\\.${ROOT}\\.json$`).test(name)) continue; // never a root
      if (!/\.json$|\.tmp$/.test(name)) continue;
      await consider('metadata', obj, `metadata/${name}`, referenced.has(name));
    }
    for (const top of ['packages/', 'simple/']) {
      for (const obj of await storage.list('targets', top)) {
        if (obj.name === 'simple/index.html') continue;
        await consider('targets', obj, obj.name, liveTargets.has(obj.name));
      }
      if (!opts.dryRun) await storage.removeEmptyFolders('targets', top);
    }
    // The rest is local to the writer's machine (never published, whatever the backend): staging
    // folders and temporary files of atomic writes of private records; the journal is compacted
    // through the private state.
    // Staging folders of `add` runs that were killed (outside site/; never referenced).
    const stagingRoot = path.join(layout.dir, 'staging');
    for (const name of await fsp.readdir(stagingRoot).catch(() => [] as string[])) {
      const abs = path.join(stagingRoot, name);
      const st = await fsp.stat(abs).catch(() => undefined);
      if (st && st.mtimeMs < now.getTime() - 3600_000) {
        removed.push(`staging/${name}`);
        if (!opts.dryRun) await fsp.rm(abs, { recursive: true, force: true });
      }
    }
    // Temporary files of atomic writes outside site/ (config, journal, expiry caches) whose writer
    // was killed before its rename: named `.<file>.<pid>.<random>.tmp` by io/atomic-file.ts.
    for (const name of await fsp.readdir(layout.dir).catch(() => [] as string[])) {
      const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
      if (!m || pidAlive(Number(m[1]))) continue;
      removed.push(name);
      if (!opts.dryRun) await fsp.rm(path.join(layout.dir, name), { force: true });
    }
    if (!opts.dryRun) await storage.state.compactJournal(1000);
    return { removed, kept, bytesFreed, dryRun: !!opts.dryRun };
  });
}
