// Pending offline-role proposals of a repository (issue 5): `DIR/pending/<role>.json`, outside
// site/ (never served), one per role. Written atomically; read back and checked with
// metadata/pending-file.ts. The files hold public data only (metadata, public keys, signatures).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { parsePendingFile, serializePending, type PendingFile } from '../../metadata/pending-file.js';
import { PROPOSABLE_ROLES, type ProposableRole } from '../../metadata/proposals.js';
import type { RepoLayout } from './layout.js';
import { writeFileAtomic } from '../../io/atomic-file.js';

export function pendingDir(layout: RepoLayout): string {
  return path.join(layout.dir, 'pending');
}

export function pendingFileOf(layout: RepoLayout, role: ProposableRole): string {
  return path.join(pendingDir(layout), `${role}.json`);
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
export async function loadPendingFiles(layout: RepoLayout): Promise<Map<ProposableRole, LoadedPending>> {
  const out = new Map<ProposableRole, LoadedPending>();
  for (const role of PROPOSABLE_ROLES) {
    const file = pendingFileOf(layout, role);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new TufpipError('IO', `cannot read ${file}`, { cause: err });
    }
    const pending = parsePendingFile(text, file);
    if (pending.pending.role !== role) throw new TufpipError('BAD_INPUT', `${file} holds a proposal for ${pending.pending.role}, not ${role}`);
    out.set(role, { file, pending });
  }
  return out;
}

/** Writes a pending file atomically (a reader sees the old or the new file, never a part). */
export async function persistPendingFile(file: string, p: PendingFile, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, serializePending(p), mode);
}
