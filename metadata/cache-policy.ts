// HTTP caching of the public area (a CDN, a browser, pip's HTTP cache): one class per object,
// decided by its name alone, so every backend and `tufpip-repo serve` send the same
// Cache-Control for the same object (repo-tools/storage/storage.ts "Caching").
// - immutable: consistent-snapshot names (TUF spec 5.7.3: `<sha256>.<file>` targets and pages;
//   `N.<role>.json` metadata, spec 5.3.3 / 5.6.3): their bytes never change, cache them for a year.
// - head: `timestamp.json`, the only metadata a client fetches without knowing its version (spec
//   5.4): a cache may serve an old one for `headMaxAge` seconds. Invariant: headMaxAge stays well
//   below the bump slack (`bump` re-signs a role when less than half its period is left: 12 h of
//   the 1-day timestamp), so a cached timestamp is never expired when a client gets it; it also
//   bounds how long a new release stays invisible behind a cache.
// - mutable: plain names (pages and package files for plain pip, replaced or removed after a
//   publication): `mutableMaxAge` seconds.
// Everything else a server answers (404, errors) is `no-store`: a client probing for the next
// root version (spec 5.3.3) must see it as soon as it is published.

export type CacheClass = 'immutable' | 'head' | 'mutable';

export interface CachePolicy {
  /** Seconds a cache may serve timestamp.json. */
  headMaxAge: number;
  /** Seconds a cache may serve a plain-named page or file. */
  mutableMaxAge: number;
}

export const DEFAULT_CACHE_POLICY: CachePolicy = { headMaxAge: 60, mutableMaxAge: 60 };

/** One year: the longest max-age caches honour (RFC 9111 practice). */
const IMMUTABLE_MAX_AGE = 31536000;
const VERSIONED_METADATA = /^\d+\.[^/]+\.json$/;
const HASH_NAMED = /(^|\/)[0-9a-f]{64}\.[^/]+$/;

/** The class of an object of the public area (`metadata`: N.role.json, timestamp.json; `targets`: target paths). */
export function cacheClassOf(area: 'metadata' | 'targets', name: string): CacheClass {
  if (area === 'metadata') return name === 'timestamp.json' ? 'head' : VERSIONED_METADATA.test(name) ? 'immutable' : 'mutable';
  return HASH_NAMED.test(name) ? 'immutable' : 'mutable';
}

/** The Cache-Control header value for a class. */
export function cacheControl(cls: CacheClass, policy: CachePolicy = DEFAULT_CACHE_POLICY): string {
  switch (cls) {
    case 'immutable':
      return `public, max-age=${IMMUTABLE_MAX_AGE}, immutable`;
    case 'head':
      return `public, max-age=${policy.headMaxAge}`;
    case 'mutable':
      return `public, max-age=${policy.mutableMaxAge}`;
  }
}

/** Cache-Control for what is not an object (404, errors, redirects of folders). */
export const NO_STORE = 'no-store';
