// `tufpip watch add/list/remove/expect/run/export/compare` (docs/watch.md): the
// subscriptions, stored with the trust data (client/watch/watch-store.ts), and the commands that
// read them. Verification is tuf-js's Updater plus tuf/history-verify.ts; event derivation is
// metadata/watch-events.ts.
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { compareObservations, type Observation } from '../../metadata/watch-events.js';
import { normalizeWatchPattern } from '../../metadata/watch-patterns.js';
import { normalizeProject } from '../../metadata/pep503.js';
import { TrustStore, type TrustedIndex } from '../lib/trust-store.js';
import { defaultDataDir } from '../lib/data-dir.js';
import { resolveIndex } from './open-index.js';
import { FEED_LENGTH, loadState, loadSubscriptions, persistState, persistSubscriptions, watchPaths, withWatchLock, type Subscriptions } from '../watch/watch-store.js';
import { storedEvent } from '../watch/watch-run.js';
import type { StoredEvent } from '../watch/watch-store.js';

export interface WatchIndexOptions {
  index?: string;
  dataDir?: string;
  allowHttp?: boolean;
}

/** The trusted index --index names; these commands make no connection (the transport rule is `run`'s). */
async function chosen(opts: WatchIndexOptions): Promise<TrustedIndex> {
  return (await resolveIndex({ index: opts.index, dataDir: opts.dataDir ?? defaultDataDir(), allowHttp: true })).index;
}

export interface WatchInfo {
  index: string;
  url: string;
  patterns: string[];
  expect: Record<string, number>;
  lastRun?: string;
  snapshotVersion?: number;
  lookedBackTo?: number;
}

async function infoOf(index: TrustedIndex, subs: Subscriptions): Promise<WatchInfo> {
  const state = await loadState(watchPaths(index));
  return {
    index: index.name,
    url: index.url,
    patterns: subs.patterns,
    expect: Object.fromEntries(Object.entries(subs.expect).map(([p, h]) => [p, h.length])),
    ...(state ? { lastRun: state.lastRun, snapshotVersion: state.snapshotVersion, lookedBackTo: state.lookedBackTo } : {}),
  };
}

async function updateSubscriptions(index: TrustedIndex, change: (s: Subscriptions) => Subscriptions | undefined): Promise<Subscriptions | undefined> {
  const paths = watchPaths(index);
  return withWatchLock(paths, async () => {
    const before = (await loadSubscriptions(paths)) ?? { patterns: [], expect: {} };
    const after = change(before);
    if (after) await persistSubscriptions(paths, after);
    else await Promise.all([fsp.rm(paths.subscriptions, { force: true }), fsp.rm(paths.state, { force: true })]);
    return after;
  });
}

/** Adds projects or prefixes to an index's watch (none: every project). */
export async function watchAdd(patterns: string[], opts: WatchIndexOptions): Promise<WatchInfo> {
  const normal = (patterns.length ? patterns : ['*']).map(normalizeWatchPattern);
  const index = await chosen(opts);
  const subs = await updateSubscriptions(index, (s) => ({ ...s, patterns: [...new Set([...s.patterns, ...normal])].sort() }));
  return infoOf(index, subs!);
}

/** Removes patterns from an index's watch; none given: stops watching it (its state is removed). */
export async function watchRemove(patterns: string[], opts: WatchIndexOptions): Promise<{ index: string; removed: string[]; watching: boolean }> {
  const normal = patterns.map(normalizeWatchPattern);
  const index = await chosen(opts);
  let removed: string[] = [];
  const subs = await updateSubscriptions(index, (s) => {
    if (!s.patterns.length) throw new TufpipError('NOT_FOUND', `index ${index.name} is not watched`);
    const missing = normal.filter((p) => !s.patterns.includes(p));
    if (missing.length) throw new TufpipError('NOT_FOUND', `not watched on ${index.name}: ${missing.join(', ')} (watched: ${s.patterns.join(', ')})`);
    removed = normal.length ? normal : s.patterns;
    const rest = s.patterns.filter((p) => !removed.includes(p));
    return rest.length ? { ...s, patterns: rest } : undefined;
  });
  return { index: index.name, removed, watching: !!subs };
}

export async function watchList(opts: { dataDir?: string }): Promise<WatchInfo[]> {
  const out: WatchInfo[] = [];
  for (const index of await new TrustStore(opts.dataDir ?? defaultDataDir()).list()) {
    const subs = await loadSubscriptions(watchPaths(index));
    if (subs) out.push(await infoOf(index, subs));
  }
  return out;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Hashes from `--sha256` and from a file of hashes (one per line, or `sha256sum` output; # comments). */
export async function readExpectedHashes(hashes: string[], file?: string): Promise<string[]> {
  const all = [...hashes];
  if (file) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      throw new TufpipError('NOT_FOUND', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    }
    for (const line of text.split('\n')) {
      const word = line.replace(/#.*/, '').trim().split(/\s+/)[0];
      if (word) all.push(word);
    }
  }
  const bad = all.filter((h) => !SHA256.test(h.toLowerCase()));
  if (bad.length) throw new TufpipError('USAGE', `a sha256 is 64 hex digits, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  if (!all.length) throw new TufpipError('USAGE', 'give --sha256 HASH (repeatable) or --from FILE');
  return all.map((h) => h.toLowerCase());
}

/** Records the file hashes a project's maintainers expect (pre-authorization). */
export async function watchExpect(project: string, hashes: string[], opts: WatchIndexOptions): Promise<{ index: string; project: string; added: number; expected: number }> {
  const p = normalizeProject(project);
  const index = await chosen(opts);
  let added = 0;
  const subs = await updateSubscriptions(index, (s) => {
    if (!s.patterns.length) throw new TufpipError('USAGE', `index ${index.name} is not watched: run 'tufpip watch add --index ${index.name} ${p}' first`);
    const before = new Set(s.expect[p] ?? []);
    const after = [...new Set([...before, ...hashes])].sort();
    added = after.length - before.size;
    return { ...s, expect: { ...s.expect, [p]: after } };
  });
  return { index: index.name, project: p, added, expected: subs!.expect[p].length };
}

/** The observed (role, version, sha256) log of a watcher, for another watcher's `compare`. */
export async function watchExport(opts: WatchIndexOptions): Promise<{ index: string; url: string; observations: Observation[] }> {
  const index = await chosen(opts);
  const state = await loadState(watchPaths(index));
  if (!state) throw new TufpipError('NOT_FOUND', `nothing observed on ${index.name} yet: run 'tufpip watch run' first`);
  const observations = Object.entries(state.observed).map(([k, sha256]) => {
    const at = k.lastIndexOf('@');
    return { role: k.slice(0, at), version: Number(k.slice(at + 1)), sha256 };
  });
  observations.sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : a.version - b.version));
  return { index: index.name, url: index.url, observations };
}

/** JSON lines: one `{"role","version","sha256"}` per line. */
export function exportLines(observations: readonly Observation[]): string {
  return observations.map((o) => JSON.stringify({ role: o.role, version: o.version, sha256: o.sha256 })).join('\n') + (observations.length ? '\n' : '');
}

function parseObservations(text: string, file: string): Observation[] {
  const out: Observation[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: Observation;
    try {
      o = JSON.parse(line) as Observation;
    } catch (err) {
      throw new TufpipError('BAD_INPUT', `${file} line ${i + 1}: not JSON`, { cause: err });
    }
    if (typeof o.role !== 'string' || !Number.isInteger(o.version) || typeof o.sha256 !== 'string' || !SHA256.test(o.sha256)) {
      throw new TufpipError('BAD_INPUT', `${file} line ${i + 1}: expected {"role","version","sha256"}`);
    }
    out.push(o);
  });
  return out;
}

/**
 * Fork detection: compares another watcher's exported log with this one's. A (role, version) the
 * two saw with different bytes means the index showed them different histories: an alarm.
 */
export async function watchCompare(file: string, opts: WatchIndexOptions): Promise<{ index: string; compared: number; common: number; forks: StoredEvent[] }> {
  const index = await chosen(opts);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
  }
  const theirs = parseObservations(text, file);
  const paths = watchPaths(index);
  return withWatchLock(paths, async () => {
    const state = await loadState(paths);
    if (!state) throw new TufpipError('NOT_FOUND', `nothing observed on ${index.name} yet: run 'tufpip watch run' first`);
    const { events, common } = compareObservations(state.observed, theirs);
    const at = new Date().toISOString();
    const forks = events.map((e) => storedEvent(index, e, at));
    if (forks.length) await persistState(paths, { ...state, feed: [...state.feed, ...forks].slice(-FEED_LENGTH) });
    return { index: index.name, compared: theirs.length, common, forks };
  });
}
