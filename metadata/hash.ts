// SHA-256 in lowercase hex, the form TUF metadata carries (TUF spec "hashes"; PEP 458 target
// hashes; PEP 503 `#sha256=` fragments). Pure: bytes in, digest out (files: io/hash.ts).
import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
