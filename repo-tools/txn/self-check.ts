// DESIGN.md "Publishing rules": before replacing timestamp.json, verify what is about to be
// published the way a client would. This runs tuf-js's own TrustedMetadataStore (the client's
// verification code) over the exact bytes that will be written; a failure publishes nothing.
// Two refinements for speed (docs/design-decisions.md): a snapshot edited as text gets the same
// TUF spec 5.5 checks on its bytes without a full parse (snapshot-edit-check.ts), and thousands
// of changed bins are verified by several stores at once (self-check-worker.ts).
import { TrustedMetadataStore, type CheckStoreInputs } from '../../tuf/self-check-store.js';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { trustSnapshotEdit } from './snapshot-edit-check.js';
import type { SelfCheckJob, SelfCheckReply } from './self-check-worker.js';
import type { SnapshotText } from '../../metadata/snapshot-text.js';
import { MetaFile } from '../../tuf/models.js';
import { describeTufError } from '../../tuf/error-classifier.js';
import { TufpipError } from '../../metadata/errors.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { BINS, TARGETS, isBinRole } from '../../metadata/roles.js';
import { chainTo, delegatorOf as graphDelegatorOf } from '../../metadata/role-graph.js';

export interface SelfCheckInput {
  rootBytes: Buffer;
  /** The published timestamp (absent at init). */
  oldTimestampBytes?: Buffer;
  newTimestampBytes: Buffer;
  /** New snapshot bytes, or the current ones when the snapshot does not change. */
  snapshotBytes: Buffer;
  snapshotChanged: boolean;
  /**
   * How the new snapshot relates to the published one (when it changes): built in full (both
   * version maps; at init the old one is empty), or edited as text (the published snapshot read as
   * text and the entries that changed; metadata/snapshot-text.ts, snapshot-edit-check.ts).
   */
  snapshot?: FullSnapshot | EditedSnapshot;
  /** Changed targets roles and their new bytes. */
  changedRoles: Map<string, Buffer>;
  /** Bytes of a role as it will be published (changed or unchanged). */
  roleBytes: (role: string) => Promise<Buffer>;
  /** Delegator of a project role (claimed or recently-claimed). */
  projectDelegator?: (role: string) => string;
  /** A new root version published with this transaction (N+1.root.json), checked as clients do. */
  newRootBytes?: Buffer;
  /** Unchanged roles to verify too (their delegator is re-keyed in this transaction). */
  alsoVerify?: string[];
  /**
   * Changed bins already verified by tuf-js's store against this very root, timestamp and
   * snapshot as they were built (a bulk rebuild: bin-rebuild.ts); not verified again here.
   */
  verifiedBins?: Set<string>;
}

export interface FullSnapshot {
  oldVersions: Map<string, number>;
  newVersions: Map<string, number>;
}

export interface EditedSnapshot {
  /** The published snapshot (its bytes verified against the published timestamp). */
  oldSnapshot: SnapshotText;
  /** "<role>.json" -> its version in the new snapshot, for every entry that changed. */
  edits: Map<string, number>;
}

/** TUF spec 5.6.3: the role whose keys sign `role` (metadata/role-graph.ts); SELF_CHECK when unknown. */
export function delegatorOf(role: string, projectDelegator?: (r: string) => string): string {
  const d = graphDelegatorOf(role, projectDelegator);
  if (d === undefined) throw new TufpipError('SELF_CHECK', `no delegator known for role ${role}`);
  return d;
}

/** The delegators of the bins from the top: [role, its bytes after this transaction, its delegator]. */
export async function binsChain(changedRoles: Map<string, Buffer>, roleBytes: (role: string) => Promise<Buffer>): Promise<[string, Uint8Array, string][]> {
  const chain: [string, Uint8Array, string][] = [];
  for (const r of chainTo(BINS)) chain.push([r, changedRoles.get(r) ?? (await roleBytes(r)), delegatorOf(r)]);
  return chain;
}

/** What a store in another thread is loaded from (tuf/self-check-store.ts): the same bytes as this one. */
export function checkStoreInputs(i: Pick<SelfCheckInput, 'rootBytes' | 'newRootBytes' | 'oldTimestampBytes' | 'newTimestampBytes' | 'snapshotBytes'>, chain: [string, Uint8Array, string][]): CheckStoreInputs {
  return { rootBytes: i.rootBytes, newRootBytes: i.newRootBytes, oldTimestampBytes: i.oldTimestampBytes, newTimestampBytes: i.newTimestampBytes, snapshotBytes: i.snapshotBytes, chain };
}

/** From this many changed bins on, their verification is shared with worker threads. */
const PARALLEL_FROM = 2048;

/** Runs one share of the self-check in a worker thread (self-check-worker.ts). */
function runWorker(job: SelfCheckJob): Promise<SelfCheckReply> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./self-check-worker.js', import.meta.url), { workerData: job });
    let reply: SelfCheckReply | undefined;
    w.once('message', (m: SelfCheckReply) => (reply = m));
    w.once('error', reject);
    w.once('exit', (code) => (reply ? resolve(reply) : reject(new Error(`self-check worker exited with code ${code} without a result`))));
  });
}

export async function selfCheck(i: SelfCheckInput): Promise<void> {
  try {
    const store = new TrustedMetadataStore(i.rootBytes);
    // TUF spec 5.3.4 - 5.3.5 (update root): the new root is signed by a threshold of the trusted
    // root's keys and of its own, and its version is the trusted one + 1. What follows is then
    // verified with the new root as the trusted one, as a client would after updating.
    if (i.newRootBytes) store.updateRoot(i.newRootBytes);
    if (i.oldTimestampBytes) try {
      // The published timestamp is the client's trusted one (an expired one still serves for
      // rollback protection, as in tuf-js's updater).
      store.updateTimestamp(i.oldTimestampBytes);
    } catch {
      // The published timestamp may be expired; the new one is checked below in full.
    }
    // TUF spec 5.4.2 - 5.4.4: signature, rollback of timestamp and snapshot versions, freeze.
    store.updateTimestamp(i.newTimestampBytes);
    if (!i.snapshotChanged) {
      // TUF spec 5.5.2: the snapshot the new timestamp names must match by length and hash.
      const ts = parseEnvelope<{ meta: Record<string, unknown> }>(i.newTimestampBytes, 'timestamp.json');
      MetaFile.fromJSON(ts.signed.meta['snapshot.json'] as Parameters<typeof MetaFile.fromJSON>[0]).verify(i.snapshotBytes);
      return;
    }
    if (!i.snapshot) throw new TufpipError('SELF_CHECK', 'the snapshot changed but the self-check was not told how');
    // The delegated roles to verify below (changed ones, re-keyed ones) and their delegators.
    const changed = i.verifiedBins ? [...i.changedRoles.keys()].filter((r) => !i.verifiedBins!.has(r)) : [...i.changedRoles.keys()];
    const toVerify = [...changed, ...(i.newRootBytes ? [TARGETS] : []), ...(i.alsoVerify ?? [])];
    if ('edits' in i.snapshot) {
      // TUF spec 5.5.2 - 5.5.6 on the text (snapshot-edit-check.ts), then tuf-js's own 5.6 with
      // the entries the roles below need.
      const chain = new Set<string>();
      for (let r of toVerify) for (; r !== 'root' && !chain.has(r); r = delegatorOf(r, i.projectDelegator)) chain.add(r);
      trustSnapshotEdit(store, i.snapshotBytes, i.snapshot, [...chain]);
    } else {
      // TUF spec 5.5.2 - 5.5.6: hash from timestamp, signature, version, freeze.
      store.updateSnapshot(i.snapshotBytes);
      // TUF spec 5.5.5: no targets role may go back or disappear.
      for (const [name, v] of i.snapshot.oldVersions) {
        const nv = i.snapshot.newVersions.get(name);
        if (nv === undefined) throw new TufpipError('SELF_CHECK', `self-check refused the new snapshot (it drops ${name}); nothing was published`);
        if (nv < v) throw new TufpipError('SELF_CHECK', `self-check refused the new snapshot (it rolls ${name} back from version ${v} to ${nv}); nothing was published`);
      }
    }
    // TUF spec 5.6: each changed role verifies against its delegator, itself verified up to root.
    const loaded = new Set<string>();
    const load = async (role: string): Promise<void> => {
      if (loaded.has(role)) return;
      const parent = delegatorOf(role, i.projectDelegator);
      if (parent !== 'root') await load(parent);
      const bytes = i.changedRoles.get(role) ?? (await i.roleBytes(role));
      store.updateDelegatedTargets(bytes, role, parent);
      loaded.add(role);
    };
    // (A new root may re-key targets; a re-keyed delegator must still verify its unchanged delegates.)
    const bins = toVerify.filter(isBinRole);
    const workers = bins.length >= PARALLEL_FROM ? Math.min(os.availableParallelism() - 1, 3) : 0;
    if (workers <= 0) {
      for (const role of toVerify) await load(role);
      return;
    }
    // Many bins (a bulk build or a bump of every bin): their delegators here first, then the bins
    // shared between this thread and workers, each running the same tuf-js store.
    for (const role of toVerify) if (!isBinRole(role)) await load(role);
    await load(BINS);
    const chain = await binsChain(i.changedRoles, i.roleBytes);
    const shares: string[][] = Array.from({ length: workers + 1 }, () => []);
    bins.forEach((b, k) => shares[k % shares.length].push(b));
    const jobs = shares.slice(1).map(async (share) =>
      runWorker({
        ...checkStoreInputs(i, chain),
        roles: await Promise.all(share.map(async (r) => [r, i.changedRoles.get(r) ?? (await i.roleBytes(r)), BINS] as [string, Uint8Array, string])),
      }),
    );
    for (const role of shares[0]) await load(role);
    for (const reply of await Promise.all(jobs)) {
      if (!reply.ok) throw new TufpipError('SELF_CHECK', `self-check refused the new metadata (${reply.role}: ${reply.name}: ${reply.message}); nothing was published`);
    }
  } catch (err) {
    if (err instanceof TufpipError) throw err;
    throw new TufpipError('SELF_CHECK', `self-check refused the new metadata (${describeTufError(err)}); nothing was published`, { cause: err });
  }
}
