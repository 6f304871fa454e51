// The role graph of tufpip's PEP 458 / PEP 480 profile (DESIGN.md "Role graph and defaults"), the
// one place that says who delegates to whom and which roles a target path walks through:
//
//   root -> targets -> claimed           (PEP 480, offline key, not terminating, packages/*/*)
//                   -> recently-claimed  (PEP 480, online key, not terminating, packages/*/*)
//                   -> bins              (PEP 458, offline key, not terminating, every target)
//   claimed | recently-claimed -> project-<p>          (terminating, packages/<p>/*)
//   project-<p>                -> project-<p>--<v>     (terminating, the release's exact files)
//   bins                       -> bin-<hex>            (TAP 15 succinct delegation, online key)
//
// Pure: the one fact that depends on published state (which of claimed / recently-claimed
// delegates `project-<p>`) is passed in as a lookup.
import { binForPath } from './hash-bins.js';
import { BINS, CLAIMED, PROJECT_PREFIX, RECENTLY_CLAIMED, ROOT, TARGETS, isBinRole, isProjectRole, projectRole } from './roles.js';
import { ALL_TARGET_PATTERNS, PACKAGE_PATTERNS, projectPatterns } from './target-paths.js';

/** The roles that may delegate a developer-signed project role, in the order clients try them. */
export const PROJECT_DELEGATORS = [CLAIMED, RECENTLY_CLAIMED] as const;
export type ProjectDelegator = (typeof PROJECT_DELEGATORS)[number];

/**
 * Which of claimed / recently-claimed delegates a project role `project-<p>` in the published (or
 * about to be published) state; undefined when neither does.
 */
export type ProjectDelegatorLookup = (projectRoleName: string) => string | undefined;

/** A delegation `targets` makes (DESIGN.md): none terminating, so unclaimed projects fall through to bins. */
export interface TopDelegationShape {
  name: typeof CLAIMED | typeof RECENTLY_CLAIMED | typeof BINS;
  terminating: false;
  paths: readonly string[];
}

/** TUF spec 5.6.7.2 order: `targets` delegates to these, in this order. */
export const TOP_DELEGATIONS: readonly TopDelegationShape[] = [
  { name: CLAIMED, terminating: false, paths: PACKAGE_PATTERNS },
  { name: RECENTLY_CLAIMED, terminating: false, paths: PACKAGE_PATTERNS },
  { name: BINS, terminating: false, paths: ALL_TARGET_PATTERNS },
];

/** PEP 480: a project role's delegation (from claimed / recently-claimed) is terminating, for `packages/<p>/*`. */
export function projectDelegationShape(project: string): { terminating: true; paths: string[] } {
  return { terminating: true, paths: projectPatterns(project) };
}

/** PEP 480 in tufpip: a release role's delegation (from its project role) is terminating, for exactly its files. */
export function releaseDelegationShape(files: readonly string[]): { terminating: true; paths: string[] } {
  return { terminating: true, paths: [...files] };
}

/** The separator of a release role `project-<p>--<v>`; a PEP 503 name never contains `--`. */
export const RELEASE_SEPARATOR = '--';

/** The project role `project-<p>` a release role `project-<p>--<v>` belongs to, or undefined. */
export function releaseParent(role: string): string | undefined {
  if (!isProjectRole(role)) return undefined;
  const i = role.indexOf(RELEASE_SEPARATOR);
  return i > 0 ? role.slice(0, i) : undefined;
}

/** A PEP 480 per-release role `project-<p>--<v>`. */
export function isReleaseRole(role: string): boolean {
  return releaseParent(role) !== undefined;
}

/** The project role a developer-signed role belongs to: itself, or the parent of a release role. */
export function projectRoleOf(role: string): string {
  return releaseParent(role) ?? role;
}

/** The project name of `project-<p>` or `project-<p>--<v>`. */
export function projectNameOf(role: string): string {
  return projectRoleOf(role).slice(PROJECT_PREFIX.length);
}

/** A targets-type role of the graph a snapshot may list (anything else is outside it). */
export function isGraphRole(role: string): boolean {
  return role === TARGETS || role === CLAIMED || role === RECENTLY_CLAIMED || role === BINS || isBinRole(role) || isProjectRole(role);
}

/**
 * The role whose keys sign `role` (TUF spec 5.6.3): `root` for targets; `targets` for claimed,
 * recently-claimed and bins; `bins` for each bin; the project role for a release role; for a
 * project role, what `projectDelegator` says. Undefined when the graph does not know it.
 */
export function delegatorOf(role: string, projectDelegator?: ProjectDelegatorLookup): string | undefined {
  if (role === TARGETS) return ROOT;
  if (role === CLAIMED || role === RECENTLY_CLAIMED || role === BINS) return TARGETS;
  if (isBinRole(role)) return BINS;
  const parent = releaseParent(role);
  if (parent) return parent;
  if (isProjectRole(role)) return projectDelegator?.(role);
  return undefined;
}

/** The delegators of `role` from the top (targets first) down to `role` itself; root excluded. */
export function chainTo(role: string, projectDelegator?: ProjectDelegatorLookup): string[] {
  const chain: string[] = [];
  for (let r: string | undefined = role; r !== undefined && r !== ROOT; r = delegatorOf(r, projectDelegator)) chain.unshift(r);
  return chain;
}

/**
 * The lookup for a published state, given the role names each of claimed / recently-claimed
 * delegates to. A name both list (never written by tufpip) is claimed's: clients try it first.
 */
export function projectDelegatorIn(delegated: Partial<Record<ProjectDelegator, Iterable<string>>>): ProjectDelegatorLookup {
  const by = new Map<string, ProjectDelegator>();
  for (const d of [...PROJECT_DELEGATORS].reverse()) for (const name of delegated[d] ?? []) by.set(name, d);
  return (role) => by.get(role);
}

/**
 * The roles a client walks through to find `targetPath` (TUF spec 5.7.3, with the graph's
 * terminating delegations): `packages/<p>/<f>` of a developer-signed project goes targets ->
 * claimed | recently-claimed -> project-<p> [-> `release`]; every other target (other packages,
 * simple pages) goes targets -> bins -> its hash bin.
 */
export function rolesForTarget(targetPath: string, binCount: number, projectDelegator?: ProjectDelegatorLookup, release?: string): string[] {
  const m = /^packages\/([^/]+)\/[^/]+$/.exec(targetPath);
  if (m) {
    const p = projectRole(m[1]);
    const d = projectDelegator?.(p);
    if (d) return release ? [TARGETS, d, p, release] : [TARGETS, d, p];
  }
  return [TARGETS, BINS, binForPath(targetPath, binCount)];
}
