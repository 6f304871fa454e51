// The local-disk backend of the storage seam (storage.ts): a repository directory as laid out by
// layout.ts. Immutable objects: write-temp, fsync (or one syncfs for a batch), rename (fs-atomic.ts).
// The commit point: the repository lock still held, timestamp.json still the head this writer
// read, then write-temp, fsync, rename over it, fsync of the folder.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import type { RetiredFile } from '../../metadata/filename-record.js';
import type { Readable } from 'node:stream';
import { DurableBatch, existsSync, fsyncDir, linkOrCopy, replaceFileSync, writeFileAtomic, writeFileAtomicSync, writeImmutableSync } from '../../io/atomic-file.js';
import { appendJournal, lastJournalEntry, type JournalEntry } from './journal.js';
import { RepoLayout, type RepoConfig } from './layout.js';
import type { LockHandle } from '../../io/lock.js';
import { appendRetired, loadRetired, truncateRetired, type RetiredRecord } from './retired-files.js';
import { findLinksOutOfSite, recordScannedDirs, verifyNoSecretsUnderSite } from './secrets-guard.js';
import type { Area, ObjectSource, PrivateState, Publication, ReaderDescriptor, Storage, StorageReader, StoredObject } from './storage.js';

function statSizeOr0(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The folders `mkdir -p` created: from `first` down to `last`. */
function dirsFrom(first: string, last: string): string[] {
  const out: string[] = [];
  for (let d = last; ; d = path.dirname(d)) {
    out.unshift(d);
    if (d === first || d === path.dirname(d)) break;
  }
  return out;
}

class LocalPrivateState implements PrivateState {
  constructor(private readonly layout: RepoLayout) {}
  lastJournalEntry(): Promise<JournalEntry | undefined> {
    return lastJournalEntry(this.layout);
  }
  appendJournal(entry: JournalEntry): Promise<void> {
    return appendJournal(this.layout, entry);
  }
  loadRetired(): RetiredRecord {
    return loadRetired(this.layout);
  }
  saveConfig(config: RepoConfig): Promise<void> {
    return this.layout.saveConfig(config);
  }
  async compactJournal(keep: number): Promise<void> {
    const text = await fsp.readFile(this.layout.journalFile, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length <= keep * 2) return; // rewritten only once it has doubled
    await writeFileAtomic(this.layout.journalFile, lines.slice(-keep).join('\n') + '\n', 0o600);
  }
  whereRecord(name: string): string {
    const parts = name.split('/');
    // Record names are chosen by the code, never by input; a bad one is a bug, not a path.
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) throw new Error(`bad private record name ${JSON.stringify(name)}`);
    return path.join(this.layout.dir, ...parts);
  }
  async readRecord(name: string): Promise<Buffer | undefined> {
    try {
      return fs.readFileSync(this.whereRecord(name)); // one small file: no thread-pool round trip
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async writeRecord(name: string, bytes: Uint8Array, opts: { durable?: boolean; mode?: number } = {}): Promise<void> {
    const file = this.whereRecord(name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomicSync(file, bytes, opts.durable ?? true, opts.mode ?? 0o644);
  }
  async deleteRecord(name: string): Promise<boolean> {
    try {
      fs.rmSync(this.whereRecord(name));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

/** Reading the objects of a repository directory (also what a worker thread of a bulk rebuild uses). */
export class LocalDiskReader implements StorageReader {
  constructor(readonly layout: RepoLayout) {}

  file(area: Area, name: string): string {
    return area === 'metadata' ? this.layout.metadataFile(name) : this.layout.targetFile(name);
  }

  where(area: Area, name: string): string {
    return this.file(area, name);
  }

  async stream(area: Area, name: string): Promise<Readable | undefined> {
    const fh = await fsp.open(this.file(area, name), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return fh?.createReadStream(); // closes the handle when it ends or is destroyed
  }

  async read(area: Area, name: string): Promise<Buffer | undefined> {
    try {
      // Metadata synchronously: a transaction may read thousands of bins, and each async read is
      // a thread-pool round trip costing more than the read.
      return area === 'metadata' ? fs.readFileSync(this.file(area, name)) : await fsp.readFile(this.file(area, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

export class LocalDiskStorage extends LocalDiskReader implements Storage {
  readonly state: PrivateState;
  /** A static server of site/ serves plain pip too (DESIGN.md "Site layout"). */
  readonly plainNames = true;
  /**
   * @param lock the repository lock this writer holds (checked at the commit point); absent for a
   * repository being built where nobody else can see it (init's temporary directory), and for
   * commands that only read (status, pending).
   */
  constructor(
    layout: RepoLayout,
    private readonly lock?: LockHandle,
  ) {
    super(layout);
    this.state = new LocalPrivateState(layout);
  }

  private areaRoot(area: Area): string {
    return area === 'metadata' ? this.layout.metadataDir : this.layout.site;
  }

  async list(area: Area, prefix: string): Promise<StoredObject[]> {
    const root = this.areaRoot(area);
    const dir = prefix.endsWith('/') ? prefix.slice(0, -1) : path.posix.dirname(prefix) === '.' ? '' : path.posix.dirname(prefix);
    const entries = await fsp.readdir(path.join(root, dir), { recursive: true, withFileTypes: true }).catch(() => []);
    const out: StoredObject[] = [];
    for (const e of entries) {
      if (e.isDirectory()) continue;
      const file = path.join(e.parentPath ?? e.path, e.name);
      const name = path.relative(root, file).split(path.sep).join('/');
      if (!name.startsWith(prefix)) continue;
      // lstat: a symbolic link is an object of its own (its target is never followed).
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (st) out.push({ name, modified: st.mtime, size: st.size });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async removeEmptyFolders(area: Area, prefix: string): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory()) continue;
        const sub = path.join(dir, e.name);
        await walk(sub);
        await fsp.rmdir(sub).catch(() => undefined); // only if empty
      }
    };
    await walk(path.join(this.areaRoot(area), ...prefix.split('/').filter(Boolean)));
  }

  afterPublication(): void {
    recordScannedDirs(this.layout.site);
  }

  linksOutOfPublicArea(): Promise<string[]> {
    return findLinksOutOfSite(this.layout.site);
  }

  readerForWorkers(): ReaderDescriptor {
    return { backend: 'local-disk', dir: this.layout.dir };
  }

  async delete(area: Area, name: string): Promise<void> {
    fs.rmSync(this.file(area, name), { force: true });
  }

  async putMutable(name: string, copyOf: string): Promise<void> {
    await linkOrCopy(this.layout.targetFile(copyOf), this.layout.targetFile(name));
  }

  async begin(head: Buffer | undefined, targets: string[], metadataObjects = 0): Promise<Publication> {
    const contentDirs = new Set(targets.map((t) => path.dirname(this.layout.targetFile(t))));
    await verifyNoSecretsUnderSite(this.layout.site, contentDirs);
    // A publication into an empty tree (`move` back from a bucket) puts metadata first of all.
    if (head === undefined) fs.mkdirSync(this.layout.metadataDir, { recursive: true });
    return new LocalPublication(this, head, metadataObjects, this.lock);
  }
}

class LocalPublication implements Publication {
  /** Files and folders this publication created, removed again by abort(). */
  private readonly created: string[] = [];
  private readonly createdDirs: string[] = [];
  private readonly dirtyDirs = new Set<string>();
  private readonly batch: DurableBatch;
  private journalSize?: number;
  private retiredSize?: number;
  committed = false;

  constructor(
    private readonly storage: LocalDiskStorage,
    private readonly head: Buffer | undefined,
    metadataObjects: number,
    private readonly lock?: LockHandle,
  ) {
    this.batch = new DurableBatch(metadataObjects);
  }

  private get layout(): RepoLayout {
    return this.storage.layout;
  }

  private mkdirTracked(dir: string): void {
    const first = fs.mkdirSync(dir, { recursive: true });
    if (first) this.createdDirs.push(...dirsFrom(first, dir));
    this.dirtyDirs.add(dir);
  }

  private track(file: string): void {
    if (!existsSync(file)) this.created.push(file);
  }

  async putImmutable(area: Area, name: string, source: ObjectSource, opts: { createOnly?: boolean } = {}): Promise<void> {
    const file = this.storage.file(area, name);
    if (area === 'targets') {
      this.mkdirTracked(path.dirname(file));
      this.track(file);
      // Synchronous: a thread-pool round trip per file cost more than the operation.
      if ('bytes' in source) writeImmutableSync(file, source.bytes);
      else await linkOrCopy(source.file, file);
      return;
    }
    if (!('bytes' in source)) throw new Error('metadata objects are put from bytes');
    this.dirtyDirs.add(path.dirname(file));
    if (opts.createOnly) {
      const existing = await fsp.readFile(file).catch(() => undefined);
      if (existing && !existing.equals(source.bytes)) {
        throw new TufpipError('CONFLICT', `${file} already exists with other content: refusing to replace a root version; nothing was published`);
      }
      if (!existing) {
        this.created.push(file);
        await writeFileAtomic(file, source.bytes, 0o644, false);
      }
      return;
    }
    this.track(file);
    this.batch.writeImmutable(file, source.bytes);
  }

  async putNewName(name: string, copyOf: string): Promise<void> {
    const file = this.layout.targetFile(name);
    this.track(file);
    await linkOrCopy(this.layout.targetFile(copyOf), file);
  }

  async flush(): Promise<void> {
    await this.batch.flush();
    for (const d of this.dirtyDirs) await fsyncDir(d);
    this.dirtyDirs.clear();
  }

  async recordWithdrawn(files: RetiredFile[], time: string, command: string): Promise<void> {
    const size = await appendRetired(this.layout, files, time, command);
    this.retiredSize ??= size;
  }

  async journal(entry: JournalEntry): Promise<void> {
    this.journalSize ??= statSizeOr0(this.layout.journalFile);
    await appendJournal(this.layout, entry);
  }

  async commit(timestamp: Uint8Array): Promise<void> {
    this.lock?.assertHeld();
    const file = this.layout.metadataFile('timestamp.json');
    // Compare-and-swap: the head must still be what this writer planned from.
    let current: Buffer | undefined;
    try {
      current = fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (current === undefined ? this.head !== undefined : this.head === undefined || !current.equals(this.head)) {
      throw new TufpipError('CONFLICT', 'timestamp.json changed while this command ran (another writer?); nothing was published');
    }
    replaceFileSync(file, timestamp); // the directory is synced below, once
    this.committed = true; // from the rename on, clients may see it: nothing is rolled back
    await fsyncDir(this.layout.metadataDir);
  }

  async abort(): Promise<void> {
    if (this.committed) return;
    for (const f of this.created.reverse()) await fsp.rm(f, { force: true }).catch(() => undefined);
    for (const d of this.createdDirs.reverse()) await fsp.rmdir(d).catch(() => undefined);
    if (this.journalSize !== undefined) await fsp.truncate(this.layout.journalFile, this.journalSize).catch(() => undefined);
    if (this.retiredSize !== undefined) truncateRetired(this.layout, this.retiredSize);
  }
}
