// `tufpip watch run`: one watch cycle for one index (docs/watch.md). Under the index's
// watch lock: TUF update cycle by tuf-js's Updater (IndexClient.refresh, TUF spec 5.3-5.6), the
// walk through the history since the last run (history-walk.ts), expiry warnings, then the new
// state and the events are persisted in one atomic write: an event is stored exactly once, a
// crash before the write reports it on the next run, a concurrent run waits and finds it done.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../../metadata/hash.js';
import { TufpipError } from '../../metadata/errors.js';
import { expiryEvents, type WatchEvent } from '../../metadata/watch-events.js';
import { watchesProject } from '../../metadata/watch-patterns.js';
import { parseTrustedRoot } from '../../tuf/history-verify.js';
import type { Metadata, Root } from '../../tuf/models.js';
import { ClientError } from '../lib/client-error.js';
import type { TrustedIndex } from '../lib/trust-store.js';
import { openTrustedIndex } from '../commands/open-index.js';
import { walkHistory } from './history-walk.js';
import { randomBytes } from 'node:crypto';
import { FEED_LENGTH, outboxKey, clearPendingReport, loadState, loadSubscriptions, persistPendingReport, persistState, takePendingReport, watchPaths, withWatchLock, type StoredEvent, type WatchState } from './watch-store.js';

export const DEFAULT_EXPIRY_DAYS = 14;

/** Client failures that say nothing about the index's metadata (no refusal to report). */
const NOT_REFUSALS = new Set(['network', 'credentials', 'untrusted-index', 'insecure-transport']);

export interface WatchRunOptions {
  dataDir?: string;
  allowHttp?: boolean;
  /** Warn about offline roles expiring within this many days. */
  expiryDays?: number;
  /** Keep the events for this webhook URL until delivered (webhook.ts). */
  webhook?: string;
  now?: Date;
  /** Prints the result; called under the watch lock once the state is saved, so that each event is printed once. */
  report?: (r: WatchRunResult) => void | Promise<void>;
}

export interface WatchRunResult {
  index: string;
  url: string;
  events: StoredEvent[];
  alarms: number;
  /** First run (or new patterns): the current state was recorded, nothing before it reported. */
  baseline: boolean;
  /** Snapshot versions walked since the last run. */
  walked: number;
  snapshotVersion?: number;
  /** Oldest snapshot version this run could read. */
  lookedBackTo?: number;
  /** Metadata requests and bytes downloaded in this run. */
  requests: number;
  bytes: number;
  /** The update was refused (TUF verification failed): exit code 2. */
  refused?: string;
}

export function storedEvent(index: TrustedIndex, e: WatchEvent, at: string): StoredEvent {
  const id = sha256Hex(JSON.stringify([index.url, e.kind, e.snapshot, e.role, e.version, e.path, e.sha256, e.message])).slice(0, 32);
  return { ...e, id, index: index.url, at };
}

/** Trusted roots since `fromVersion` (newest first) from the index's root history. */
async function trustedRoots(index: TrustedIndex, current: number, fromVersion: number): Promise<{ roots: Metadata<Root>[]; bytes: Buffer }> {
  const roots: Metadata<Root>[] = [];
  let bytes: Buffer | undefined;
  for (let v = current; v >= Math.min(fromVersion, current); v--) {
    const b = await fsp.readFile(path.join(index.rootsDir, `${v}.root.json`)).catch(() => undefined);
    if (!b) continue;
    bytes ??= b;
    roots.push(parseTrustedRoot(b));
  }
  if (!bytes) throw new TufpipError('IO', `root version ${current} is missing from ${index.rootsDir}`);
  return { roots, bytes };
}

function appended(state: WatchState | undefined, events: StoredEvent[], webhook: string | undefined): Pick<WatchState, 'feed' | 'outbox'> {
  const outbox = { ...(state?.outbox ?? {}) };
  if (webhook && events.length) outbox[outboxKey(webhook)] = [...(outbox[outboxKey(webhook)] ?? []), ...events];
  return { feed: [...(state?.feed ?? []), ...events].slice(-FEED_LENGTH), outbox };
}

export async function watchRunIndex(index: TrustedIndex, opts: WatchRunOptions = {}): Promise<WatchRunResult> {
  const paths = watchPaths(index);
  const subs = await loadSubscriptions(paths);
  if (!subs) throw new TufpipError('USAGE', `index ${index.name} is not watched: run 'tufpip watch add --index ${index.name} [PROJECT|PREFIX*...]' first`);
  const watched = (p: string) => watchesProject(subs.patterns.includes('*') ? [] : subs.patterns, p);
  return withWatchLock(paths, async () => {
    const now = opts.now ?? new Date();
    const at = now.toISOString();
    let state = await loadState(paths);
    const previous = state;
    // Events a previous run saved but may not have printed (it was killed in between).
    const carried = await takePendingReport(paths, previous);
    const runId = randomBytes(8).toString('hex');
    const commit = async (next: WatchState | undefined, result: WatchRunResult): Promise<WatchRunResult> => {
      await persistPendingReport(paths, { runId, events: result.events });
      if (next) await persistState(paths, { ...next, lastRunId: runId });
      await opts.report?.(result);
      await clearPendingReport(paths);
      return result;
    };
    if (state && JSON.stringify(state.patterns) !== JSON.stringify(subs.patterns)) state = undefined; // new patterns: new baseline
    const client = await openTrustedIndex({ index: index.name, dataDir: opts.dataDir, allowHttp: opts.allowHttp }, { refresh: false });
    const stats = () => ({ index: index.name, url: index.url, requests: client.requests.length, bytes: client.requests.reduce((n, r) => n + r.bytes, 0) });
    try {
      try {
        await client.refresh();
      } catch (err) {
        if (!(err instanceof ClientError) || NOT_REFUSALS.has(err.kind)) throw err;
        // The update was refused (rollback, freeze, bad signature...): reported, nothing else done.
        const e = storedEvent(index, { kind: 'refused', alarm: true, message: `update refused: ${err.message}` }, at);
        const events = [...carried, e];
        const next = previous && { ...previous, ...appended(previous, [e], opts.webhook), lastRun: at };
        return await commit(next, { ...stats(), events, alarms: events.filter((x) => x.alarm).length, baseline: false, walked: 0, refused: err.message });
      }
      const top = client.verifiedTopLevel()!;
      const { roots, bytes } = await trustedRoots(index, top.root.signed.version, state?.rootVersion ?? top.root.signed.version);
      const walk = await walkHistory({ client, state, roots, rootBytes: bytes, watched, expected: subs.expect });
      const expiry = expiryEvents(walk.state.view, now, opts.expiryDays ?? DEFAULT_EXPIRY_DAYS, previous?.expiryWarned ?? {});
      const raw = [...walk.events, ...expiry.events];
      const fresh = raw.map((e) => storedEvent(index, e, at));
      const events = [...carried, ...fresh];
      const next: WatchState = {
        ...walk.state,
        patterns: subs.patterns,
        expiryWarned: expiry.warned,
        lastRun: at,
        ...appended(previous, fresh, opts.webhook),
      };
      return await commit(next, {
        ...stats(),
        events,
        alarms: events.filter((e) => e.alarm).length,
        baseline: walk.baseline,
        walked: walk.walked,
        snapshotVersion: next.snapshotVersion,
        lookedBackTo: walk.lookedBackTo,
      });
    } finally {
      await client.close();
    }
  });
}
