// A watcher's files, kept with the trust data of the index it watches (client/lib/trust-store.ts):
//
//   <data-dir>/indexes/<name>/watch/subscriptions.json  { patterns, expect }   (watch add/remove/expect)
//   <data-dir>/indexes/<name>/watch/state.json           what the last run verified and reported
//   <data-dir>/indexes/<name>/watch.lock                  cross-process lock (io/metadata-lock.ts)
//
// Every file is replaced atomically (write-temp, fsync, rename) under the lock, so a crash leaves
// the previous state and concurrent runs take turns: every event is reported once. Nothing here is
// secret (public metadata facts only). `tufpip trust remove` removes the index folder, watch included.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { sha256Hex } from '../../metadata/hash.js';
import type { ExpiryWarned, WatchEvent } from '../../metadata/watch-events.js';
import type { RoleFacts, WatchView } from '../../metadata/watch-view.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { withMetadataLock } from '../../io/metadata-lock.js';
import type { TrustedIndex } from '../lib/trust-store.js';

export interface Subscriptions {
  /** Normalised project names and prefixes (`acme-*`); `*` watches every project. */
  patterns: string[];
  /** Project -> sha256 of the files its maintainers expect (`watch expect`). */
  expect: Record<string, string[]>;
}

/** A reported event as stored and delivered: the event, a stable id, the index and when it was seen. */
export interface StoredEvent extends WatchEvent {
  id: string;
  index: string;
  at: string;
}

export interface WatchState {
  schema: 1;
  /** The patterns the stored facts were filtered with (a change starts a new baseline). */
  patterns: string[];
  rootVersion: number;
  timestamp?: { version: number; sha256: string };
  snapshotVersion: number;
  /** Version of every role the last snapshot lists. */
  versions: Record<string, number>;
  /** Facts of the roles that list watched files or delegate (others: none). */
  facts: Record<string, RoleFacts>;
  /** Signed JSON text of the delegating roles (targets, claimed, recently-claimed, bins, project-*). */
  delegators: Record<string, string>;
  view: WatchView;
  /** `role@version` -> sha256 of every metadata file verified (equivocation, `watch export`). */
  observed: Record<string, string>;
  expiryWarned: ExpiryWarned;
  /** Oldest snapshot version the last run could read (history before it was gone). */
  lookedBackTo: number;
  lastRun: string;
  /** The run that wrote this state (its events are in `pending.json` until printed). */
  lastRunId?: string;
  /** The latest events (Atom feed). */
  feed: StoredEvent[];
  /**
   * Events not yet delivered to a webhook, by outboxKey(URL): a webhook URL often holds a token
   * (in its path or query), so it is never stored.
   */
  outbox: Record<string, StoredEvent[]>;
}

export const FEED_LENGTH = 200;

/** The outbox key of a webhook URL: its sha256, never the URL itself. */
export function outboxKey(url: string): string {
  return sha256Hex(url);
}

/** How messages name a webhook: its origin only (the path or query may hold a token). */
export function webhookName(url: string): string {
  return new URL(url).origin;
}

export interface WatchPaths {
  dir: string;
  subscriptions: string;
  state: string;
  /** The events of the last run until they are printed: `{ runId, events }`. */
  pending: string;
}

export function watchPaths(index: TrustedIndex): WatchPaths {
  const dir = path.join(index.dir, 'watch');
  return { dir, subscriptions: path.join(dir, 'subscriptions.json'), state: path.join(dir, 'state.json'), pending: path.join(dir, 'pending.json') };
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TufpipError('IO', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${file} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

export const loadSubscriptions = (p: WatchPaths) => readJson<Subscriptions>(p.subscriptions);
export const loadState = (p: WatchPaths) => readJson<WatchState>(p.state);

export async function persistSubscriptions(p: WatchPaths, s: Subscriptions): Promise<void> {
  await writeFileAtomic(p.subscriptions, JSON.stringify(s, null, 2) + '\n');
}

export async function persistState(p: WatchPaths, s: WatchState): Promise<void> {
  await writeFileAtomic(p.state, JSON.stringify(s));
}

export interface PendingReport {
  runId: string;
  events: StoredEvent[];
}

/**
 * Reported once across a crash: a run writes its events here, then the state naming its run id,
 * prints, and removes this file. A run that finds this file left behind with the state's run id
 * (the state was written, the report maybe not) reports those events first; with another run id
 * (the state was not written) the events will be derived again, and the file is dropped.
 */
export async function takePendingReport(p: WatchPaths, state: WatchState | undefined): Promise<StoredEvent[]> {
  const pending = await readJson<PendingReport>(p.pending);
  if (!pending) return [];
  await fsp.rm(p.pending, { force: true });
  return state?.lastRunId === pending.runId ? pending.events : [];
}

export async function persistPendingReport(p: WatchPaths, report: PendingReport): Promise<void> {
  await writeFileAtomic(p.pending, JSON.stringify(report));
}

export async function clearPendingReport(p: WatchPaths): Promise<void> {
  await fsp.rm(p.pending, { force: true });
}

/** Runs `fn` holding the index's watch lock (one watcher at a time; others wait `waitMs`). */
export async function withWatchLock<T>(p: WatchPaths, fn: () => Promise<T>, waitMs = 600_000): Promise<T> {
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return withMetadataLock(p.dir, fn, { waitMs });
}
