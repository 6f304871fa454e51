// SHA-256 and length of a file (the digest form of metadata/hash.ts): small files from one read,
// large ones streamed, so memory stays bounded whatever the size of a distribution.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { sha256Hex } from '../metadata/hash.js';

/** Files up to this size are hashed from one synchronous read (a stream costs ~0.4 ms a file). */
const READ_WHOLE_MAX = 8 * 1024 * 1024;

/** SHA-256 and length of a stream's bytes, read to the end (memory stays bounded). */
export async function sha256Stream(stream: AsyncIterable<Buffer | Uint8Array>): Promise<{ sha256: string; length: number }> {
  const h = createHash('sha256');
  let length = 0;
  for await (const chunk of stream) {
    h.update(chunk);
    length += chunk.length;
  }
  return { sha256: h.digest('hex'), length };
}

export async function sha256File(file: string): Promise<{ sha256: string; length: number }> {
  if (fs.statSync(file).size <= READ_WHOLE_MAX) {
    const bytes = fs.readFileSync(file);
    return { sha256: sha256Hex(bytes), length: bytes.length };
  }
  return sha256Stream(fs.createReadStream(file));
}
