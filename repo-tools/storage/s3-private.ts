// The private state of an S3 repository (storage.ts PrivateState) under its private prefix, never
// under the public one (docs/object-storage.md: no anonymous read there):
//   journal/<txn>-<id>.json    one object per publication with steps after its commit, `prepared`
//                              then `done` (storage/journal.ts semantics); the committed
//                              timestamp.json names it (s3.ts JOURNAL_META), so recovery reads
//                              exactly that one. A publication with no such steps has no object:
//                              its entry rides on timestamp.json itself (s3.ts ENTRY_META)
//   retired/<time>-<id>.jsonl  withdrawn package files of one publication (storage/retired-files.ts)
//   config.json                the public configuration (for operators setting up another machine)
//   records/<name>             private records: proposals of offline roles (storage/pending-store.ts)
// Every object has a unique name, so writers on several machines never overwrite each other's.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomicSync } from '../../io/atomic-file.js';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TufpipError } from '../../metadata/errors.js';
import type { RetiredFile } from '../../metadata/filename-record.js';
import type { JournalEntry } from './journal.js';
import type { RepoConfig } from './layout.js';
import type { RetiredRecord } from './retired-files.js';
import { s3Status } from './s3-client.js';
import type { S3Location } from './s3-location.js';
import type { PrivateState } from './storage.js';

function fail(op: string, where: string, err: unknown): TufpipError {
  return new TufpipError('IO', `${op} s3://${where}: ${(err as Error).message}${s3Status(err) ? ` (HTTP ${s3Status(err)})` : ''}`, { cause: err });
}

export class S3PrivateState implements PrivateState {
  private retired: RetiredRecord = new Map();
  /** txn -> key of its journal object (written by this process or read by recovery). */
  private readonly journalKeys = new Map<string, string>();

  constructor(
    private readonly loc: S3Location,
    private readonly client: S3Client,
    /** What the last-read timestamp.json carries: its journal key or its inline entry (s3.ts). */
    private readonly head: () => { journalKey?: string; entry?: string } | undefined,
    /** This machine's local state folder: hints (records written `durable: false`) stay there. */
    private readonly localDir?: string,
  ) {}

  private hintFile(name: string): string | undefined {
    return this.localDir && path.join(this.localDir, 'hints', ...name.split('/'));
  }

  private key(name: string): string {
    return `${this.loc.privatePrefix}${name}`;
  }

  private async putObject(name: string, body: string): Promise<{ bucket: string; key: string }> {
    const Key = this.key(name);
    await this.client.send(new PutObjectCommand({ Bucket: this.loc.privateBucket, Key, Body: body, ContentType: 'application/json' })).catch((err: unknown) => {
      throw fail('writing', `${this.loc.privateBucket}/${Key}`, err);
    });
    return { bucket: this.loc.privateBucket, key: Key };
  }

  private async getText(key: string): Promise<string | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.privateBucket, Key: key }));
      return await r.Body!.transformToString();
    } catch (err) {
      if (s3Status(err) === 404) return undefined;
      throw fail('reading', `${this.loc.privateBucket}/${key}`, err);
    }
  }

  /** Reads the record of withdrawn files (every `retired/` object). */
  async load(): Promise<void> {
    const out: RetiredRecord = new Map();
    let token: string | undefined;
    const keys: string[] = [];
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.privateBucket, Prefix: this.key('retired/'), ContinuationToken: token })).catch((err: unknown) => {
        throw fail('listing', `${this.loc.privateBucket}/${this.key('retired/')}`, err);
      });
      for (const o of r.Contents ?? []) keys.push(o.Key!);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    for (const k of keys) {
      for (const line of ((await this.getText(k)) ?? '').split('\n')) {
        if (line.trim() === '') continue;
        const e = JSON.parse(line) as Partial<RetiredFile>;
        if (typeof e.path !== 'string' || typeof e.sha256 !== 'string') continue;
        const set = out.get(e.path) ?? new Set<string>();
        set.add(e.sha256);
        out.set(e.path, set);
      }
    }
    this.retired = out;
  }

  loadRetired(): RetiredRecord {
    return this.retired;
  }

  async putRetired(files: RetiredFile[], time: string, command: string, id: string): Promise<{ bucket: string; key: string }> {
    return this.putObject(`retired/${time.replace(/[:.]/g, '')}-${id}.jsonl`, files.map((e) => JSON.stringify({ ...e, time, command })).join('\n') + '\n');
  }

  /** The `prepared` entry of a publication (s3.ts names it on its timestamp.json). */
  async putJournal(entry: JournalEntry, id: string): Promise<{ bucket: string; key: string }> {
    const obj = await this.putObject(`journal/${entry.txn}-${id}.json`, JSON.stringify(entry));
    this.journalKeys.set(entry.txn, obj.key);
    return obj;
  }

  /** The entry of the publication that committed the head last read (undefined: none recorded). */
  async lastJournalEntry(): Promise<JournalEntry | undefined> {
    const inline = this.head()?.entry;
    if (inline) {
      // Visible only on a committed head, and it had nothing left to do after the commit.
      try {
        return { ...(JSON.parse(Buffer.from(inline, 'base64url').toString('utf8')) as JournalEntry), state: 'done' };
      } catch {
        return undefined;
      }
    }
    const key = this.head()?.journalKey;
    if (!key || !key.startsWith(this.key('journal/'))) return undefined;
    const text = await this.getText(key);
    if (!text) return undefined;
    const entry = JSON.parse(text) as JournalEntry;
    this.journalKeys.set(entry.txn, key);
    return entry;
  }

  async appendJournal(entry: JournalEntry): Promise<void> {
    const key = this.journalKeys.get(entry.txn);
    if (key) await this.putObject(key.slice(this.loc.privatePrefix.length), JSON.stringify(entry));
    else await this.putObject(`journal/${entry.txn}-${randomBytes(6).toString('hex')}.json`, JSON.stringify(entry));
  }

  async saveConfig(config: RepoConfig): Promise<void> {
    await this.putObject('config.json', JSON.stringify(config, null, 2) + '\n');
  }

  /** Keeps the `keep` newest journal objects and the one the published head names (`gc`). */
  async compactJournal(keep: number): Promise<void> {
    const objs: { key: string; modified: number }[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.privateBucket, Prefix: this.key('journal/'), ContinuationToken: token })).catch((err: unknown) => {
        throw fail('listing', `${this.loc.privateBucket}/${this.key('journal/')}`, err);
      });
      for (const o of r.Contents ?? []) objs.push({ key: o.Key!, modified: o.LastModified?.getTime() ?? 0 });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    objs.sort((a, b) => b.modified - a.modified);
    for (const o of objs.slice(keep)) if (o.key !== this.head()?.journalKey) await this.remove({ bucket: this.loc.privateBucket, key: o.key });
  }

  /**
   * Private records (pending proposals) live under `records/`, shared by every machine; hints
   * (written `durable: false`: expiry caches, valid only for the snapshot version they name) in
   * this machine's folder, which saves object writes on every publication.
   */
  async readRecord(name: string): Promise<Buffer | undefined> {
    const hint = this.hintFile(name);
    if (hint) {
      try {
        return fs.readFileSync(hint);
      } catch {
        // not a hint of this machine: a shared record
      }
    }
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.privateBucket, Key: this.key(`records/${name}`) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (s3Status(err) === 404) return undefined;
      throw fail('reading', `${this.loc.privateBucket}/${this.key(`records/${name}`)}`, err);
    }
  }

  async writeRecord(name: string, bytes: Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
    const hint = this.hintFile(name);
    if (hint && opts.durable === false) {
      fs.mkdirSync(path.dirname(hint), { recursive: true, mode: 0o700 });
      writeFileAtomicSync(hint, bytes, false);
      return;
    }
    const Key = this.key(`records/${name}`);
    await this.client.send(new PutObjectCommand({ Bucket: this.loc.privateBucket, Key, Body: bytes })).catch((err: unknown) => {
      throw fail('writing', `${this.loc.privateBucket}/${Key}`, err);
    });
  }

  async deleteRecord(name: string): Promise<boolean> {
    const hint = this.hintFile(name);
    if (hint && fs.existsSync(hint)) {
      fs.rmSync(hint, { force: true });
      return true;
    }
    if ((await this.readRecord(name)) === undefined) return false;
    await this.remove({ bucket: this.loc.privateBucket, key: this.key(`records/${name}`) });
    return true;
  }

  whereRecord(name: string): string {
    return `s3://${this.loc.privateBucket}/${this.key(`records/${name}`)}`;
  }

  /** Removes a private object (a publication's abort). */
  async remove(o: { bucket: string; key: string }): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: o.key })).catch(() => undefined);
  }
}
