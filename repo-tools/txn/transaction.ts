// One atomic publication (DESIGN.md "Publishing rules"): new versioned files first (content,
// targets roles, snapshot), a self-check of everything a client would verify, then timestamp.json
// replaced last with write-temp, fsync, rename. A crash at any point leaves the previously
// published repository intact: nothing it references is changed before the rename.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { canonicalize } from '../../metadata/canonical.js';
import {
  buildTargets,
  buildTimestamp,
  canonicalSnapshot,
  serializeEnvelope,
  type TargetInfo,
  type TargetsSigned,
} from '../../metadata/builders.js';
import { expiresAt, expiryKeyForRole } from '../../metadata/profile.js';
import { binForPath } from '../../metadata/hash-bins.js';
import { hashedPath } from '../../metadata/target-paths.js';
import { BINS, CLAIMED, isBinRole, isOnlineRole, versionedFileName } from '../../metadata/roles.js';

import { TufpipError } from '../../metadata/errors.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { sha256Hex } from '../../metadata/hash.js';
import type { Signer } from '../keys/signer.js';
import type { RepoContext } from './context.js';
import { DurableBatch, existsSync, fsyncDir, linkOrCopy, writeFileAtomic, writeFileAtomicSync, writeImmutableSync } from '../../io/atomic-file.js';
import { appendJournal, runPostSteps, type PostStep } from '../storage/journal.js';
import { appendRetired, loadRetired, truncateRetired, type RetiredRecord } from '../storage/retired-files.js';
import { isPackageTarget, retiredConflict, withdrawnTargets, type RetiredFile } from '../../metadata/filename-record.js';
import { recordScannedDirs, verifyNoSecretsUnderSite } from '../storage/secrets-guard.js';
import { advanceDueSummary } from '../storage/expiry-cache.js';
import { binsChain, checkStoreInputs, selfCheck } from './self-check.js';
import { rebuildBins } from './bin-rebuild-pool.js';
import type { SnapshotText } from '../../metadata/snapshot-text.js';

export interface ContentFile {
  targetPath: string;
  sha256: string;
  /** Bytes to write, or a staged file (outside site/) to link or copy. */
  source: { bytes: Buffer } | { file: string };
  /** Package files get their plain name before publishing (a new name nobody references yet). */
  plainBeforePublish: boolean;
}

export interface CommitResult {
  noop: boolean;
  timestampVersion: number;
  snapshotVersion: number;
  roles: { role: string; version: number }[];
  /** Milliseconds per phase (build, self-check, write, publish), for benchmarks and --json. */
  timings?: Record<string, number>;
  /** How a new snapshot was made: its text edited (a few versions changed) or built in full. */
  snapshotBuilt?: 'edited' | 'in-full';
  /** Bins rebuilt in bulk on every core (bin-rebuild-pool.ts), when there were thousands. */
  bulkBins?: number;
}

/** An error from the file system (ENOSPC, EFBIG, EIO, EDQUOT, EROFS, EACCES...). */
function isFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

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

/** Signs canonical bytes with each signer and returns the serialised metadata file. */
export async function signRole(signedCanonical: string, signers: Signer[]): Promise<Buffer> {
  const bytes = Buffer.from(signedCanonical, 'utf8');
  const signatures = [];
  for (const s of signers) signatures.push({ keyid: s.keyid, sig: s.signSync ? s.signSync(bytes) : await s.sign(bytes) });
  return Buffer.from(serializeEnvelope(signedCanonical, signatures), 'utf8');
}

/** From this many bins on, a transaction rebuilds them in bulk (bin-rebuild-pool.ts). */
const BULK_FROM = 2048;

/** Up to this many changed roles, the snapshot is edited as text; past it, one full build is cheaper. */
const SNAPSHOT_TEXT_EDITS = 64;

export class Transaction {
  readonly ctx: RepoContext;
  readonly command: string;
  private binEdits = new Map<string, Map<string, TargetInfo | null>>();
  private resignSet = new Set<string>();
  private roleUpdates = new Map<string, { signed: TargetsSigned; signers: Signer[] }>();
  private presigned = new Map<string, { bytes: Buffer; version: number }>();
  private newRoot?: { bytes: Buffer; version: number };
  private alsoVerify = new Set<string>();
  private content: ContentFile[] = [];
  private post: PostStep[] = [];
  private retired?: RetiredRecord;
  private alsoWithdrawn: RetiredFile[] = [];
  /** Re-sign snapshot even if no targets role changed (bump). */
  forceSnapshot = false;
  /** Re-sign timestamp even if nothing else changed (bump). */
  forceTimestamp = false;
  /** Progress of long steps (a bulk rebuild of thousands of bins: phase 'signing'). */
  onProgress?: (done: number, total: number, phase: string) => void;

  constructor(ctx: RepoContext, command: string) {
    this.ctx = ctx;
    this.command = command;
  }

  binOf(targetPath: string): string {
    return binForPath(targetPath, this.ctx.config.bins);
  }

  /** The target as it will be after this transaction (pending edits first). */
  async getTarget(targetPath: string): Promise<TargetInfo | undefined> {
    const bin = this.binOf(targetPath);
    const edits = this.binEdits.get(bin);
    if (edits?.has(targetPath)) return edits.get(targetPath) ?? undefined;
    const role = await this.ctx.published.role(bin);
    return Object.prototype.hasOwnProperty.call(role.signed.targets, targetPath) ? role.signed.targets[targetPath] : undefined;
  }

  setTarget(targetPath: string, info: TargetInfo | null): void {
    const bin = this.binOf(targetPath);
    let m = this.binEdits.get(bin);
    if (!m) this.binEdits.set(bin, (m = new Map()));
    m.set(targetPath, info);
  }

  /** Re-sign an online targets role with unchanged content (bump). */
  resign(role: string): void {
    if (!isOnlineRole(role) || role === 'snapshot' || role === 'timestamp') throw new Error(`resign() is for online targets roles, not ${role}`);
    this.resignSet.add(role);
  }

  /** Publish a new version of a targets role built by the caller (version and expiry set). */
  updateRole(role: string, signed: TargetsSigned, signers: Signer[]): void {
    this.roleUpdates.set(role, { signed, signers });
  }

  /**
   * Publish a role someone else signed (PEP 480: maintainers sign their project's roles). The
   * bytes are published as they are; the self-check verifies them against their delegator.
   */
  putSignedRole(role: string, bytes: Buffer, version: number): void {
    this.presigned.set(role, { bytes, version });
  }

  /**
   * Publish a new root version (offline-signed, issue 5) as `N.root.json` in this transaction:
   * written after every other new file and before timestamp.json; the self-check verifies it as
   * clients do (TUF spec 5.3.4 - 5.3.5) and everything else with it as the trusted root.
   */
  putRoot(bytes: Buffer, version: number): void {
    if (version !== this.ctx.published.rootVersion + 1) {
      throw new TufpipError('SELF_CHECK', `TUF spec 5.3.5: expected root version ${this.ctx.published.rootVersion + 1}, got ${version}; nothing was published`);
    }
    this.newRoot = { bytes, version };
  }

  /** Verify an unchanged role in the self-check too (its delegator is re-keyed here). */
  verifyAlso(role: string): void {
    this.alsoVerify.add(role);
  }

  /**
   * The hashes a package file had when it was withdrawn (storage/retired-files.ts), or undefined
   * if it never was: identical bytes restore it, other bytes are refused at commit.
   */
  retiredHashes(targetPath: string): ReadonlySet<string> | undefined {
    this.retired ??= loadRetired(this.ctx.layout);
    return this.retired.get(targetPath);
  }

  /**
   * Records a package file this transaction makes unreachable without editing the role that lists
   * it (a takedown drops a project's delegation, orphaning its release roles).
   */
  withdraw(file: RetiredFile): void {
    if (isPackageTarget(file.path)) this.alsoWithdrawn.push(file);
  }

  /**
   * "Filenames are forever" (DESIGN.md), for every publishing path at once: the package files this
   * transaction withdraws (to be recorded before it publishes), after refusing any new package
   * target whose filename was withdrawn with other bytes.
   */
  private async planFilenameRecord(): Promise<RetiredFile[]> {
    const pub = this.ctx.published;
    const withdrawn: RetiredFile[] = [...this.alsoWithdrawn];
    const incoming: [string, string][] = [];
    for (const [bin, m] of this.binEdits) {
      let current: Record<string, TargetInfo> | undefined;
      for (const [p, info] of m) {
        if (!isPackageTarget(p)) continue;
        if (info) {
          // (A published filename rewritten in place is refused by its command, which reads the
          // bin anyway; a bulk build does not load its thousands of bins here.)
          incoming.push([p, info.hashes.sha256]);
          continue;
        }
        current ??= (await pub.role(bin)).signed.targets;
        if (Object.prototype.hasOwnProperty.call(current, p)) withdrawn.push({ path: p, sha256: current[p].hashes.sha256, length: current[p].length });
      }
    }
    // Roles replaced whole (PEP 480 project and release roles): compared with their published version.
    const replaced: [string, TargetsSigned][] = [...this.roleUpdates].map(([r, u]) => [r, u.signed]);
    for (const [r, { bytes }] of this.presigned) replaced.push([r, parseEnvelope<TargetsSigned>(bytes, r).signed]);
    for (const [role, signed] of replaced) {
      const before = pub.versionOf(role) === undefined ? {} : (await pub.role(role)).signed.targets;
      const after = signed.targets ?? {};
      withdrawn.push(...withdrawnTargets(before, after));
      for (const [p, info] of Object.entries(after)) {
        if (isPackageTarget(p) && before[p]?.hashes.sha256 !== info.hashes.sha256) incoming.push([p, info.hashes.sha256]);
      }
    }
    for (const [p, sha256] of incoming) {
      const why = retiredConflict(this.retiredHashes(p), p, sha256);
      if (why) throw new TufpipError('CONFLICT', `${why}; nothing was published`);
    }
    return withdrawn;
  }

  addContent(c: ContentFile): void {
    this.content.push(c);
  }

  afterPublish(step: PostStep): void {
    this.post.push(step);
  }

  get isEmpty(): boolean {
    return (
      this.binEdits.size === 0 && this.resignSet.size === 0 && this.roleUpdates.size === 0 && this.presigned.size === 0 && this.content.length === 0 &&
      !this.forceSnapshot && !this.forceTimestamp && !this.newRoot
    );
  }

  async commit(): Promise<CommitResult> {
    const { layout, config, published: pub, now } = this.ctx;
    if (this.isEmpty) {
      return { noop: true, timestampVersion: pub.timestamp.signed.version, snapshotVersion: pub.snapshotVersion, roles: [] };
    }
    const t0 = performance.now();
    const withdrawn = await this.planFilenameRecord();
    const timings: Record<string, number> = {};
    const lap = (name: string, from: number) => (timings[name] = Math.round((performance.now() - from) * 10) / 10);
    const newRoleBytes = new Map<string, Buffer>();
    /** "<role>.json" -> new version, for every targets role this transaction publishes. */
    const edits = new Map<string, number>();
    const roleResults: { role: string; version: number }[] = [];
    const published: { role: string; expires: string; periodDays: number }[] = [];
    const expires = (role: string) => expiresAt(now, config.expires[expiryKeyForRole(role)]);

    const online = await this.ctx.onlineSigner();
    // Online targets roles: edited bins and re-signed roles. Thousands of bins (a bulk sync, a bump
    // of every bin) are rebuilt on every core once the snapshot is signed (bin-rebuild-pool.ts): a
    // snapshot names versions only, so it does not wait for their bytes.
    const onlineRoles = new Set<string>([...this.binEdits.keys(), ...this.resignSet]);
    const bulk = this.bulkBins(onlineRoles, online);
    for (const role of onlineRoles) {
      if (this.roleUpdates.has(role)) continue;
      if (bulk.has(role)) {
        const version = pub.versionOf(role);
        if (version === undefined) throw new TufpipError('NOT_FOUND', `role ${role} is not in the published snapshot`);
        edits.set(`${role}.json`, version + 1);
        roleResults.push({ role, version: version + 1 });
        published.push({ role, expires: expires(role), periodDays: config.expires[expiryKeyForRole(role)] });
        continue;
      }
      const cur = await pub.role(role);
      const targets: Record<string, TargetInfo> = { ...cur.signed.targets };
      for (const [p, info] of this.binEdits.get(role) ?? []) {
        if (info) targets[p] = info;
        else delete targets[p];
      }
      const signed = buildTargets(cur.version + 1, expires(role), targets, cur.signed.delegations);
      newRoleBytes.set(role, await signRole(canonicalize(signed), [await this.ctx.onlineSigner()]));
      edits.set(`${role}.json`, signed.version);
      roleResults.push({ role, version: signed.version });
      published.push({ role, expires: signed.expires, periodDays: config.expires[expiryKeyForRole(role)] });
    }
    for (const [role, { signed, signers }] of this.roleUpdates) {
      if (this.binEdits.has(role)) throw new Error(`role ${role} both edited and replaced in one transaction`);
      newRoleBytes.set(role, await signRole(canonicalize(signed), signers));
      edits.set(`${role}.json`, signed.version);
      roleResults.push({ role, version: signed.version });
      published.push({ role, expires: signed.expires, periodDays: config.expires[expiryKeyForRole(role)] });
    }

    for (const [role, { bytes, version }] of this.presigned) {
      if (this.binEdits.has(role) || this.roleUpdates.has(role)) throw new Error(`role ${role} both edited and replaced in one transaction`);
      newRoleBytes.set(role, bytes);
      edits.set(`${role}.json`, version);
      roleResults.push({ role, version });
      // An offline role changed: the due summary must forget its cached expiry (bump warnings).
      if (!isOnlineRole(role)) published.push({ role, expires: '', periodDays: 0 });
    }

    // TUF spec 4.4: snapshot lists the version of every targets role.
    const snapshotChanged = edits.size > 0 || this.forceSnapshot || this.newRoot !== undefined;
    let snapshotBytes = pub.snapshotBytes;
    let snapshotVersion = pub.snapshotVersion;
    /** The full new version map; only built when the snapshot is not edited as text. */
    let newVersions: Map<string, number> | undefined;
    /** The published snapshot as text, when the new one is edited from it. */
    let oldSnapshot: SnapshotText | undefined;
    if (snapshotChanged) {
      snapshotVersion += 1;
      // A few versions changed in a snapshot in tufpip's canonical shape: edit its text (a 16,385-
      // entry snapshot is not re-canonicalised on every add). Otherwise, or when a role is new,
      // build it in full. Either way the self-check below verifies the bytes.
      oldSnapshot = edits.size <= SNAPSHOT_TEXT_EDITS ? pub.snapshotText : undefined;
      let signedText = oldSnapshot?.next(snapshotVersion, expires('snapshot'), edits);
      if (signedText === undefined) {
        newVersions = new Map(pub.versions);
        for (const [file, v] of edits) newVersions.set(file, v);
        signedText = canonicalSnapshot(snapshotVersion, expires('snapshot'), newVersions);
      }
      snapshotBytes = await signRole(signedText, [online]);
    }
    // TUF spec 4.6: timestamp names the snapshot by version, length and hash.
    const tsSigned = buildTimestamp(pub.timestamp.signed.version + 1, expires('timestamp'), {
      version: snapshotVersion,
      length: snapshotBytes.length,
      sha256: sha256Hex(snapshotBytes),
    });
    const timestampBytes = await signRole(canonicalize(tsSigned), [online]);
    if (bulk.size > 0) {
      const chain = await binsChain(newRoleBytes, async (r) => (await pub.role(r)).bytes);
      const store = { rootBytes: pub.rootBytes, newRootBytes: this.newRoot?.bytes, oldTimestampBytes: pub.timestampBytes, newTimestampBytes: timestampBytes, snapshotBytes };
      const jobs = [...bulk].map((name) => ({ name, version: edits.get(`${name}.json`)! - 1, edits: [...(this.binEdits.get(name) ?? [])] }));
      const rebuilt = await rebuildBins(
        {
          ...checkStoreInputs(store, chain),
          metadataDir: layout.metadataDir,
          publishedBinsBytes: (await pub.role(BINS)).bytes,
          expires: expires(jobs[0].name),
          key: online.threadKey!(),
          keyid: online.keyid,
        },
        jobs,
        undefined,
        this.onProgress && ((done, total) => this.onProgress!(done, total, 'signing')),
      );
      for (const [name, bytes] of rebuilt) newRoleBytes.set(name, bytes);
    }

    // Content must match what the metadata says before anything is published.
    for (const c of this.content) {
      const data = 'bytes' in c.source ? c.source.bytes : await fsp.readFile(c.source.file);
      if (sha256Hex(data) !== c.sha256) {
        throw new TufpipError('SELF_CHECK', `content of ${c.targetPath} changed while it was being added; nothing was published`);
      }
    }

    lap('build-and-sign', t0);
    const t1 = performance.now();
    await selfCheck({
      rootBytes: pub.rootBytes,
      oldTimestampBytes: pub.timestampBytes,
      newTimestampBytes: timestampBytes,
      snapshotBytes,
      snapshotChanged,
      snapshot: !snapshotChanged ? undefined : newVersions ? { oldVersions: pub.versions, newVersions } : { oldSnapshot: oldSnapshot!, edits },
      changedRoles: newRoleBytes,
      roleBytes: async (role) => (await pub.role(role)).bytes,
      projectDelegator: (role) => this.projectDelegators.get(role) ?? CLAIMED,
      newRootBytes: this.newRoot?.bytes,
      alsoVerify: [...this.alsoVerify],
      verifiedBins: bulk,
    });

    lap('self-check', t1);
    const t2 = performance.now();
    const contentDirs = new Set<string>();
    for (const c of this.content) contentDirs.add(path.dirname(layout.targetFile(c.targetPath)));
    await verifyNoSecretsUnderSite(layout.site, contentDirs);
    const touchedDirs = new Set<string>([layout.metadataDir, ...contentDirs]);

    // Files and folders this transaction creates before it publishes. If it fails before
    // timestamp.json is replaced (a full disk, a file-size limit, a refused step), they are removed
    // again and the journal is cut back to where it was: a failed command leaves the repository as
    // it found it (found by test/repo-faults-disk.test.ts: an add that ran out of space left its
    // hash-named copies, plain names and versioned metadata behind). A crash still leaves them to
    // `gc` (unreferenced: nothing published names them).
    const created: string[] = [];
    const createdDirs: string[] = [];
    const isNew = (file: string) => !existsSync(file);
    const mkdirTracked = (dir: string) => {
      const first = fs.mkdirSync(dir, { recursive: true });
      if (first) createdDirs.push(...dirsFrom(first, dir));
    };
    let journalSize: number | undefined;
    let retiredSize: number | undefined;
    let timestampReplaced = false;
    const txn = `${tsSigned.version}-${process.pid}`;
    let t3 = 0;
    let step = 'writing content';
    try {
      // 1. Content: hash-named copies (and plain names of new package files).
      // Synchronous file operations (a thread-pool round trip each cost more than the operation),
      // yielding now and then so the lock's refresh timer keeps running in a large batch.
      let written = 0;
      for (const c of this.content) {
        if (++written % 32 === 0) await new Promise((r) => setImmediate(r));
        const hashed = layout.targetFile(hashedPath(c.targetPath, c.sha256));
        step = `writing ${c.targetPath}`;
        mkdirTracked(path.dirname(hashed));
        if (isNew(hashed)) created.push(hashed);
        if ('bytes' in c.source) writeImmutableSync(hashed, c.source.bytes);
        else await linkOrCopy(c.source.file, hashed);
        if (c.plainBeforePublish) {
          if (isNew(layout.targetFile(c.targetPath))) created.push(layout.targetFile(c.targetPath));
          await linkOrCopy(hashed, layout.targetFile(c.targetPath));
        }
      }
      // 2. Targets roles, then snapshot (versioned names: nothing published references them yet).
      step = 'writing the new metadata versions';
      const batch = new DurableBatch(newRoleBytes.size + 1);
      let n = 0;
      for (const [role, bytes] of newRoleBytes) {
        if (++n % 256 === 0) await new Promise((r) => setImmediate(r)); // the lock's refresh timer
        const file = layout.metadataFile(versionedFileName(role, edits.get(`${role}.json`)!));
        if (isNew(file)) created.push(file);
        batch.writeImmutable(file, bytes);
      }
      if (snapshotChanged) {
        const file = layout.metadataFile(versionedFileName('snapshot', snapshotVersion));
        if (isNew(file)) created.push(file);
        batch.writeImmutable(file, snapshotBytes);
      }
      await batch.flush();
      // 2b. The new root, last before the timestamp: clients fetch N.root.json by probing, so it is
      // visible from here on (TUF spec 5.3.3); everything it vouches for is already written.
      if (this.newRoot) {
        const file = layout.metadataFile(versionedFileName('root', this.newRoot.version));
        const existing = await fsp.readFile(file).catch(() => undefined);
        if (existing && !existing.equals(this.newRoot.bytes)) {
          throw new TufpipError('CONFLICT', `${file} already exists with other content: refusing to replace a root version; nothing was published`);
        }
        if (!existing) {
          created.push(file);
          await writeFileAtomic(file, this.newRoot.bytes, 0o644, false);
        }
      }
      for (const d of touchedDirs) await fsyncDir(d);

      lap('write', t2);
      t3 = performance.now();
      // 3. The record of withdrawn files, the journal, then timestamp.json: the single atomic step
      // that publishes everything. The record comes first, so no removal is ever published
      // without it (storage/retired-files.ts).
      if (withdrawn.length > 0) {
        step = 'recording the withdrawn files';
        retiredSize = await appendRetired(layout, withdrawn, now.toISOString(), this.command);
      }
      step = 'appending to the journal';
      journalSize = statSizeOr0(layout.journalFile);
      await appendJournal(layout, { txn, state: 'prepared', command: this.command, timestampVersion: tsSigned.version, time: now.toISOString(), post: this.post });
      this.ctx.lock.assertHeld();
      step = 'writing timestamp.json';
      writeFileAtomicSync(layout.metadataFile('timestamp.json'), timestampBytes);
      timestampReplaced = true; // from the rename on, clients may see it: nothing is rolled back
      await fsyncDir(layout.metadataDir);
    } catch (err) {
      // Not when the lock was lost: the files and the journal may be another writer's by now.
      const lockLost = err instanceof TufpipError && err.code === 'LOCKED';
      if (!timestampReplaced && !lockLost) {
        for (const f of created.reverse()) await fsp.rm(f, { force: true }).catch(() => undefined);
        for (const d of createdDirs.reverse()) await fsp.rmdir(d).catch(() => undefined);
        if (journalSize !== undefined) await fsp.truncate(layout.journalFile, journalSize).catch(() => undefined);
        if (retiredSize !== undefined) truncateRetired(layout, retiredSize);
        // A file-system error (ENOSPC, EFBIG, EIO...) says which step and that nothing changed.
        if (isFsError(err)) throw new TufpipError('IO', `${step}: ${(err as Error).message}; nothing was published, the repository is as it was`, { cause: err });
      }
      throw err;
    }

    // 4. Plain-named pages for plain pip, removals; then the journal closes the transaction.
    try {
      await runPostSteps(layout, this.post);
      await appendJournal(layout, { txn, state: 'done', timestampVersion: tsSigned.version, time: new Date().toISOString() });
    } catch (err) {
      if (!isFsError(err)) throw err;
      throw new TufpipError('IO', `timestamp ${tsSigned.version} was published, but updating the plain-named pages failed (${(err as Error).message}): the next tufpip-repo command finishes it`, { cause: err });
    }
    try {
      if (snapshotChanged) published.push({ role: 'snapshot', expires: expires('snapshot'), periodDays: config.expires.snapshot });
      advanceDueSummary(layout, pub.snapshotVersion, snapshotVersion, published); // a hint only
      recordScannedDirs(layout.site);
    } catch {
      // hints: a later command rebuilds them
    }

    if (this.newRoot) roleResults.unshift({ role: 'root', version: this.newRoot.version });
    if (snapshotChanged) roleResults.push({ role: 'snapshot', version: snapshotVersion });
    roleResults.push({ role: 'timestamp', version: tsSigned.version });
    lap('publish', t3);
    const snapshotBuilt = !snapshotChanged ? undefined : newVersions ? 'in-full' : 'edited';
    return { noop: false, timestampVersion: tsSigned.version, snapshotVersion, roles: roleResults, timings, snapshotBuilt, ...(bulk.size > 0 ? { bulkBins: bulk.size } : {}) };
  }

  /** The bins rebuilt in bulk (bin-rebuild.ts): thousands of them, with a key usable in threads. */
  private bulkBins(onlineRoles: Set<string>, online: Signer): Set<string> {
    if (!online.threadKey) return new Set();
    const bins = [...onlineRoles].filter((r) => isBinRole(r) && !this.roleUpdates.has(r) && !this.presigned.has(r));
    return new Set(bins.length >= BULK_FROM ? bins : []);
  }

  /** PEP 480: which role delegates a project role (set by claim transactions). */
  readonly projectDelegators = new Map<string, string>();
}

export { isBinRole };
