// Canonical JSON (the OLPC dialect the TUF spec uses for signing, "Document formats").
// `canonicalize` is canonical-fast.ts: byte for byte and error for error @tufjs/canonical-json's
// (the reference tuf-js verifies with), differential-tested in test/linear-models.test.ts, and
// ~2.8x faster; signing the 16,384 bins of a 1M-target build spent ~2.5 s in the reference.
// `canonicalMeta` is a fast path for the one shape that is large (snapshot `meta` with versions
// only, 16,385 entries): it must produce exactly the same bytes, and a test checks that it does.
import { fastCanonicalize } from './canonical-fast.js';

export const canonicalize: (value: unknown) => string = fastCanonicalize;

/** @tufjs/canonical-json's string rule: escape only backslash and double quote. */
export function canonicalString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Canonical JSON of `{name: {"version": v}}`, keys sorted as Array.prototype.sort does. */
export function canonicalVersionMeta(versions: Map<string, number>): string {
  const names = [...versions.keys()].sort();
  const parts = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) {
    parts[i] = `${canonicalString(names[i])}:{"version":${versions.get(names[i])}}`;
  }
  return '{' + parts.join(',') + '}';
}
