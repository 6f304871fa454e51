// `tufpip-repo move DIR --to s3://BUCKET/PREFIX | --to local`: moves a repository's published tree
// and private state between the local disk (DIR/site) and object storage, through the storage seam
// (storage.ts) on both sides, as one publication on the destination (docs/object-storage.md
// "Moving an index"):
// - every versioned metadata file (N.ROLE.json: the whole history watchers and clients at older
//   versions read, TUF spec 5.3-5.6) and every hash-named page and package file is copied; the
//   plain names are written from the published targets where the destination has them
//   (storage.ts plainNames), never copied blindly;
// - the record of withdrawn files (filenames are forever) and pending proposals go along;
// - timestamp.json is written last (the destination's commit point), so a reader of the
//   destination never sees a head naming something absent, and a move that fails leaves the
//   destination without a repository (a new `move` starts over).
// The source stays as it was: clients still pointed at its URL keep working until its timestamp
// expires; the operator removes it once they use the new one. config.json names the destination
// only after the commit.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { TufpipError } from '../../metadata/errors.js';
import type { RetiredFile } from '../../metadata/filename-record.js';
import { isHashedPath, hashedPath } from '../../metadata/target-paths.js';
import { ROOT, versionedFileName } from '../../metadata/roles.js';
import { loadPendingFiles, savePending } from '../storage/pending-store.js';
import { cachePolicyOf, type RepoConfig } from '../storage/layout.js';
import { LocalDiskStorage } from '../storage/local-disk.js';
import { describeS3, type S3Location } from '../storage/s3-location.js';
import type { ObjectSource, Publication, Storage } from '../storage/storage.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import type { RepoContext } from '../txn/context.js';

export interface MoveOptions extends OpenOptions {
  /** The destination: a bucket, or undefined for the local disk (DIR/site). */
  to?: S3Location;
  /** The URL the destination is served at (default: config.json's `url`, unchanged). */
  url?: string;
  /** Progress: objects copied so far of the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface MoveResult {
  from: string;
  to: string;
  url: string;
  metadataObjects: number;
  contentObjects: number;
  plainNames: number;
  withdrawnRecords: number;
  pendingProposals: number;
  timestampVersion: number;
  /** Where the previous copy stays (removed by the operator once clients use the new URL). */
  sourceKept: string;
}

function describeStorage(config: RepoConfig, dir: string): string {
  return config.storage ? describeS3(config.storage) : `${dir}/site`;
}

/**
 * The destination's storage. One that already holds a repository is refused, unless its head is
 * the source's own: a move that committed and was interrupted before config.json named it
 * (`finished`: only the config is left to do).
 */
async function openDestination(ctx: RepoContext, to: S3Location | undefined, head: Buffer): Promise<{ dest: Storage; finished: boolean }> {
  let dest: Storage;
  if (!to) dest = new LocalDiskStorage(ctx.layout, ctx.lock);
  else {
    const { S3Storage } = await import('../storage/s3.js');
    dest = await new S3Storage(to, ctx.lock, cachePolicyOf(ctx.config), ctx.layout.dir).open();
  }
  const existing = await dest.read('metadata', 'timestamp.json');
  if (existing === undefined) return { dest, finished: false };
  if (existing.equals(head)) return { dest, finished: true };
  const where = to ? `${describeS3(to)} already holds a repository` : `${dest.where('metadata', 'timestamp.json')} exists: the local disk already holds a published tree`;
  throw new TufpipError('EXISTS', `${where}; refusing to overwrite it (remove it first); nothing was moved`);
}

/** An object of the source, read through the seam (whatever the backend). */
async function sourceOf(src: Storage, area: 'metadata' | 'targets', name: string): Promise<ObjectSource> {
  const bytes = await src.read(area, name);
  if (!bytes) throw new TufpipError('NOT_FOUND', `${src.where(area, name)} disappeared during the move; nothing was moved`);
  return { bytes };
}

/** What a move copies: hash-named content, plain names to write, metadata files, and the head. */
interface MovePlan {
  content: string[];
  plain: [string, string][];
  metadata: string[];
  head: Buffer;
  time: string;
}

/**
 * One publication on the destination, in publish order (storage.ts): content and plain names,
 * versioned metadata, roots (create-only: TUF spec 5.3.3, clients probe for them), the record of
 * withdrawn files, then the head, the commit point.
 */
async function copyInPublishOrder(publication: Publication, src: Storage, m: MovePlan, tick: () => void): Promise<void> {
  for (const name of m.content) {
    await publication.putImmutable('targets', name, await sourceOf(src, 'targets', name));
    tick();
  }
  for (const [p, hashed] of m.plain) {
    await publication.putNewName(p, hashed);
    tick();
  }
  const isRoot = (n: string) => new RegExp(`^\\d+\\.${ROOT}\\.json$`).test(n);
  for (const name of m.metadata.filter((n) => !isRoot(n))) {
    await publication.putImmutable('metadata', name, await sourceOf(src, 'metadata', name));
    tick();
  }
  await publication.flush();
  for (const name of m.metadata.filter(isRoot)) {
    await publication.putImmutable('metadata', name, await sourceOf(src, 'metadata', name), { createOnly: true });
    tick();
  }
  await publication.flush();
  // Filenames are forever: the record of withdrawn files goes along (its rule compares paths and
  // hashes; the lengths are not kept by the record's reader).
  const withdrawn: RetiredFile[] = [];
  for (const [p, hashes] of src.state.loadRetired()) for (const sha256 of hashes) withdrawn.push({ path: p, sha256, length: 0 });
  if (withdrawn.length > 0) await publication.recordWithdrawn(withdrawn, m.time, 'move');
  await publication.commit(m.head);
  tick();
}

export async function moveRepo(dir: string, opts: MoveOptions): Promise<MoveResult> {
  return withRepo(dir, opts, async (ctx) => {
    const { config, layout, published: pub, storage: src } = ctx;
    const from = describeStorage(config, layout.dir);
    if (!opts.to && !config.storage) throw new TufpipError('USAGE', `${layout.dir} is already on the local disk (${from})`);
    if (opts.to && config.storage && describeS3(opts.to) === describeS3(config.storage) && opts.to.privateBucket === config.storage.privateBucket) {
      throw new TufpipError('USAGE', `${layout.dir} is already at ${from}`);
    }
    const head = await src.read('metadata', 'timestamp.json');
    if (!head) throw new TufpipError('NOT_FOUND', `${src.where('metadata', 'timestamp.json')} is missing; nothing was moved`);
    const { dest, finished } = await openDestination(ctx, opts.to, head);
    const to = opts.to ? describeS3(opts.to) : dest.where('targets', '').replace(/\/$/, '');

    const metadata = (await src.list('metadata', '')).map((o) => o.name).filter((n) => !n.includes('/') && n.endsWith('.json') && n !== 'timestamp.json');
    const content: string[] = [];
    for (const top of ['packages/', 'simple/']) for (const o of await src.list('targets', top)) if (isHashedPath(o.name)) content.push(o.name);
    // The plain names of the published targets (storage.ts plainNames), from the metadata.
    const plain: [string, string][] = [];
    if (dest.plainNames) {
      for (const [file] of pub.versions) {
        const role = await pub.role(file.slice(0, -'.json'.length));
        for (const [p, info] of Object.entries(role.signed.targets)) plain.push([p, hashedPath(p, info.hashes.sha256)]);
      }
    }
    const total = metadata.length + content.length + plain.length + 1;
    let done = 0;
    const tick = () => opts.onProgress?.(++done, total);

    if (!finished) {
      const publication = await dest.begin(undefined, [...content, ...plain.map(([p]) => p)], metadata.length);
      try {
        await copyInPublishOrder(publication, src, { content, plain, metadata, head, time: ctx.now.toISOString() }, tick);
      } catch (err) {
        if (!publication.committed) await publication.abort();
        throw err;
      }
    }
    const pending = await loadPendingFiles(src.state);
    for (const p of pending.values()) await savePending(dest.state, p.pending);

    // The trust anchor `verify` starts from for a repository in a bucket (init keeps the same copy):
    // the root v1 of the source, never the bucket's own.
    if (opts.to) {
      const root1 = versionedFileName(ROOT, 1);
      const kept = path.join(layout.dir, root1);
      if (!fs.existsSync(kept)) await writeFileAtomic(kept, (await src.read('metadata', root1))!);
    }
    const moved: RepoConfig = { ...config, url: opts.url ?? config.url, storage: opts.to };
    if (!opts.to) delete moved.storage;
    await layout.saveConfig(moved);
    if (opts.to) await dest.state.saveConfig(moved);
    await dest.state.appendJournal({ txn: `${pub.timestamp.signed.version}-${process.pid}-move`, state: 'done', command: 'move', timestampVersion: pub.timestamp.signed.version, time: ctx.now.toISOString() });
    return {
      from,
      to,
      url: moved.url,
      metadataObjects: metadata.length + 1,
      contentObjects: content.length,
      plainNames: plain.length,
      withdrawnRecords: [...src.state.loadRetired().values()].reduce((n, s) => n + s.size, 0),
      pendingProposals: pending.size,
      timestampVersion: pub.timestamp.signed.version,
      sourceKept: from,
    };
  });
}
