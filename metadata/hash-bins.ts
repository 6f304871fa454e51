// PEP 458 "Metadata Scalability" / TAP 15: a target's bin is the leftmost bit_length bits of
// sha256(target path), the same rule as @tufjs/models SuccinctRoles.getRoleForTarget.
import { hash } from 'node:crypto';
import { binName, bitLengthFor } from './roles.js';

export function binIndexForPath(targetPath: string, binCount: number): number {
  const bitLength = bitLengthFor(binCount);
  // One-shot with hex output: ~4x less than a Buffer digest (which allocates a Buffer per path)
  // and ~7x less than createHash. The first 8 hex digits are the leftmost 32 bits.
  const digest = hash('sha256', targetPath, 'hex');
  return parseInt(digest.slice(0, 8), 16) >>> (32 - bitLength);
}

/** Bin names by index, for the last bin count asked (a bulk build looks one up per target). */
let names: { binCount: number; list: string[] } | undefined;

export function binForPath(targetPath: string, binCount: number): string {
  if (names?.binCount !== binCount) names = { binCount, list: Array.from({ length: binCount }, (_, i) => binName(i, binCount)) };
  return names.list[binIndexForPath(targetPath, binCount)];
}
