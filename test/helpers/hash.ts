// SHA-256 for test assertions, computed here (node:crypto) rather than with the code under test,
// so that a check of a published hash is independent of the code that published it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** Hex SHA-256 of bytes. */
export function sha256(bytes: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Hex SHA-256 of a file's bytes. */
export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}
