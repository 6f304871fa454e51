// Fast delegated-path matching for @tufjs/models 4.1.1 (the copy tuf-js 5.0.1 uses).
//
// Why: DelegatedRole#isDelegatedPath (role.js) matches a target against each `paths` pattern by
// splitting both on "/" and calling minimatch(part, patternPart) for every part, and minimatch
// compiles its pattern into a new Minimatch object on every call. A tuf-js lookup in a PEP 480
// project role that delegates 500 releases by their exact file paths (5,000 patterns) spent ~90%
// of its time there (bench/pep480-lookup.bench.ts).
//
// What it does instead, with the same result for every input (test/delegated-path-match.test.ts
// compares it with the original on a corpus of patterns and targets):
//   - a pattern part made only of characters minimatch gives no meaning to (see LITERAL) is
//     compared with ===, which is what minimatch does for such a part;
//   - any other part is compiled once into a Minimatch object from the same minimatch module
//     role.js uses, and cached; calling its match() is what the minimatch() function does after
//     its validity and comment checks, which are repeated here in the same order.
// Patterns that are not strings or are longer than minimatch accepts go to the original method,
// so its errors are unchanged. path_hash_prefixes delegations are not touched.
//
// Installed by installLinearModels() (tuf/linear-models.ts). Delete this file (and its call) once upstream caches or
// short-circuits literal patterns.
import { createRequire } from 'node:module';
import type { DelegatedRole as DelegatedRoleType } from '@tufjs/models/dist/role.js';

const require = createRequire(import.meta.url);
const roleModulePath = require.resolve('@tufjs/models/dist/role.js');
const { DelegatedRole } = require(roleModulePath) as typeof import('@tufjs/models/dist/role.js');
// The minimatch role.js itself resolves (not necessarily the one the project depends on).
const mm = createRequire(roleModulePath)('minimatch') as {
  Minimatch: new (pattern: string, options: object) => { match(f: string): boolean };
};

/** Upstream isDelegatedPath, before the patch. */
export const upstreamIsDelegatedPath = DelegatedRole.prototype.isDelegatedPath;

// Characters minimatch never treats specially: letters, digits, and . _ - = , ~ % : ; and
// space. "." and ".." alone are excluded (path-portion handling), as is a leading "#"
// (comment) and any of * ? [ ] { } ( ) ! @ + \ (globs, braces, extglobs, escapes).
const LITERAL = /^[A-Za-z0-9_\-=,~%:; ][A-Za-z0-9._\-=,~%:; ]*$/;
const MAX_PATTERN_LENGTH = 1024 * 64; // minimatch's assertValidPattern limit

type PartMatcher = string | ((targetPart: string) => boolean);
type PatternMatcher = PartMatcher[] | null; // null: let the original method decide

const compiled = new Map<string, PatternMatcher>();
const MAX_CACHED = 100_000;

function compile(pattern: unknown): PatternMatcher {
  if (typeof pattern !== 'string' || pattern.length > MAX_PATTERN_LENGTH) return null;
  let m = compiled.get(pattern);
  if (m !== undefined) return m;
  try {
    m = pattern.split('/').map((part): PartMatcher => {
      if (LITERAL.test(part)) return part;
      if (part.charAt(0) === '#') return () => false; // minimatch: comments match nothing
      const re = new mm.Minimatch(part, {});
      return (targetPart) => re.match(targetPart);
    });
  } catch {
    m = null; // whatever minimatch throws, the original method throws it, when it gets there
  }
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(pattern, m);
  return m;
}

function matches(targetParts: string[], m: PartMatcher[]): boolean {
  if (m.length !== targetParts.length) return false;
  for (let i = 0; i < m.length; i++) {
    const p = m[i];
    if (typeof p === 'string' ? p !== targetParts[i] : !p(targetParts[i])) return false;
  }
  return true;
}

function isDelegatedPath(this: DelegatedRoleType, targetFilepath: string): boolean {
  if (!this.paths) return upstreamIsDelegatedPath.call(this, targetFilepath);
  const matchers: PartMatcher[][] = [];
  for (const pattern of this.paths) {
    const m = compile(pattern);
    if (m === null) return upstreamIsDelegatedPath.call(this, targetFilepath);
    matchers.push(m);
  }
  const targetParts = targetFilepath.split('/');
  return matchers.some((m) => matches(targetParts, m));
}

let installed = false;

/** Replaces DelegatedRole#isDelegatedPath (see the header). Idempotent. */
export function installDelegatedPathMatch(): void {
  if (installed) return;
  DelegatedRole.prototype.isDelegatedPath = isDelegatedPath;
  installed = true;
}
