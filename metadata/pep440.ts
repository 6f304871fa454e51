// PEP 440 versions as the index compares them: one canonical spelling per version, so `1.0`,
// `1.0.0`, `v1.0`, `1.0-post1` / `1.0.post1`, `1.0RC1` / `1.0rc1` are recognised as the same
// version (PEP 440 "Normalization"; "Version matching": release segments are zero-padded before
// comparison). Parsing is @renovatebot/pep440's; this module only decides equality.
import pep440 from '@renovatebot/pep440';

/** A parsed version: the public part canonicalised, and the local label (PEP 440 "Local version identifiers"). */
export interface CanonicalVersion {
  /** Epoch, release without trailing zeros, pre / post / dev: `1!2.1rc1.post2.dev3`. */
  public: string;
  /** Local label lower-cased, `-`/`_` as `.`, numeric segments without leading zeros; '' if none. */
  local: string;
}

/** The canonical form of a PEP 440 version, or undefined when it is not one. */
export function canonicalVersion(version: string): CanonicalVersion | undefined {
  const v = pep440.explain(version.trim());
  if (!v) return undefined;
  // PEP 440 "Version matching": 1.0 == 1.0.0 (the shorter release is padded with zeros).
  const release = [...v.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  let pub = `${v.epoch ? `${v.epoch}!` : ''}${release.join('.')}`;
  if (v.pre) pub += `${v.pre[0]}${v.pre[1]}`;
  if (v.post !== null && v.post !== undefined) pub += `.post${String(v.post)}`;
  if (v.dev !== null && v.dev !== undefined) pub += `.dev${String(v.dev)}`;
  const local = (v.local ?? '')
    .toLowerCase()
    .split(/[._-]/)
    .filter((s) => s !== '')
    .map((s) => (/^\d+$/.test(s) ? String(Number(s)) : s))
    .join('.');
  return { public: pub, local };
}

/** One string per version, equal exactly when PEP 440 says the versions are equal. */
export function versionKey(version: string): string {
  const c = canonicalVersion(version);
  // Not PEP 440 (a legacy version): compared as spelled, ignoring case.
  if (!c) return `legacy:${version.toLowerCase()}`;
  return c.local ? `${c.public}+${c.local}` : c.public;
}

/** PEP 440 equality (`1.0` == `1.0.0`, local labels included). */
export function sameVersion(a: string, b: string): boolean {
  return versionKey(a) === versionKey(b);
}

/**
 * Whether `candidate` satisfies `==spec` (PEP 440 "Version matching"): zero-padded release
 * comparison, and a candidate's local label is ignored when the specifier has none (so `==1.0`
 * also matches `1.0+ubuntu1`).
 */
export function matchesExactly(candidate: string, spec: string): boolean {
  const c = canonicalVersion(candidate);
  const s = canonicalVersion(spec);
  if (!c || !s) return versionKey(candidate) === versionKey(spec);
  if (c.public !== s.public) return false;
  return s.local === '' || s.local === c.local;
}

/** True if the string is a valid PEP 440 version. */
export function isPep440(version: string): boolean {
  return canonicalVersion(version) !== undefined;
}
