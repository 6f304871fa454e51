// The PEP 458 / PEP 480 profile: default expiries, bins, client limits. Configuration values
// are chosen at `init` and stored in the repository's config; these are the defaults.

import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP, isBinRole, isProjectRole } from './roles.js';

export const SPEC_VERSION = '1.0.31';

/** Role kinds whose expiry is configurable. `bin` stands for every bin-XXXX role. */
export const EXPIRY_KEYS = [ROOT, TARGETS, CLAIMED, RECENTLY_CLAIMED, BINS, 'bin', SNAPSHOT, TIMESTAMP, 'project'] as const;
export type ExpiryKey = (typeof EXPIRY_KEYS)[number];

/** PEP 458 "Metadata Expiry Times" (and DESIGN.md defaults), in days. */
export const defaultExpiryDays: Record<ExpiryKey, number> = {
  root: 365,
  targets: 365,
  claimed: 365,
  'recently-claimed': 7,
  bins: 365,
  bin: 7,
  snapshot: 7,
  timestamp: 1,
  project: 365,
};

export const DEFAULT_BINS = 256;
export const MIN_BINS = 2;
export const MAX_BINS = 16384;

/** `bump` warns and exits non-zero when an offline role expires within this window. */
export const OFFLINE_WARNING_DAYS = 30;

/** Limits tuf-js clients apply (tuf-js config.ts defaults). */
export const CLIENT_LIMITS = {
  root: 512000,
  timestamp: 16384,
  snapshot: 2000000,
  targets: 5000000,
} as const;

export function expiryKeyForRole(role: string): ExpiryKey {
  if (isBinRole(role)) return 'bin';
  if (isProjectRole(role)) return 'project';
  if ((EXPIRY_KEYS as readonly string[]).includes(role)) return role as ExpiryKey;
  throw new Error(`no expiry setting for role ${role}`);
}

export function verifyBinCount(n: number): void {
  if (!Number.isInteger(n) || n < MIN_BINS || n > MAX_BINS || (n & (n - 1)) !== 0) {
    throw new RangeError(`bins must be a power of two from ${MIN_BINS} to ${MAX_BINS}, got ${n}`);
  }
}

/** TUF spec "expires": ISO 8601 UTC without fractional seconds. */
export function expiresAt(now: Date, days: number): string {
  const t = new Date(now.getTime() + days * 86400_000);
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** True when less than half of the role's period is left (DESIGN.md: bump rule). */
export function isDue(expires: string, periodDays: number, now: Date): boolean {
  const left = Date.parse(expires) - now.getTime();
  return left < (periodDays * 86400_000) / 2;
}
