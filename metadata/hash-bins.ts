// PEP 458 "Metadata Scalability" / TAP 15: a target's bin is the leftmost bit_length bits of
// sha256(target path), the same rule as @tufjs/models SuccinctRoles.getRoleForTarget.
import { createHash } from 'node:crypto';
import { binName } from './roles.js';

export function binIndexForPath(targetPath: string, binCount: number): number {
  const bitLength = Math.log2(binCount);
  const digest = createHash('sha256').update(targetPath).digest();
  return digest.readUInt32BE(0) >>> (32 - bitLength);
}

export function binForPath(targetPath: string, binCount: number): string {
  return binName(binIndexForPath(targetPath, binCount), binCount);
}
