// A failure to write into one of tufpip's own scratch folders (the verifying proxy's private
// cache): a local problem, not a refusal of the index. A tmp cleaner, the user or a full disk
// must give one clear line with the I/O exit code, never "the index metadata could not be
// verified" nor a stack trace (errors.ts `IO`, exit 1).
import fs from 'node:fs';
import { TufpipError } from '../../metadata/errors.js';

/** errno codes of a failed local file operation (fs errors carry `syscall` and `path`). */
const LOCAL_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/**
 * The IO error an error stands for when it (or an error in its `cause` chain) is a failed file
 * operation while `scratch` was in use; undefined for anything else (a refusal, the network).
 */
export function scratchWriteError(err: unknown, scratch: string): TufpipError | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    const { code, syscall } = e as { code?: unknown; syscall?: unknown };
    if (typeof code === 'string' && LOCAL_CODES.has(code) && typeof syscall === 'string' && !/^(connect|getaddrinfo|read|write)$/.test(syscall)) {
      if (!fs.existsSync(scratch)) return new TufpipError('IO', `tufpip's scratch folder ${scratch} was removed while in use`, { cause: e });
      return new TufpipError('IO', `cannot write to tufpip's scratch folder ${scratch} (${code}, ${syscall})`, { cause: e });
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
