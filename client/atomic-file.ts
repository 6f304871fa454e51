// Atomic file replacement for the client's metadata and downloads (STYLE.md "Verify before you
// write, write ... atomically"; python-tuf updater.py `_persist_metadata`): write a temporary file
// in the same directory, fsync it, rename it over the final name, fsync the directory. A reader (or
// a crash) sees the old file or the new one, never a torn one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temporary name next to `file` that no metadata or target name can take. */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tufpip-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Synchronous (tuf-js persists metadata synchronously): temp + fsync + rename + fsync dir.
 * `durable: false` skips the fsyncs (the rename stays atomic): for cached files whose loss or
 * tearing after a power cut only costs a download, because they are verified on every load.
 * `mode` applies from creation (0o600 for secrets: never readable by others, not even briefly).
 */
export function writeFileAtomicSync(file: string, data: Uint8Array | string, durable = true, mode = 0o644): void {
  const tmp = tempNameFor(file);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    try {
      fs.writeFileSync(fd, data);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) fsyncDirSync(path.dirname(file));
}

/**
 * Moves an already-written temporary file into place: fsync, rename, fsync dir. `durable: false`
 * skips the fsyncs (the rename stays atomic): for caches whose files are verified on every use.
 */
export async function commitTempFile(tmp: string, file: string, durable = true): Promise<void> {
  if (durable) {
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  await fsp.rename(tmp, file);
  if (durable) fsyncDirSync(path.dirname(file));
}
