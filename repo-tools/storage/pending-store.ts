// Pending offline-role proposals of a repository: the private record `pending/<role>.json`
// (storage.ts PrivateState; local-disk: `DIR/pending/<role>.json`, outside site/, never served),
// one per role. Written atomically; read back and checked with metadata/pending-file.ts. They hold
// public data only (metadata, public keys, signatures). A copy signed elsewhere is a plain file.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { parsePendingFile, serializePending, type PendingFile } from '../../metadata/pending-file.js';
import { PROPOSABLE_ROLES, type ProposableRole } from '../../metadata/proposals.js';
import type { PrivateState } from './storage.js';
import { writeFileAtomic } from '../../io/atomic-file.js';

const recordOf = (role: ProposableRole) => `pending/${role}.json`;

/** Where the proposal for `role` lives (local-disk: the file a maintainer signs in place). */
export function pendingFileOf(state: PrivateState, role: ProposableRole): string {
  return state.whereRecord(recordOf(role));
}

export interface LoadedPending {
  file: string;
  pending: PendingFile;
}

/** Reads one pending file (anywhere: a copy on an air-gapped machine too). */
export async function loadPendingFile(file: string): Promise<PendingFile> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read pending file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  return parsePendingFile(text, file);
}

/** Every pending proposal of the repository, by role; a file for another role than its name is refused. */
export async function loadPendingFiles(state: PrivateState): Promise<Map<ProposableRole, LoadedPending>> {
  const out = new Map<ProposableRole, LoadedPending>();
  for (const role of PROPOSABLE_ROLES) {
    const file = pendingFileOf(state, role);
    let bytes: Buffer | undefined;
    try {
      bytes = await state.readRecord(recordOf(role));
    } catch (err) {
      throw new TufpipError('IO', `cannot read ${file}`, { cause: err });
    }
    if (bytes === undefined) continue;
    const pending = parsePendingFile(bytes.toString('utf8'), file);
    if (pending.pending.role !== role) throw new TufpipError('BAD_INPUT', `${file} holds a proposal for ${pending.pending.role}, not ${role}`);
    out.set(role, { file, pending });
  }
  return out;
}

/** Writes the repository's proposal for its role atomically (a reader sees the old or the new one). */
export async function savePending(state: PrivateState, p: PendingFile): Promise<void> {
  await state.writeRecord(recordOf(p.pending.role), Buffer.from(serializePending(p), 'utf8'));
}

/** Removes the repository's proposal for `role`; false when there was none. */
export function removePending(state: PrivateState, role: ProposableRole): Promise<boolean> {
  return state.deleteRecord(recordOf(role));
}

/** Writes a pending file (a copy anywhere, signed in place) atomically (a reader sees the old or the new file, never a part). */
export async function persistPendingFile(file: string, p: PendingFile, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, serializePending(p), mode);
}
