// Reading and writing `pylock.toml` (PEP 751) with smol-toml; the document's shape and checks are
// metadata/pylock.ts. Written atomically (write-temp, fsync, rename): a lock is never half-written.
import fsp from 'node:fs/promises';
import { parse, stringify } from 'smol-toml';
import { TufpipError } from '../../metadata/errors.js';
import { parsePylock, pylockDocument, type Pylock } from '../../metadata/pylock.js';
import { writeFileAtomic } from '../../io/atomic-file.js';

export const DEFAULT_LOCK_FILE = 'pylock.toml';

/** Reads and checks a lock; a missing file is NOT_FOUND, anything malformed BAD_INPUT. */
export async function loadLock(file: string): Promise<Pylock> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read lock ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    // smol-toml's message quotes the offending lines: one line here, with the position (no cause, which would print them).
    const e = err as { message: string; line?: number; column?: number };
    const at = e.line !== undefined ? ` at line ${e.line}, column ${e.column}` : '';
    throw new TufpipError('BAD_INPUT', `malformed lock ${file}: not valid TOML${at}: ${e.message.split('\n')[0].replace(/^Invalid TOML document: /, '')}`);
  }
  return parsePylock(doc, file);
}

/** The TOML text of a lock. */
export function lockText(lock: Pylock): string {
  return stringify(pylockDocument(lock));
}

export async function writeLock(file: string, lock: Pylock): Promise<void> {
  await writeFileAtomic(file, lockText(lock));
}

