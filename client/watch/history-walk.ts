// The walk through an index's history since the watcher's last run (docs/watch.md):
// after tuf-js's Updater verified the current timestamp and snapshot (IndexClient.refresh), every
// snapshot version from the last one seen up to the current one is read (consistent snapshots:
// N.snapshot.json stays published until gc) and checked (tuf/history-verify.ts): signed by the
// snapshot keys of a trusted root, the version it names, and for the current one the hash the
// verified timestamp names. In each, the roles whose version changed are read and checked against
// their delegator at that snapshot, in delegation order (TUF spec 5.6: targets, then claimed /
// recently-claimed / bins, then project-<p> and bin-XXXX, then release roles); their facts give
// the view of that snapshot (metadata/watch-view.ts), and consecutive views give the events.
import { isAbsentStatus } from '../../io/http-transport.js';
import { sha256Hex } from '../../metadata/hash.js';
import { TufpipError } from '../../metadata/errors.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, SNAPSHOT, TARGETS, TIMESTAMP, isBinRole, isProjectRole, isTargetsRoleName, versionedFileName } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS, releaseParent } from '../../metadata/role-graph.js';
import { assembleView, roleFacts, type RoleFacts, type RootJson, type TargetsJson, type WatchView } from '../../metadata/watch-view.js';
import { diffViews, equivocationOf, observationKey, type Expectations, type WatchEvent } from '../../metadata/watch-events.js';
import { delegateVerifies, verifyHistoricMetadata, verifyHistoricSigned, type Delegator } from '../../tuf/history-verify.js';
import type { Metadata, Root, Targets } from '../../tuf/models.js';
import type { IndexClient } from '../lib/index-client.js';
import type { WatchState } from './watch-store.js';

// tuf-js 5.0.1's defaults (config.ts): the same limits the Updater applies to the current versions.
const MAX = { timestamp: 16_384, snapshot: 2_000_000, targets: 5_000_000 };
/** Role downloads in flight at once. */
const CONCURRENCY = 16;
/** Snapshot versions downloaded ahead of the one being checked. */
const PREFETCH = 3;

export interface WalkInput {
  client: IndexClient;
  /** The previous run's state (undefined: first run, a baseline). */
  state?: WatchState;
  /** Trusted roots, newest first: the current one and those since the previous run (root history). */
  roots: Metadata<Root>[];
  /** The bytes of the current trusted root (roots[0]), as kept in the root history. */
  rootBytes: Uint8Array;
  watched: (project: string) => boolean;
  expected: Expectations;
}

export interface WalkResult {
  events: WatchEvent[];
  state: Omit<WatchState, 'feed' | 'outbox' | 'expiryWarned' | 'lastRun' | 'patterns'>;
  /** Snapshot versions read (excluding the baseline). */
  walked: number;
  baseline: boolean;
  /** Oldest snapshot version read in this run. */
  lookedBackTo: number;
}

/** A version the index no longer has (removed by `gc`): reported as a history gap, never skipped silently. */
const isAbsent = (err: unknown) => isAbsentStatus((err as { statusCode?: number }).statusCode);

async function inParallel<T>(items: readonly T[], fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** The delegation level of a role (TUF spec 5.6: a delegator is verified before its delegates). */
function levelOf(role: string): number {
  if (role === TARGETS) return 0;
  if (role === CLAIMED || role === RECENTLY_CLAIMED || role === BINS) return 1;
  if (releaseParent(role)) return 3;
  return 2;
}

const delegates = (role: string) => role === TARGETS || role === CLAIMED || role === RECENTLY_CLAIMED || role === BINS || (isProjectRole(role) && !releaseParent(role));

export async function walkHistory(input: WalkInput): Promise<WalkResult> {
  const { client, state, roots, watched, expected } = input;
  const top = client.verifiedTopLevel();
  if (!top) throw new TufpipError('VERIFY_FAILED', `no verified metadata for ${client.url}: refresh first`);
  const events: WatchEvent[] = [];
  const observed: Record<string, string> = { ...(state?.observed ?? {}) };
  const observe = (role: string, version: number, bytes: Uint8Array, source: string) => {
    const sha256 = sha256Hex(bytes);
    const e = equivocationOf(observed, { role, version, sha256 }, source);
    if (e) events.push(e);
    else observed[observationKey(role, version)] = sha256;
    return sha256;
  };
  const root = top.root;
  observe('root', root.signed.version, input.rootBytes, 'the trusted root');

  // TUF spec 5.4: the timestamp as served now, signed by the trusted root's timestamp keys. tuf-js
  // keeps its trusted copy when the version is equal, so only this read sees other bytes under
  // an already known version (equivocation) or an older version served to this watcher.
  const tsBytes = await client.fetchMetadataFile('timestamp.json', MAX.timestamp);
  const ts = verifyHistoricMetadata('timestamp', TIMESTAMP, tsBytes, undefined, [root]);
  const tsSha = observe(TIMESTAMP, ts.signed.version, tsBytes, 'served now');
  const verifiedTs = top.timestamp.signed.version;
  const lastTs = Math.max(verifiedTs, state?.timestamp?.version ?? 0);
  if (ts.signed.version < lastTs) {
    events.push({ kind: 'rollback', alarm: true, role: TIMESTAMP, version: ts.signed.version, message: `timestamp version ${ts.signed.version} served, older than version ${lastTs} already verified: rollback (TUF spec 5.4.3)` });
  }

  const snapMeta = top.timestamp.signed.snapshotMeta;
  const current = snapMeta.version;
  const versions: Record<string, number> = { ...(state?.versions ?? {}) };
  const facts: Record<string, RoleFacts> = { ...(state?.facts ?? {}) };
  const delegatorText: Record<string, string> = { ...(state?.delegators ?? {}) };
  const parsed = new Map<string, Metadata<Targets>>();
  const delegatorMd = async (role: string): Promise<Metadata<Targets> | undefined> => {
    let md = parsed.get(role);
    if (!md && delegatorText[role]) {
      const { Metadata: M, MetadataKind } = await import('../../tuf/models.js');
      md = M.fromJSON(MetadataKind.Targets, JSON.parse(delegatorText[role])) as Metadata<Targets>;
      parsed.set(role, md);
    }
    return md;
  };
  /** The metadata that delegates `role` at this point of the walk (TUF spec 5.6.3). */
  const delegatorsOf = async (role: string): Promise<Delegator[]> => {
    if (role === TARGETS) return roots;
    if (levelOf(role) === 1) return [(await delegatorMd(TARGETS))!].filter(Boolean);
    if (isBinRole(role)) return [(await delegatorMd(BINS))!].filter(Boolean);
    const parent = releaseParent(role);
    if (parent) return [(await delegatorMd(parent))!].filter(Boolean);
    const out: Delegator[] = [];
    for (const d of PROJECT_DELEGATORS) {
      const md = await delegatorMd(d);
      if (md?.signed.delegations?.roles?.[role]) out.push(md);
    }
    return out;
  };

  let view: WatchView | undefined = state?.view;
  let walked = 0;
  const baseline = !state;
  if (state && current < state.snapshotVersion) {
    events.push({ kind: 'rollback', alarm: true, role: SNAPSHOT, version: current, message: `snapshot version ${current} verified now, older than version ${state.snapshotVersion} seen before: rollback` });
  }
  let from = state ? state.snapshotVersion + 1 : current;
  if (from > current) from = current + 1; // nothing new (or a rollback, reported above)

  // How far back the index still has history: gc removes old snapshot versions (tufpip-repo gc --keep).
  if (from < current && !(await exists(client, versionedFileName(SNAPSHOT, from)))) {
    let lo = from + 1;
    let hi = current;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await exists(client, versionedFileName(SNAPSHOT, mid))) hi = mid;
      else lo = mid + 1;
    }
    events.push({ kind: 'history-gap', alarm: false, role: SNAPSHOT, version: lo, message: `snapshot versions ${from} to ${lo - 1} are no longer published (gc): changes made and undone in them cannot be reported; run 'tufpip watch run' more often than the index's gc --keep` });
    from = lo;
  }
  const lookedBackTo = Math.min(from, current);

  // Snapshot files are downloaded a few versions ahead while the current one is checked.
  const ahead = new Map<number, Promise<Buffer>>();
  const snapshotBytes = (v: number): Promise<Buffer> => {
    for (let k = v; k <= Math.min(current, v + PREFETCH); k++) {
      if (!ahead.has(k)) {
        const p = client.fetchMetadataFile(versionedFileName(SNAPSHOT, k), MAX.snapshot);
        p.catch(() => undefined); // awaited (and reported) when its turn comes
        ahead.set(k, p);
      }
    }
    const p = ahead.get(v)!;
    ahead.delete(v);
    return p;
  };
  // Pass 1: every snapshot since the last run is checked, and what changed in each is listed (from
  // the listings alone); the changed roles' files start downloading at once, while later
  // snapshots are checked.
  interface Step {
    v: number;
    changed: [string, number][];
    removed: string[];
  }
  const steps: Step[] = [];
  const listedVersions: Record<string, number> = { ...versions };
  // The same listing keyed by snapshot meta key (`ROLE.json`): the JSON parser's key strings are
  // looked up as they are, so an unchanged entry costs one lookup and no new string.
  const listedByFile = new Map<string, number>();
  for (const role in listedVersions) listedByFile.set(`${role}.json`, listedVersions[role]);
  const pool = limiter(CONCURRENCY);
  const roleFiles = new Map<string, Promise<Buffer>>();
  for (let v = from; v <= current; v++) {
    const bytes = await snapshotBytes(v);
    const snap = verifyHistoricSigned('snapshot', SNAPSHOT, bytes, v, roots) as unknown as { meta: Record<string, { version: number }> };
    const sha = observe(SNAPSHOT, v, bytes, 'read from history');
    // TUF spec 5.5.2: the current snapshot is the one the verified timestamp names.
    if (v === current && snapMeta.hashes?.sha256 && snapMeta.hashes.sha256 !== sha) {
      events.push({ kind: 'equivocation', alarm: true, role: SNAPSHOT, version: v, sha256: sha, message: `snapshot version ${v} served with sha256 ${sha}, but the verified timestamp names ${snapMeta.hashes.sha256}` });
      break;
    }
    // Only the entries whose version changed are looked at closely: a snapshot of 16,384 bins
    // changes a few of them per version.
    const changed: [string, number][] = [];
    let unchanged = 0;
    const meta = snap.meta ?? {};
    for (const file in meta) {
      const m = meta[file];
      if (listedByFile.get(file) === m?.version) {
        unchanged++;
        continue;
      }
      const role = file.endsWith('.json') ? file.slice(0, -5) : file;
      // TUF spec 4.4 (snapshot meta): role file names and positive integer versions; nothing else is fetched.
      if (!file.endsWith('.json') || !isTargetsRoleName(role) || !Number.isSafeInteger(m?.version) || m.version < 1) {
        throw new TufpipError('VERIFY_FAILED', `snapshot version ${v} lists ${JSON.stringify(file)} with version ${JSON.stringify(m?.version)}: not a role of this index`);
      }
      changed.push([role, m.version]);
    }
    // Roles no longer listed (a project role after a takedown) are forgotten.
    const removed: string[] = [];
    if (unchanged + changed.filter(([role]) => listedVersions[role] !== undefined).length < listedByFile.size) {
      for (const role of Object.keys(listedVersions)) if (!Object.prototype.hasOwnProperty.call(meta, `${role}.json`)) removed.push(role);
    }
    for (const role of removed) {
      delete listedVersions[role];
      listedByFile.delete(`${role}.json`);
    }
    for (const [role, ver] of changed) {
      listedVersions[role] = ver;
      listedByFile.set(`${role}.json`, ver);
      const file = versionedFileName(role, ver);
      if (!roleFiles.has(file)) {
        const p = pool(() => client.fetchMetadataFile(file, MAX.targets));
        p.catch(() => undefined); // awaited (and reported) in pass 2
        roleFiles.set(file, p);
      }
    }
    steps.push({ v, changed, removed });
  }

  // Pass 2, in order: each changed role is checked against its delegator at that snapshot, in
  // delegation order, and the snapshot's view is diffed against the previous one.
  for (const { v, changed, removed } of steps) {
    for (const role of removed) {
      delete versions[role];
      delete facts[role];
      delete delegatorText[role];
      parsed.delete(role);
    }
    for (const level of [0, 1, 2, 3]) {
      const here = changed.filter(([role]) => levelOf(role) === level);
      await inParallel(here, async ([role, ver]) => {
        const file = versionedFileName(role, ver);
        const roleBytes = await roleFiles.get(file)!;
        const delegators = await delegatorsOf(role);
        // A delegating role is kept as @tufjs/models metadata (it verifies its delegates); the others are only read.
        const md = delegates(role) ? verifyHistoricMetadata('targets', role, roleBytes, ver, delegators) : undefined;
        const signed = md ? (md.signed.toJSON() as unknown as TargetsJson) : (verifyHistoricSigned('targets', role, roleBytes, ver, delegators) as unknown as TargetsJson);
        observe(role, ver, roleBytes, `read from history (snapshot ${v})`);
        versions[role] = ver;
        const f = roleFacts(signed, watched);
        if (Object.keys(f.files).length || Object.keys(f.delegations).length || f.succinct || levelOf(role) < 2) facts[role] = f;
        else delete facts[role];
        if (md) {
          delegatorText[role] = JSON.stringify(md.toJSON());
          parsed.set(role, md);
        }
      });
      // TUF spec 5.6.3 for the roles that did not change: a delegating role kept from an earlier
      // snapshot must still be signed by the keys its (changed) delegator gives it now, or clients
      // stop at it (runbook 4.5: a maintainer key rotated before the maintainers re-signed).
      const changedHere = new Set(here.map(([role]) => role));
      if (changedHere.size) {
        for (const role of Object.keys(delegatorText)) {
          if (levelOf(role) !== level + 1 || changed.some(([r]) => r === role)) continue;
          const delegators = await delegatorsOf(role);
          const md = (await delegatorMd(role))!;
          if (delegators.some((d) => delegateVerifies(d, role, md))) continue;
          events.push({ kind: 'delegation-changed', alarm: false, snapshot: v, role, version: md.signed.version, message: `${role} version ${md.signed.version} is no longer signed by the keys its delegator gives it: TUF clients cannot reach its files until it is signed again` });
          // Its files (and those of roles it delegates) are out of the view until a new version verifies.
          delete facts[role];
          delete delegatorText[role];
          parsed.delete(role);
        }
      }
    }
    const next = assembleView(v, root.signed.toJSON() as unknown as RootJson, facts, watched);
    if (view) events.push(...diffViews(view, next, expected));
    view = next;
    if (!baseline) walked++;
  }
  if (!view) view = assembleView(current, root.signed.toJSON() as unknown as RootJson, facts, watched);
  // A root rotation with no snapshot since still shows.
  if (state && view.root.version !== root.signed.version) {
    const next = assembleView(view.snapshotVersion, root.signed.toJSON() as unknown as RootJson, facts, watched);
    events.push(...diffViews(view, next, expected));
    view = next;
  }
  return {
    events,
    baseline,
    walked,
    lookedBackTo,
    state: {
      schema: 1,
      rootVersion: root.signed.version,
      timestamp: { version: Math.max(ts.signed.version, state?.timestamp?.version ?? 0), sha256: ts.signed.version >= (state?.timestamp?.version ?? 0) ? tsSha : state!.timestamp!.sha256 },
      snapshotVersion: Math.max(current, state?.snapshotVersion ?? 0),
      versions,
      facts,
      delegators: delegatorText,
      view,
      observed,
      lookedBackTo,
    },
  };
}

/** Runs at most `n` of the given tasks at once, in the order they were given. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

async function exists(client: IndexClient, file: string): Promise<boolean> {
  try {
    await client.fetchMetadataFile(file, MAX.snapshot);
    return true;
  } catch (err) {
    if (isAbsent(err)) return false;
    throw err;
  }
}
