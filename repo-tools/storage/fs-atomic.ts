// Atomic file writes: write a temporary file in the same directory, fsync, rename over the final
// name, fsync the directory (python-tuf `_persist_metadata`; DESIGN.md "Publishing rules").
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems do not support fsync on directories; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `file` atomically (readers see the old or the new file, never a part). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644, syncDir = true): Promise<void> {
  const tmp = tempNameFor(file);
  const fh = await fsp.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (syncDir) await fsyncDir(path.dirname(file));
}

/**
 * Writes a new immutable file (a versioned metadata file or a hash-named copy). If it already
 * exists with the same bytes (a re-run after a crash), nothing is done.
 */
export async function writeImmutable(file: string, data: string | Uint8Array): Promise<void> {
  try {
    const existing = await fsp.readFile(file);
    if (Buffer.compare(existing, Buffer.from(data)) === 0) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFileAtomic(file, data, 0o644, false);
}

/** Hard-links `src` to `dest` (same content, no copy), or copies atomically when linking fails. */
export async function linkOrCopy(src: string, dest: string): Promise<void> {
  try {
    await fsp.link(src, dest);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      await fsp.rm(dest, { force: true });
      return linkOrCopy(src, dest);
    }
  }
  const tmp = tempNameFor(dest);
  await fsp.copyFile(src, tmp);
  const fh = await fsp.open(tmp, 'r+');
  await fh.sync();
  await fh.close();
  await fsp.rename(tmp, dest);
}

export function existsSync(p: string): boolean {
  return fs.existsSync(p);
}
