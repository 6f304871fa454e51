// One atomic publication (DESIGN.md "Publishing rules"), the API the publishing commands build:
// target edits, replaced and presigned roles, a new root, content and post steps. commit() runs
// the one pipeline (pipeline.ts): the pure plan (metadata/publication-plan.ts), signing through
// Signers, the self-check of everything a client would verify, then persisting through the
// repository's Storage with timestamp.json last. A crash at any point leaves the previously
// published repository intact: nothing it references is changed before the commit point.
import { performance } from 'node:perf_hooks';
import fsp from 'node:fs/promises';
import { type TargetInfo, type TargetsSigned } from '../../metadata/builders.js';
import { expiresAt, expiryKeyForRole } from '../../metadata/profile.js';
import { binForPath } from '../../metadata/hash-bins.js';
import { BINS, CLAIMED, isBinRole, isOnlineRole, versionedFileName } from '../../metadata/roles.js';
import { planPublication } from '../../metadata/publication-plan.js';

import { TufpipError } from '../../metadata/errors.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { sha256Hex } from '../../metadata/hash.js';
import { isHashedPath } from '../../metadata/target-paths.js';
import type { Signer } from '../keys/signer.js';
import type { RepoContext } from './context.js';
import type { PostStep } from '../storage/journal.js';
import type { RetiredRecord } from '../storage/retired-files.js';
import { isPackageTarget, retiredConflict, withdrawnTargets, type RetiredFile } from '../../metadata/filename-record.js';
import { advanceDueSummary } from '../storage/expiry-cache.js';
import { binsChain, checkStoreInputs, selfCheck } from './self-check.js';
import { rebuildBins } from './bin-rebuild-pool.js';
import { finishPublication, persistPublication, signPayloads, signRole, type ContentFile } from './pipeline.js';

export { signRole, type ContentFile };

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

/** From this many bins on, a transaction rebuilds them in bulk (bin-rebuild-pool.ts). */
const BULK_FROM = 2048;

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
    this.retired ??= this.ctx.storage.state.loadRetired();
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
    this.content.push(this.ctx.storage.plainNames ? c : { ...c, plainBeforePublish: false });
  }

  /** A post step; plain-name steps are dropped for storage without plain names (storage.ts). */
  afterPublish(step: PostStep): void {
    if (!this.ctx.storage.plainNames && (step.op === 'copy' || !isHashedPath(step.path))) return;
    this.post.push(step);
  }

  get isEmpty(): boolean {
    return (
      this.binEdits.size === 0 && this.resignSet.size === 0 && this.roleUpdates.size === 0 && this.presigned.size === 0 && this.content.length === 0 &&
      !this.forceSnapshot && !this.forceTimestamp && !this.newRoot
    );
  }

  async commit(): Promise<CommitResult> {
    const { config, published: pub, now } = this.ctx;
    if (this.isEmpty) {
      return { noop: true, timestampVersion: pub.timestamp.signed.version, snapshotVersion: pub.snapshotVersion, roles: [] };
    }
    const t0 = performance.now();
    const withdrawn = await this.planFilenameRecord();
    const timings: Record<string, number> = {};
    const lap = (name: string, from: number) => (timings[name] = Math.round((performance.now() - from) * 10) / 10);

    // Plan (pure: metadata/publication-plan.ts). Thousands of bins (a bulk sync, a bump of every
    // bin) are planned by version and rebuilt on every core once the snapshot is signed
    // (bin-rebuild-pool.ts): a snapshot names versions only, so it does not wait for their bytes.
    const online = await this.ctx.onlineSigner();
    const onlineRoles = new Set<string>([...this.binEdits.keys(), ...this.resignSet]);
    const bulk = this.bulkBins(onlineRoles, online);
    const current = new Map<string, { version: number; signed: TargetsSigned }>();
    for (const role of onlineRoles) if (!this.roleUpdates.has(role) && !bulk.has(role)) current.set(role, await pub.role(role));
    const plan = planPublication(
      {
        timestampVersion: pub.timestamp.signed.version,
        snapshotVersion: pub.snapshotVersion,
        snapshotText: () => pub.snapshotText, // read only when the snapshot changes (a 16,385-entry text)
        versionOf: (role) => pub.versionOf(role),
        versions: () => pub.versions,
        current,
      },
      {
        targetEdits: this.binEdits,
        resign: this.resignSet,
        replaced: new Map([...this.roleUpdates].map(([r, u]) => [r, u.signed])),
        presigned: new Map([...this.presigned].map(([r, p]) => [r, p.version])),
        bulk,
        forceSnapshot: this.forceSnapshot,
        newRoot: this.newRoot !== undefined,
      },
      now,
      config.expires,
    );

    // Sign: every payload through a Signer; the bulk bins in the rebuild stage below.
    const newRoleBytes = await signPayloads(plan, {
      online,
      given: (r) => this.roleUpdates.get(r)!.signers,
      presigned: (r) => this.presigned.get(r)!.bytes,
    });
    const snapshotBytes = plan.snapshot ? await signRole(plan.snapshot.signedText, [online]) : pub.snapshotBytes;
    const ts = plan.timestamp(snapshotBytes);
    const timestampBytes = await signRole(ts.signedText, [online]);
    if (bulk.size > 0) {
      const chain = await binsChain(newRoleBytes, async (r) => (await pub.role(r)).bytes);
      const store = { rootBytes: pub.rootBytes, newRootBytes: this.newRoot?.bytes, oldTimestampBytes: pub.timestampBytes, newTimestampBytes: timestampBytes, snapshotBytes };
      const jobs = [...bulk].map((name) => ({ name, version: plan.versionEdits.get(`${name}.json`)! - 1, edits: [...(this.binEdits.get(name) ?? [])] }));
      const rebuilt = await rebuildBins(
        {
          ...checkStoreInputs(store, chain),
          reader: this.ctx.storage.readerForWorkers(),
          publishedBinsBytes: (await pub.role(BINS)).bytes,
          expires: expiresAt(now, config.expires[expiryKeyForRole(jobs[0].name)]),
          key: online.threadKey!(),
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
    const snap = plan.snapshot;
    await selfCheck({
      rootBytes: pub.rootBytes,
      oldTimestampBytes: pub.timestampBytes,
      newTimestampBytes: timestampBytes,
      snapshotBytes,
      snapshotChanged: snap !== undefined,
      snapshot: !snap ? undefined : snap.newVersions ? { oldVersions: pub.versions, newVersions: snap.newVersions } : { oldSnapshot: pub.snapshotText!, edits: plan.versionEdits },
      changedRoles: newRoleBytes,
      roleBytes: async (role) => (await pub.role(role)).bytes,
      projectDelegator: (role) => this.projectDelegators.get(role) ?? CLAIMED,
      newRootBytes: this.newRoot?.bytes,
      alsoVerify: [...this.alsoVerify],
      verifiedBins: bulk,
    });

    lap('self-check', t1);
    const t2 = performance.now();
    let t3 = 0;
    const txn = `${ts.version}-${process.pid}`;
    const storage = this.ctx.storage;
    const publication = await persistPublication(storage, pub.timestampBytes, {
      command: this.command,
      content: this.content,
      roles: plan.payloads.map((p) => [versionedFileName(p.role, p.version), newRoleBytes.get(p.role)!]),
      snapshot: snap && [versionedFileName('snapshot', snap.version), snapshotBytes],
      root: this.newRoot && [versionedFileName('root', this.newRoot.version), this.newRoot.bytes],
      withdrawn,
      time: now.toISOString(),
      prepared: { txn, state: 'prepared', command: this.command, timestampVersion: ts.version, time: now.toISOString(), post: this.post },
      timestamp: timestampBytes,
      onWritten: () => {
        lap('write', t2);
        t3 = performance.now();
      },
    });
    await finishPublication(storage, publication, this.post, { txn, state: 'done', timestampVersion: ts.version, time: new Date().toISOString() });
    try {
      const due = plan.payloads.filter((p) => p.due).map((p) => ({ role: p.role, ...p.due! }));
      if (snap) due.push({ role: 'snapshot', expires: snap.expires, periodDays: config.expires.snapshot });
      await advanceDueSummary(storage.state, pub.snapshotVersion, snap?.version ?? pub.snapshotVersion, due); // a hint only
      storage.afterPublication?.();
    } catch {
      // hints: a later command rebuilds them
    }

    const roleResults = plan.payloads.map((p) => ({ role: p.role, version: p.version }));
    if (this.newRoot) roleResults.unshift({ role: 'root', version: this.newRoot.version });
    if (snap) roleResults.push({ role: 'snapshot', version: snap.version });
    roleResults.push({ role: 'timestamp', version: ts.version });
    lap('publish', t3);
    const snapshotVersion = snap?.version ?? pub.snapshotVersion;
    return { noop: false, timestampVersion: ts.version, snapshotVersion, roles: roleResults, timings, snapshotBuilt: snap?.built, ...(bulk.size > 0 ? { bulkBins: bulk.size } : {}) };
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
