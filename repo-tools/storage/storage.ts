// The storage seam of the publication pipeline (repo-tools/txn/): what a backend must provide
// so that a publication is atomic for clients (DESIGN.md "Publishing rules"; TUF spec 5: clients
// start from timestamp.json and reach everything else through it). The local-disk backend is
// local-disk.ts; an object-store backend (S3: `If-None-Match: *` for create-only puts, `If-Match`
// on the ETag of timestamp.json for the commit point) implements the same contract.
//
// Contract, for every backend:
// - Objects are named by area and name: `metadata` (N.role.json, timestamp.json) and `targets`
//   (target paths: hash-named copies, plain-named package files and pages).
// - One writer at a time publishes (the caller holds the repository lock: io/lock.ts); the
//   commit point still checks the head, so a writer that lost the lock publishes nothing.
// - Order: a publication puts immutable objects (content, targets roles, snapshot, then a new
//   root), `flush()`es them, writes its private records (publication records below), then
//   `commit()`s timestamp.json. Nothing a client can reach names an object before it is durable.
// - Durability: an immutable put is durable after `flush()`; `commit()` returns once the new
//   head is durable; private records are durable when their call returns.
// - A crash may leave: immutable objects nobody references (removed by `gc`, or replaced by the
//   next publication that needs the name), a journal entry in state `prepared` (finished or
//   abandoned by the next writer: storage/journal.ts), withdrawn-file lines (true facts:
//   storage/retired-files.ts). It never leaves a head naming a missing or partial object.
// - A failure before `commit()` is undone by `abort()`: every object this publication created
//   and every private record it appended is removed again (the repository is as it was).
// - After `commit()` nothing is rolled back: mutable puts and deletes (plain-named pages,
//   removals) run in publish order and are finished by the next writer after a crash (journal).
// - Caching: every put has a cache class (metadata/cache-policy.ts), and a backend that serves
//   over HTTP stores the object with `cacheControlFor(area, name, policy)` (S3: the object's
//   Cache-Control; local disk: `tufpip-repo serve` sends it). `putImmutable` puts are `immutable`
//   (hash-named targets, N.role.json), `commit` is `head` (timestamp.json), `putNewName` and
//   `putMutable` are `mutable` (plain names). The class follows from the name alone, so a reader
//   and every backend agree; `policy` is the repository's (layout.ts cachePolicyOf).
import type { JournalEntry } from './journal.js';
import type { RetiredFile } from '../../metadata/filename-record.js';
import type { RetiredRecord } from './retired-files.js';
import type { RepoConfig } from './layout.js';
import type { S3Location } from './s3-location.js';
import { TufpipError } from '../../metadata/errors.js';
import type { Readable } from 'node:stream';
import { cacheClassOf, cacheControl, type CachePolicy } from '../../metadata/cache-policy.js';

export type Area = 'metadata' | 'targets';

/** The bytes of an object, or a staged local file to take them from (linked or copied). */
export type ObjectSource = { bytes: Uint8Array } | { file: string };

/** An object as `list` finds it: `modified` and `size` let `gc` keep young objects and count bytes. */
export interface StoredObject {
  /** The object's name in its area ('/'-separated). */
  name: string;
  /** When the object was last written (local disk: mtime; S3: LastModified). */
  modified: Date;
  /** Its length in bytes. */
  size: number;
}

/**
 * What a worker thread needs to read published objects itself: plain data (structured-cloned into
 * the worker), turned back into a reader there by storage/worker-reader.ts.
 */
export type ReaderDescriptor = { backend: 'local-disk'; dir: string } | { backend: 's3'; location: S3Location };

/**
 * The CONFLICT of a writer that lost the race to another writer on shared storage (object store:
 * the commit's `If-Match` failed, or a versioned object it was about to create is another live
 * writer's). Nothing was published; the command may reload the published state, redo its edits on
 * it and try again (txn/open-repo.ts).
 */
export class WriterRaceError extends TufpipError {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}

/** Reading published objects: all a planner needs (storage/published.ts). */
export interface StorageReader {
  /**
   * An object's bytes, or undefined when there is none. A backend may read synchronously inside
   * (local-disk does for metadata: a command reads thousands of bins, and an async file read is a
   * thread-pool round trip that costs more than the read).
   */
  read(area: Area, name: string): Promise<Buffer | undefined>;
  /**
   * An object's bytes as a stream, or undefined when there is none: for objects too large to
   * hold in memory (hashing a package file, verifying a target). The caller reads it to the end
   * or destroys it.
   */
  stream(area: Area, name: string): Promise<Readable | undefined>;
  /** Where an object lives, for messages (local-disk: the file's path). */
  where(area: Area, name: string): string;
}

export interface Storage extends StorageReader {
  /** The private state beside the published objects (never served). */
  readonly state: PrivateState;
  /**
   * Whether the public area also carries plain-named targets (`packages/P/FILE`,
   * `simple/P/index.html`) for plain pip (DESIGN.md "Site layout"). Local disk: always. An
   * object store: as chosen at init (`--plain-names`, docs/object-storage.md); without them it
   * serves TUF clients only (they fetch the hash-named copies: TUF spec 5.7.3) and an add writes
   * fewer objects. Hash-named copies and metadata are the same either way.
   */
  readonly plainNames: boolean;
  /**
   * The objects of an area whose names start with `prefix` (a folder prefix ends in '/'), sorted
   * by name, each with its modification time and size (`gc --keep`: S3 ListObjectsV2 gives
   * LastModified and Size).
   */
  list(area: Area, prefix: string): Promise<StoredObject[]>;
  /**
   * Removes folders left empty under `prefix` (after `gc` deleted their objects); a backend
   * without folders (an object store) has nothing to do.
   */
  removeEmptyFolders(area: Area, prefix: string): Promise<void>;
  /**
   * Objects through which a server of the public area would serve something outside it (local
   * disk: symbolic links under site/ pointing out of it, "path -> target"; an object store has no
   * links: none). `verify` reports them.
   */
  linksOutOfPublicArea(): Promise<string[]>;
  /**
   * Optional: refreshes the backend's own hints once a publication and its post steps are done
   * (local-disk: the folder mtimes its pre-publication secrets scan compares, secrets-guard.ts).
   * A hint only: a failure is ignored, the next scan reads more.
   */
  afterPublication?(): void;
  /** A descriptor from which a worker thread reads the same objects (bin-rebuild-pool.ts). */
  readerForWorkers(): ReaderDescriptor;
  /**
   * Removes an object (absent: nothing to do): an object no published head names, or after a
   * commit a plain-named target the new head no longer lists (publish order: journal post steps).
   */
  delete(area: Area, name: string): Promise<void>;
  /**
   * After a commit, in publish order: a plain-named target replaced by a copy of another object
   * (readers see the old or the new bytes, never none).
   */
  putMutable(name: string, copyOf: string): Promise<void>;
  /**
   * Starts a publication over `head`: the bytes of timestamp.json this writer read before it
   * planned (undefined: an empty repository). `targets` are the target names it will put: a
   * backend may refuse their destination before anything is written (local-disk: no secrets
   * under site/). `metadataObjects`: how many metadata objects it will put (a backend may make
   * a large batch durable at once).
   */
  begin(head: Buffer | undefined, targets: string[], metadataObjects?: number): Promise<Publication>;
}

export interface Publication {
  /** True once `commit()` replaced the head: from then on nothing is rolled back. */
  readonly committed: boolean;
  /**
   * True when the commit itself recorded the journal entry as complete (an object store keeps an
   * entry without post steps on timestamp.json: s3.ts ENTRY_META), so no `done` entry follows.
   */
  readonly entryClosedByCommit?: boolean;
  /**
   * Puts an immutable object (hash-named target, N.role.json). Same bytes already there: done (a
   * re-run). Other bytes: the leftover of a publication that never committed (nothing published
   * names it) and is replaced, unless `createOnly` (a root version, which clients probe for
   * without any reference: TUF spec 5.3.3), then CONFLICT. Durable after `flush()`.
   */
  putImmutable(area: Area, name: string, source: ObjectSource, opts?: { createOnly?: boolean }): Promise<void>;
  /** Puts a plain-named target before the commit (a new package file's name nobody references yet). */
  putNewName(name: string, copyOf: string): Promise<void>;
  /** Makes every object put so far durable. */
  flush(): Promise<void>;
  /** Appends to the record of withdrawn files (before the commit: no removal is published without it). */
  recordWithdrawn(files: RetiredFile[], time: string, command: string): Promise<void>;
  /** Appends a journal entry (the `prepared` entry, before the commit). */
  journal(entry: JournalEntry): Promise<void>;
  /**
   * THE COMMIT POINT: replaces timestamp.json if the head is still the one `begin` was given
   * (compare-and-swap), durably. Throws LOCKED when this writer no longer holds the repository,
   * CONFLICT when the head moved; both leave this publication unpublished.
   */
  commit(timestamp: Uint8Array): Promise<void>;
  /**
   * Before the commit: removes what this publication created and cuts its private records back.
   * A backend shared by several writers (s3.ts) leaves to `gc` what another writer may have found
   * and used meanwhile (hash-named content, versioned metadata older than its stale window).
   */
  abort(): Promise<void>;
}

/** Private state: outside the served tree, read and written by the writer holding the lock. */
export interface PrivateState {
  lastJournalEntry(): Promise<JournalEntry | undefined>;
  /** Appends a journal entry outside a publication (closing one, recovering one). */
  appendJournal(entry: JournalEntry): Promise<void>;
  /** The record of withdrawn package files (metadata/filename-record.ts). */
  loadRetired(): RetiredRecord;
  /** Writes the repository's configuration (init; durable when it returns). */
  saveConfig(config: RepoConfig): Promise<void>;
  /**
   * Keeps the last `keep` journal entries (`gc`): recovery needs only the last one
   * (txn/pipeline.ts recoverPublication).
   */
  compactJournal(keep: number): Promise<void>;
  /**
   * A small private record by name ('/'-separated, e.g. `pending/root.json`, `expiry-cache.json`),
   * or undefined when there is none. Records: pending proposals of offline roles
   * (storage/pending-store.ts) and hints a later command may rebuild (storage/expiry-cache.ts).
   * A backend may read synchronously inside (local-disk does: `bump` reads one every run).
   */
  readRecord(name: string): Promise<Buffer | undefined>;
  /**
   * Replaces a private record atomically (a reader sees the old or the new bytes, never a part).
   * `durable: false` for hints (a crash may lose the write, never tear it). `mode`: local-disk's
   * file mode (proposals keep the mode their owner gave them).
   */
  writeRecord(name: string, bytes: Uint8Array, opts?: { durable?: boolean; mode?: number }): Promise<void>;
  /** Removes a private record; false when there was none. */
  deleteRecord(name: string): Promise<boolean>;
  /** Where a record lives, for messages and for files a user copies out (local-disk: its path). */
  whereRecord(name: string): string;
}

/** The Cache-Control a backend stores or serves an object with (see "Caching" above). */
export function cacheControlFor(area: Area, name: string, policy: CachePolicy): string {
  return cacheControl(cacheClassOf(area, name), policy);
}
