// PEP 480 developer-signed projects: the project role (`project-<p>`, signed by the project's
// maintainers to the threshold the index registered with `claim`) delegates to one small role per
// release (`project-<p>--<release>`), each listing exactly that release's files. Every metadata
// file stays small (PEP 480 "metadata scalability"; tuf-js clients parse a targets file in time
// quadratic in its entries), and a release's role can only vouch for the file names it lists.
import { buildTargets, type DelegationsJson, type TargetInfo, type TargetsSigned } from './builders.js';
import type { PublicKeyJson } from './keys.js';
import { expiresAt } from './profile.js';
import { projectRole } from './roles.js';
import { RELEASE_SEPARATOR, projectDelegationShape, releaseDelegationShape, releaseParent } from './role-graph.js';
import { isTransitionPath } from './key-transition.js';
import { packagePath } from './target-paths.js';

export const RELEASE_BUNDLE_FORMAT = 'tufpip-release/1';

/** Release role name: project role + `--` + the version, lower-cased, other characters as `_`. */
export function releaseRoleName(project: string, version: string): string {
  return `${projectRole(project)}${RELEASE_SEPARATOR}${version.toLowerCase().replace(/[^a-z0-9.]/g, '_')}`;
}

export function isReleaseRoleOf(role: string, project: string): boolean {
  return releaseParent(role) === projectRole(project);
}

/** The delegation a `claim` records in claimed / recently-claimed (DESIGN.md role graph). */
export function projectDelegation(project: string, keyids: string[], threshold: number) {
  return { name: projectRole(project), keyids: [...keyids].sort(), threshold, ...projectDelegationShape(project) };
}

/**
 * A project delegation left by `takedown`: one key, threshold 1, and that key is one of the
 * delegating role's own keys (`delegatorKeyids`, from the top-level targets): the operator's.
 */
export function isTakedownDelegation(d: { keyids: string[]; threshold: number }, delegatorKeyids: readonly string[]): boolean {
  return d.threshold === 1 && d.keyids.length === 1 && delegatorKeyids.includes(d.keyids[0]);
}

export interface ReleaseFile {
  filename: string;
  length: number;
  sha256: string;
}

export interface ReleasePlanInput {
  project: string;
  version: string;
  files: ReleaseFile[];
  /** Current project role and its release roles (absent for a first release). */
  current?: { project: TargetsSigned; releases: Map<string, TargetsSigned> };
  keys: Record<string, PublicKeyJson>;
  threshold: number;
  now: Date;
  expiresDays: number;
  /** Key transitions the project role lists as its own targets (metadata/key-transition.ts), by target path. */
  transitions?: Map<string, TargetInfo>;
}

export interface ReleasePlan {
  roles: Map<string, TargetsSigned>;
}

/**
 * Builds the next version of the project role and of the release role (the files of this version
 * already vouched for plus the new ones). When the maintainers' keys or threshold changed, every
 * release role is re-issued under the new keys, so old keys stop counting at once.
 */
export function planRelease(i: ReleasePlanInput): ReleasePlan {
  const keyids = Object.keys(i.keys).sort();
  const exp = expiresAt(i.now, i.expiresDays);
  const roles = new Map<string, TargetsSigned>();
  const cur = i.current;
  const prevRoles = cur?.project.delegations?.roles ?? [];
  const sameKeys = cur !== undefined && prevRoles.every((r) => r.threshold === i.threshold && [...r.keyids].sort().join() === keyids.join());
  const release = releaseRoleName(i.project, i.version);

  // The release role: previous files of this version, plus the new ones (same name must be same bytes).
  const prevRelease = cur?.releases.get(release);
  const targets: Record<string, TargetInfo> = { ...(prevRelease?.targets ?? {}) };
  for (const f of i.files) {
    const path = packagePath(i.project, f.filename);
    const existing = targets[path];
    if (existing && (existing.length !== f.length || existing.hashes.sha256 !== f.sha256)) {
      throw new Error(`${f.filename} is already in release ${i.version} with other content; file names are immutable`);
    }
    targets[path] = { length: f.length, hashes: { sha256: f.sha256 } };
  }
  roles.set(release, buildTargets((prevRelease?.version ?? 0) + 1, exp, targets));

  // Other releases: unchanged, unless the keys changed (then re-issued under the new keys).
  if (cur && !sameKeys) {
    for (const [name, signed] of cur.releases) {
      if (name !== release) roles.set(name, buildTargets(signed.version + 1, exp, signed.targets));
    }
  }
  const delegated = new Map(prevRoles.map((r) => [r.name, r.paths]));
  delegated.set(release, Object.keys(targets).sort());
  const delegations: DelegationsJson = {
    keys: i.keys,
    roles: [...delegated.keys()].sort().map((name) => ({ name, keyids, threshold: i.threshold, ...releaseDelegationShape(delegated.get(name)!) })),
  };
  // The project role's own targets: its key transitions, those published kept (a lock made before
  // them follows the whole chain), the given ones added; a transition is never rewritten.
  const own: Record<string, TargetInfo> = {};
  for (const [p, info] of Object.entries(cur?.project.targets ?? {})) if (isTransitionPath(p)) own[p] = info;
  for (const [p, info] of i.transitions ?? []) {
    const existing = own[p];
    if (existing && (existing.length !== info.length || existing.hashes.sha256 !== info.hashes.sha256)) throw new Error(`${p} is already published with other content; a key transition is never rewritten`);
    own[p] = info;
  }
  roles.set(projectRole(i.project), buildTargets((cur?.project.version ?? 0) + 1, exp, own, delegations));
  return { roles };
}
