// The one publication pipeline (DESIGN.md "Publishing rules"), used by every publishing command
// (transaction.ts) and by init (commands/init.ts, from an empty published state):
//   plan (metadata/publication-plan.ts, pure) -> sign (always a Signer) -> self-check
//   (self-check.ts: tuf-js's store over the exact bytes) -> persist (through Storage, in publish
//   order: content, targets roles, snapshot, new root, private records, timestamp.json last).
// A bulk rebuild of thousands of bins (bin-rebuild*.ts) is this pipeline's sign and self-check
// stage for those bins, run on every core with the same per-role functions.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { serializeEnvelope } from '../../metadata/builders.js';
import { TufpipError } from '../../metadata/errors.js';
import type { RetiredFile } from '../../metadata/filename-record.js';
import type { PublicationPlan } from '../../metadata/publication-plan.js';
import { hashedPath } from '../../metadata/target-paths.js';
import type { Signer } from '../keys/signer.js';
import type { JournalEntry, PostStep } from '../storage/journal.js';
import type { Publication, Storage } from '../storage/storage.js';

export interface ContentFile {
  targetPath: string;
  sha256: string;
  /** Bytes to write, or a staged file (outside site/) to link or copy. */
  source: { bytes: Buffer } | { file: string };
  /** Package files get their plain name before publishing (a new name nobody references yet). */
  plainBeforePublish: boolean;
}

/** Signs canonical bytes with each signer and returns the serialised metadata file. */
export async function signRole(signedCanonical: string, signers: Signer[]): Promise<Buffer> {
  const bytes = Buffer.from(signedCanonical, 'utf8');
  const signatures = [];
  for (const s of signers) signatures.push({ keyid: s.keyid, sig: s.signSync ? s.signSync(bytes) : await s.sign(bytes) });
  return Buffer.from(serializeEnvelope(signedCanonical, signatures), 'utf8');
}

/** signRole for signers that sign synchronously (a bulk rebuild's LocalSigner in a worker thread). */
export function signRoleSync(signedCanonical: string, signers: Signer[]): Buffer {
  const bytes = Buffer.from(signedCanonical, 'utf8');
  const signatures = signers.map((s) => {
    if (!s.signSync) throw new Error(`signer ${s.keyid.slice(0, 8)} cannot sign synchronously`);
    return { keyid: s.keyid, sig: s.signSync(bytes) };
  });
  return Buffer.from(serializeEnvelope(signedCanonical, signatures), 'utf8');
}

export interface PlanSigners {
  online: Signer;
  /** The signers handed in with a replaced role (slot `given`). */
  given?: (role: string) => Signer[];
  /** The bytes of a role signed elsewhere (slot `presigned`). */
  presigned?: (role: string) => Buffer;
}

/** The sign stage for the plan's role payloads (all slots but `bulk`): role -> signed bytes. */
export async function signPayloads(plan: PublicationPlan, signers: PlanSigners): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const p of plan.payloads) {
    if (p.slot === 'online') out.set(p.role, await signRole(p.signedText!, [signers.online]));
    else if (p.slot === 'given') out.set(p.role, await signRole(p.signedText!, signers.given!(p.role)));
    else if (p.slot === 'presigned') out.set(p.role, signers.presigned!(p.role));
  }
  return out;
}

/** An error from the file system (ENOSPC, EFBIG, EIO, EDQUOT, EROFS, EACCES...). */
export function isFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

export interface PersistInput {
  command: string;
  content: ContentFile[];
  /** New targets roles: versioned file name -> bytes. */
  roles: [string, Buffer][];
  /** The new snapshot, when it changes: [versioned file name, bytes]. */
  snapshot?: [string, Buffer];
  /** A new root version: [versioned file name, bytes]. */
  root?: [string, Buffer];
  /** Package files this publication withdraws (storage/retired-files.ts). */
  withdrawn: RetiredFile[];
  time: string;
  /** The `prepared` journal entry (absent: a repository nobody sees yet, init's). */
  prepared?: JournalEntry;
  timestamp: Buffer;
  /** Called when every new object is durable, before the private records (timings). */
  onWritten?: () => void;
}

/**
 * The persist stage, in publish order: content (hash-named copies, plain names of new package
 * files), targets roles and snapshot (versioned names nobody references yet), durable; then the
 * new root (visible from here on to clients probing for it, TUF spec 5.3.3); the record of
 * withdrawn files and the journal; timestamp.json last, the commit point (storage.ts). A failure
 * before the commit undoes everything (the repository is as it was; found by
 * test/repo-faults-disk.test.ts: an add that ran out of space left files behind); a crash leaves
 * unreferenced objects to `gc`.
 */
export async function persistPublication(storage: Storage, head: Buffer | undefined, i: PersistInput): Promise<Publication> {
  const publication = await storage.begin(
    head,
    i.content.map((c) => c.targetPath),
    i.roles.length + 1,
  );
  let step = 'writing content';
  try {
    let written = 0;
    for (const c of i.content) {
      // Yielding now and then so the lock's refresh timer keeps running in a large batch.
      if (++written % 32 === 0) await yieldToLoop();
      const hashed = hashedPath(c.targetPath, c.sha256);
      step = `writing ${c.targetPath}`;
      await publication.putImmutable('targets', hashed, c.source);
      if (c.plainBeforePublish) await publication.putNewName(c.targetPath, hashed);
    }
    step = 'writing the new metadata versions';
    let n = 0;
    for (const [name, bytes] of i.roles) {
      if (++n % 256 === 0) await yieldToLoop(); // the lock's refresh timer
      await publication.putImmutable('metadata', name, { bytes });
    }
    if (i.snapshot) await publication.putImmutable('metadata', i.snapshot[0], { bytes: i.snapshot[1] });
    await publication.flush();
    // The new root, last before the timestamp: everything it vouches for is already durable.
    if (i.root) {
      await publication.putImmutable('metadata', i.root[0], { bytes: i.root[1] }, { createOnly: true });
      await publication.flush();
    }
    i.onWritten?.();
    // The record comes first, so no removal is ever published without it (storage/retired-files.ts).
    if (i.withdrawn.length > 0) {
      step = 'recording the withdrawn files';
      await publication.recordWithdrawn(i.withdrawn, i.time, i.command);
    }
    if (i.prepared) {
      step = 'appending to the journal';
      await publication.journal(i.prepared);
    }
    step = 'writing timestamp.json';
    await publication.commit(i.timestamp);
  } catch (err) {
    // Not when the lock was lost: the files and the journal may be another writer's by now.
    const lockLost = err instanceof TufpipError && err.code === 'LOCKED';
    if (!publication.committed && !lockLost) {
      await publication.abort();
      // A file-system error (ENOSPC, EFBIG, EIO...) says which step and that nothing changed.
      if (isFsError(err)) throw new TufpipError('IO', `${step}: ${(err as Error).message}; nothing was published, the repository is as it was`, { cause: err });
    }
    throw err;
  }
  return publication;
}

/** Post steps of a committed publication, in publish order (plain-named pages, removals). */
export async function runPostSteps(storage: Storage, steps: PostStep[]): Promise<void> {
  for (const s of steps) {
    if (s.op === 'copy') await storage.putMutable(s.to, s.from);
    else await storage.delete('targets', s.path);
  }
}

/**
 * After the commit: plain-named pages for plain pip and removals, in publish order, then the
 * journal closes the publication (a crash in between is finished by the next writer).
 */
export async function finishPublication(storage: Storage, publication: Publication, post: PostStep[], done: JournalEntry): Promise<void> {
  try {
    await runPostSteps(storage, post);
    // Closed by the commit already (storage.ts entryClosedByCommit): nothing to record.
    if (!publication.entryClosedByCommit) await storage.state.appendJournal(done);
  } catch (err) {
    if (!isFsError(err)) throw err;
    throw new TufpipError('IO', `timestamp ${done.timestampVersion} was published, but updating the plain-named pages failed (${(err as Error).message}): the next tufpip-repo command finishes it`, { cause: err });
  }
}

/**
 * Run by the next writer (under the lock) before anything else: finishes a publication that
 * committed but crashed before its post steps, or abandons one that never committed (its new
 * objects are unreferenced: `gc` removes them).
 */
export async function recoverPublication(storage: Storage, publishedTimestampVersion: number): Promise<'none' | 'finished' | 'abandoned'> {
  const last = await storage.state.lastJournalEntry();
  if (!last || last.state === 'done') return 'none';
  if (last.timestampVersion === publishedTimestampVersion) {
    await runPostSteps(storage, last.post ?? []);
    await storage.state.appendJournal({ ...last, state: 'done', post: undefined, time: new Date().toISOString() });
    return 'finished';
  }
  await storage.state.appendJournal({ ...last, state: 'done', post: undefined, time: new Date().toISOString(), command: 'abandoned' });
  return 'abandoned';
}
