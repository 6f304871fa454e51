// The object-store backend of the storage seam (storage.ts) for S3-compatible servers (AWS S3,
// Ceph radosgw, ...): correct with several writers on several machines without a lock server,
// because every write that matters is conditional (docs/object-storage.md):
// - immutable objects (hash-named targets, N.role.json) are created with `If-None-Match: *`;
//   a 412 over the same bytes is a re-run (done); over other bytes it is another writer's object:
//   a live writer's (WriterRaceError: reload and retry) or, once older than STALE_MS, the leftover
//   of a writer that died before its commit, replaced (nothing published names it);
// - the commit point is timestamp.json written with `If-Match` on the ETag this writer read when
//   it loaded the published state (`If-None-Match: *` for a new repository); 412/409/404 mean
//   another writer published first: WriterRaceError, nothing published. A writer that was
//   stalled for STALE_MS / 2 or more since `begin` refuses to commit (its objects may have been
//   taken as leftovers), so a paused writer loses instead of publishing a mixed state;
// - the private state (journal, withdrawn files) lives under the private prefix (s3-private.ts);
//   timestamp.json carries its publication's journal entry as object metadata: the entry itself
//   when nothing is left to do after the commit (no object written for it), else the key of the
//   journal object, so the next writer finishes exactly the publication that committed.
// Publish order stays: content, targets roles, snapshot, root, then timestamp.json (pipeline.ts).
import fsp from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TufpipError } from '../../metadata/errors.js';
import type { RetiredFile } from '../../metadata/filename-record.js';
import type { LockHandle } from '../../io/lock.js';
import type { JournalEntry } from './journal.js';
import { makeS3Client, s3Status } from './s3-client.js';
import { s3ObjectKey, type S3Location } from './s3-location.js';
import type { Readable } from 'node:stream';
import { DEFAULT_CACHE_POLICY, type CachePolicy } from '../../metadata/cache-policy.js';
import { S3PrivateState } from './s3-private.js';
import { cacheControlFor, WriterRaceError, type Area, type ObjectSource, type Publication, type ReaderDescriptor, type Storage, type StorageReader, type StoredObject } from './storage.js';

/** Object puts a publication keeps in flight at once. */
const IN_FLIGHT = 16;
/** Object metadata on timestamp.json naming its publication's journal entry. */
export const JOURNAL_META = 'tufpip-journal';
/** Object metadata on timestamp.json holding its publication's journal entry (base64url JSON). */
export const ENTRY_META = 'tufpip-entry';
/** Longest inline entry: S3 allows 2 KB of user metadata per object. */
const INLINE_MAX = 1800;

/** Age after which another writer's uncommitted object is a dead writer's leftover (TUFPIP_S3_STALE_MS). */
export function staleMs(): number {
  const n = Number(process.env.TUFPIP_S3_STALE_MS ?? '');
  return Number.isInteger(n) && n > 0 ? n : 600_000;
}

function contentType(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.html')) return 'text/html; charset=utf-8';
  return 'application/octet-stream';
}

/** The ETag as Ceph's radosgw wants it in If-Match: without quotes. */
function bareEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '');
}

function isPreconditionFailure(err: unknown): boolean {
  const s = s3Status(err);
  return s === 412 || s === 409;
}

function isMissing(err: unknown): boolean {
  return s3Status(err) === 404 || (err as { name?: string } | null)?.name === 'NoSuchKey';
}

/** An SDK failure as a coded error naming the object and the operation. */
export function s3Error(op: string, where: string, err: unknown): TufpipError {
  if (err instanceof TufpipError) return err;
  const status = s3Status(err);
  const what = `${op} ${where}: ${(err as Error).name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${(err as Error).message}`;
  if (status === 401 || status === 403) return new TufpipError('REFUSED', `${what}; check the AWS credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE) and the bucket policy`, { cause: err });
  return new TufpipError('IO', what, { cause: err });
}

/** Reading objects of an S3 repository (also what a worker thread of a bulk rebuild uses). */
export class S3Reader implements StorageReader {
  /** timestamp.json as last read: its bytes, ETag (for the commit's If-Match) and journal entry. */
  lastHead?: { bytes: Buffer; etag?: string; journalKey?: string; entry?: string };

  constructor(
    readonly loc: S3Location,
    readonly client: S3Client = makeS3Client(loc),
  ) {}

  key(area: Area, name: string): string {
    return s3ObjectKey(this.loc, area, name);
  }

  where(area: Area, name: string): string {
    return `s3://${this.loc.bucket}/${this.key(area, name)}`;
  }

  async stream(area: Area, name: string): Promise<Readable | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(area, name) }));
      return r.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw s3Error('reading', this.where(area, name), err);
    }
  }

  async read(area: Area, name: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(area, name) }));
      const bytes = Buffer.from(await r.Body!.transformToByteArray());
      if (area === 'metadata' && name === 'timestamp.json') this.lastHead = { bytes, etag: bareEtag(r.ETag), journalKey: r.Metadata?.[JOURNAL_META], entry: r.Metadata?.[ENTRY_META] };
      return bytes;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw s3Error('reading', this.where(area, name), err);
    }
  }
}

export class S3Storage extends S3Reader implements Storage {
  readonly state: S3PrivateState;

  constructor(
    loc: S3Location,
    private readonly lock?: LockHandle,
    /** The repository's caching (layout.ts cachePolicyOf): each object is stored with its Cache-Control. */
    readonly cachePolicy: CachePolicy = DEFAULT_CACHE_POLICY,
    /** This machine's local state folder (config, keys, hints: s3-private.ts). */
    localDir?: string,
    client?: S3Client,
  ) {
    super(loc, client);
    this.state = new S3PrivateState(loc, this.client, () => this.lastHead, localDir);
  }

  get plainNames(): boolean {
    return this.loc.plainNames === true;
  }

  cacheOf(area: Area, name: string): string {
    return cacheControlFor(area, name, this.cachePolicy);
  }

  async linksOutOfPublicArea(): Promise<string[]> {
    return []; // an object store has no links
  }

  /** Loads what the synchronous parts of the contract need (the record of withdrawn files). */
  async open(): Promise<this> {
    await this.state.load();
    return this;
  }

  async list(area: Area, prefix: string): Promise<StoredObject[]> {
    const root = this.key(area, '');
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const r = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: root + prefix, ContinuationToken: token }))
        .catch((err: unknown) => {
          throw s3Error('listing', this.where(area, prefix), err);
        });
      for (const o of r.Contents ?? []) out.push({ name: o.Key!.slice(root.length), modified: o.LastModified ?? new Date(0), size: o.Size ?? 0 });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async removeEmptyFolders(): Promise<void> {
    // An object store has no folders.
  }

  readerForWorkers(): ReaderDescriptor {
    return { backend: 's3', location: this.loc };
  }

  async delete(area: Area, name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.key(area, name) })).catch((err: unknown) => {
      if (!isMissing(err)) throw s3Error('deleting', this.where(area, name), err);
    });
  }

  async putMutable(name: string, copyOf: string): Promise<void> {
    const Key = this.key('targets', name);
    await this.client
      .send(
        new CopyObjectCommand({
          Bucket: this.loc.bucket,
          Key,
          CopySource: `${this.loc.bucket}/${encodeURIComponent(this.key('targets', copyOf)).replace(/%2F/g, '/')}`,
          MetadataDirective: 'REPLACE',
          CacheControl: this.cacheOf('targets', name),
          ContentType: contentType(name),
        }),
      )
      .catch((err: unknown) => {
        throw s3Error('copying to', this.where('targets', name), err);
      });
  }

  async begin(head: Buffer | undefined): Promise<Publication> {
    let etag: string | undefined;
    if (head) {
      // The ETag read with these bytes; else the MD5 of the bytes (a single-part PUT's ETag).
      etag = this.lastHead?.bytes.equals(head) && this.lastHead.etag ? this.lastHead.etag : createHash('md5').update(head).digest('hex');
    }
    return new S3Publication(this, head === undefined ? undefined : etag, this.lock);
  }

  /** Puts bytes; `conditional`: only if no object has that key. Returns false on 412/409. */
  async put(bucket: string, key: string, body: Uint8Array, o: { conditional?: boolean; ifMatch?: string; cache?: string; meta?: Record<string, string> } = {}): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          IfNoneMatch: o.conditional ? '*' : undefined,
          IfMatch: o.ifMatch,
          CacheControl: o.cache,
          ContentType: contentType(key),
          Metadata: o.meta,
        }),
      );
      return true;
    } catch (err) {
      if ((o.conditional || o.ifMatch) && isPreconditionFailure(err)) return false;
      if (o.ifMatch && isMissing(err)) return false;
      throw s3Error('writing', `s3://${bucket}/${key}`, err);
    }
  }

  async get(bucket: string, key: string): Promise<{ bytes: Buffer; modified: Date } | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { bytes: Buffer.from(await r.Body!.transformToByteArray()), modified: r.LastModified ?? new Date(0) };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw s3Error('reading', `s3://${bucket}/${key}`, err);
    }
  }
}

class S3Publication implements Publication {
  /** Versioned metadata and private records this publication created (removed again by abort()). */
  private readonly created: { bucket: string; key: string }[] = [];
  /** Bytes of the targets put so far (a plain name is a copy of its hash-named object). */
  private readonly putBytes = new Map<string, Uint8Array>();
  private readonly started = performance.now();
  private readonly id = randomBytes(6).toString('hex');
  private journalKey?: string;
  /** The journal entry carried by the commit itself (ENTRY_META). */
  private inlineEntry?: string;
  get entryClosedByCommit(): boolean {
    return this.committed && this.inlineEntry !== undefined;
  }
  /** Puts in flight (at most IN_FLIGHT): made durable by flush(), which reports the first failure. */
  private readonly inflight = new Set<Promise<void>>();
  private failure?: unknown;
  committed = false;

  constructor(
    private readonly s: S3Storage,
    /** ETag of the head this writer planned from; undefined: a new repository. */
    private readonly headEtag: string | undefined,
    private readonly lock?: LockHandle,
  ) {}

  private get bucket(): string {
    return this.s.loc.bucket;
  }

  /**
   * Creates `key` unless it exists. Same bytes there: done for content (hash-named: any writer's
   * copy is this one) and for a root version (a re-run of publish); for other metadata a young
   * object is another live writer's identical plan (it may abort and remove it): a race. Other
   * bytes: see the file comment. Only versioned metadata this publication created is recorded for
   * abort(): content may be shared by a writer that found it (412, same bytes) and is left to gc.
   */
  private async create(area: Area, name: string, bytes: Uint8Array, cache: string, createOnly: boolean): Promise<void> {
    const key = this.s.key(area, name);
    const where = this.s.where(area, name);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.s.put(this.bucket, key, bytes, { conditional: true, cache })) {
        if (area === 'metadata') this.created.push({ bucket: this.bucket, key });
        return;
      }
      const existing = await this.s.get(this.bucket, key);
      if (!existing) continue; // removed in between (another writer's abort): try again
      const young = Date.now() - existing.modified.getTime() < staleMs();
      if (existing.bytes.equals(Buffer.from(bytes))) {
        if (area === 'targets' || createOnly || !young) return;
        throw new WriterRaceError(`${where} was just written by another writer publishing the same version; nothing was published`);
      }
      if (createOnly) throw new TufpipError('CONFLICT', `${where} already exists with other content: refusing to replace a root version; nothing was published`);
      if (young) throw new WriterRaceError(`${where} was just written with other content by another writer publishing the same version; nothing was published`);
      // A dead writer's leftover: nothing published names it (its writer never committed).
      await this.s.put(this.bucket, key, bytes, { cache });
      if (area === 'metadata') this.created.push({ bucket: this.bucket, key });
      return;
    }
    throw new WriterRaceError(`${where} keeps changing under this writer; nothing was published`);
  }

  /** Starts `put` once fewer than IN_FLIGHT are running (a 16,384-bin init puts 16,390 objects). */
  private async schedule(put: () => Promise<void>): Promise<void> {
    while (this.inflight.size >= IN_FLIGHT) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
    const p: Promise<void> = put()
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async putImmutable(area: Area, name: string, source: ObjectSource, opts: { createOnly?: boolean } = {}): Promise<void> {
    const bytes = 'bytes' in source ? source.bytes : await fsp.readFile(source.file);
    if (area === 'targets') this.putBytes.set(name, bytes);
    await this.schedule(() => this.create(area, name, bytes, this.s.cacheOf(area, name), !!opts.createOnly));
  }

  async putNewName(name: string, copyOf: string): Promise<void> {
    const bytes = this.putBytes.get(copyOf) ?? (await this.s.read('targets', copyOf));
    if (!bytes) throw new TufpipError('NOT_FOUND', `${this.s.where('targets', copyOf)} is missing`);
    await this.schedule(() => this.create('targets', name, bytes, this.s.cacheOf('targets', name), false));
  }

  /** Waits for every put in flight: each is durable when S3 answered it. */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
  }

  async recordWithdrawn(files: RetiredFile[], time: string, command: string): Promise<void> {
    this.created.push(await this.s.state.putRetired(files, time, command, this.id));
  }

  async journal(entry: JournalEntry): Promise<void> {
    // Nothing to finish after the commit: the committed timestamp.json is the whole record.
    const inline = entry.post?.length ? undefined : Buffer.from(JSON.stringify(entry), 'utf8').toString('base64url');
    if (inline && inline.length <= INLINE_MAX) {
      this.inlineEntry = inline;
      return;
    }
    const obj = await this.s.state.putJournal(entry, this.id);
    this.created.push(obj);
    this.journalKey = obj.key;
  }

  async commit(timestamp: Uint8Array): Promise<void> {
    await this.flush(); // storage.ts: nothing is named before it is durable
    this.lock?.assertHeld();
    const where = this.s.where('metadata', 'timestamp.json');
    if (performance.now() - this.started >= staleMs() / 2) {
      throw new WriterRaceError(`this writer was stalled for ${Math.round((performance.now() - this.started) / 1000)} s before its commit (other writers may take its objects as leftovers after ${staleMs() / 1000} s); nothing was published`);
    }
    const ok = await this.s.put(this.bucket, this.s.key('metadata', 'timestamp.json'), timestamp, {
      conditional: this.headEtag === undefined,
      ifMatch: this.headEtag,
      cache: this.s.cacheOf('metadata', 'timestamp.json'),
      meta: this.inlineEntry ? { [ENTRY_META]: this.inlineEntry } : this.journalKey ? { [JOURNAL_META]: this.journalKey } : undefined,
    });
    if (!ok) throw new WriterRaceError(`${where} changed while this command ran (another writer published first); nothing was published`);
    this.committed = true;
  }

  /**
   * Removes what this publication created: its private records, and its versioned metadata while
   * no other writer can have taken it as a dead writer's leftover (younger than STALE_MS / 2, as
   * at the commit); later that is left to `gc`: by then the key may hold another writer's
   * published object.
   */
  async abort(): Promise<void> {
    if (this.committed) return;
    await this.flush().catch(() => undefined);
    const young = performance.now() - this.started < staleMs() / 2;
    for (const o of this.created.reverse()) {
      // Private records have names of this publication's own: always removed.
      if (!young && o.bucket === this.s.loc.bucket && o.key.startsWith(this.s.key('metadata', ''))) continue;
      await this.s.client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: o.key })).catch(() => undefined);
    }
  }
}
