// Atomic file writes, for both sides (DESIGN.md "Publishing rules"; STYLE.md "Verify before you
// write, write ... atomically"; python-tuf updater.py `_persist_metadata`): write a temporary file
// in the same directory, fsync it, rename it over the final name, fsync the directory. A reader (or
// a crash) sees the old file or the new one, never a torn one.
//
// Temporary files are named `.<name>.<pid>.<random>.tmp` (tempNameFor): `tufpip-repo gc` reads the
// pid back to remove those of dead processes, and no metadata or target name takes that form.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';

/** fsync(2) errors meaning "this file system cannot fsync a directory" (the rename stays atomic). */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP']);

/** fsync(2) of a directory: its entries (a rename, a new name) become durable. */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    if (!DIR_FSYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * fsyncDirSync behind a promise. Synchronous inside: a transaction makes a handful of these calls,
 * and each thread-pool round trip of the async API cost more than the call itself.
 */
export async function fsyncDir(dir: string): Promise<void> {
  fsyncDirSync(dir);
}

/** A temporary name next to `file` (see the header). */
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

/**
 * Hard-links `src` to `dest` (same content, no copy), or copies when linking fails. An existing
 * `dest` is replaced atomically: a link (or copy) under a temporary name is renamed over it, so a
 * reader sees the old file or the new one, never no file. (It was removed, then linked: plain pip
 * reading simple/<p>/index.html during a publication got a 404; found by
 * test/repo-faults-concurrency.test.ts.) A failed copy (ENOSPC) leaves no temporary file
 * behind (found by test/repo-faults-disk.test.ts).
 */
export async function linkOrCopy(src: string, dest: string): Promise<void> {
  // Links are synchronous (one short system call each); a copy, which may be long, is not.
  try {
    fs.linkSync(src, dest);
    return;
  } catch {
    // EEXIST: replaced below through a temporary name; EXDEV, EPERM...: copied below.
  }
  const tmp = tempNameFor(dest);
  try {
    let linked = false;
    try {
      fs.linkSync(src, tmp);
      linked = true;
    } catch {
      // copied below
    }
    if (!linked) {
      await fsp.copyFile(src, tmp);
      const fh = await fsp.open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    fs.renameSync(tmp, dest);
  } finally {
    // Gone after a rename; still there after a failure, or when dest already was this very file
    // (rename(2) of two links to one inode does nothing).
    fs.rmSync(tmp, { force: true });
  }
}

export function existsSync(p: string): boolean {
  return fs.existsSync(p);
}

/**
 * Synchronous writeFileAtomic (tuf-js persists metadata synchronously; a transaction writing
 * thousands of bins pays one thread-pool round trip per async call otherwise).
 * `durable: false` skips the fsyncs (the rename stays atomic): for files whose loss after a power
 * cut only costs a download or a recomputation, because they are verified or rebuilt on use.
 * `mode` applies from creation (0o600 for secrets: never readable by others, not even briefly).
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, durable = true, mode = 0o644): void {
  writeTempAndRenameSync(file, data, mode, durable);
  if (durable) fsyncDirSync(path.dirname(file));
}

/**
 * Replaces `file` (temp, fsync, rename) without syncing its directory: for a caller that must
 * know the rename happened before it syncs the directory itself (a commit point: from the rename
 * on, readers may see the new file, so nothing may be rolled back even if the directory sync fails).
 */
export function replaceFileSync(file: string, data: string | Uint8Array, mode = 0o644): void {
  writeTempAndRenameSync(file, data, mode, true);
}

/** temp + (fsync) + rename; the directory is not synced (the caller syncs it, or a batch does). */
function writeTempAndRenameSync(file: string, data: string | Uint8Array, mode: number, fsync: boolean): void {
  const tmp = tempNameFor(file);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    try {
      fs.writeFileSync(fd, data);
      if (fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Synchronous writeImmutable: skips a file that already holds exactly these bytes. */
export function writeImmutableSync(file: string, data: Uint8Array, fsync = true): void {
  try {
    const st = fs.statSync(file);
    if (st.size === data.length && Buffer.compare(fs.readFileSync(file), data) === 0) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeTempAndRenameSync(file, data, 0o644, fsync);
}

/**
 * A batch of new, not-yet-referenced files (thousands of bins): written without a per-file
 * fsync, then made durable at once with syncfs(2) via `sync -f` (coreutils) before anything
 * references them. Falls back to an fsync per file where `sync -f` is unavailable.
 */
export class DurableBatch {
  private files: string[] = [];
  private readonly perFile: boolean;
  constructor(expected: number) {
    this.perFile = expected < 64;
  }
  writeImmutable(file: string, data: Uint8Array): void {
    writeImmutableSync(file, data, this.perFile);
    if (!this.perFile) this.files.push(file);
  }
  /**
   * Resolves when every file written is on stable storage. Asynchronous: flushing hundreds of
   * megabytes can take seconds, and the repository lock must keep being refreshed meanwhile.
   */
  async flush(): Promise<void> {
    if (this.files.length === 0) return;
    const dirs = [...new Set(this.files.map((f) => path.dirname(f)))];
    const status = await new Promise<number | null>((resolve) => {
      const child = spawn('sync', ['-f', ...dirs], { stdio: 'ignore' });
      child.once('error', () => resolve(null));
      child.once('exit', (code) => resolve(code));
    });
    if (status !== 0) {
      for (const f of this.files) {
        const fd = fs.openSync(f, 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      }
    }
    this.files = [];
  }
}

/**
 * Moves an already-written temporary file (named by tempNameFor) into place: fsync, rename, fsync
 * the directory. `durable: false` skips the fsyncs (the rename stays atomic).
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

/**
 * Moves `from` to `to` atomically: a rename, or across file systems (EXDEV) a copy under a
 * temporary name next to `to` renamed into place (removed if the copy fails). Not fsynced: for
 * files verified again on use.
 */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const tmp = tempNameFor(to);
  try {
    await fsp.copyFile(from, tmp);
    await fsp.rename(tmp, to);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
