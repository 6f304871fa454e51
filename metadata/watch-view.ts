// What a watcher knows about one verified snapshot of an index, reduced to the facts it reports on
// (docs/watch.md): per role, the watched files it lists and the keys it delegates to; per
// watched project, who signs it (claimed / recently-claimed maintainers or the index's online key)
// and its files with who vouched for each. Built from signed JSON that tuf/ already verified. Pure.
import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP, isBinRole, projectRole } from './roles.js';
import { PROJECT_DELEGATORS, projectDelegatorIn, projectNameOf, releaseParent } from './role-graph.js';
import { projectOfTargetPath } from './watch-patterns.js';

/** The keys a role is given and how many must sign (TUF spec "ROLE"). */
export interface KeySet {
  keyids: string[];
  threshold: number;
}

/** What one version of a targets-type role says that a watcher reports on. */
export interface RoleFacts {
  version: number;
  expires: string;
  /** Distribution files of watched projects it lists: target path -> sha256 and length. */
  files: Record<string, { sha256: string; length: number }>;
  /** Named delegations: role -> keys and threshold. */
  delegations: Record<string, KeySet>;
  /** TAP 15 succinct delegation (bins -> bin-XXXX). */
  succinct?: KeySet;
}

/** The targets-role JSON shape read here (TUF spec 4.5, `signed` of a targets-type role). */
export interface TargetsJson {
  version: number;
  expires: string;
  targets?: Record<string, { length: number; hashes: Record<string, string> }>;
  delegations?: {
    roles?: { name: string; keyids: string[]; threshold: number }[];
    succinct_roles?: { keyids: string[]; threshold: number };
  };
}

/** The root JSON shape read here (TUF spec 4.3). */
export interface RootJson {
  version: number;
  expires: string;
  roles: Record<string, { keyids: string[]; threshold: number }>;
}

export function keySet(r: { keyids: readonly string[]; threshold: number }): KeySet {
  return { keyids: [...r.keyids].sort(), threshold: r.threshold };
}

/** The facts of one targets-type role; `watched` says which projects' files to keep. */
export function roleFacts(signed: TargetsJson, watched: (project: string) => boolean): RoleFacts {
  const files: RoleFacts['files'] = {};
  for (const [p, t] of Object.entries(signed.targets ?? {})) {
    const project = projectOfTargetPath(p);
    if (project !== undefined && watched(project)) files[p] = { sha256: t.hashes.sha256 ?? '', length: t.length };
  }
  const delegations: RoleFacts['delegations'] = {};
  for (const d of signed.delegations?.roles ?? []) delegations[d.name] = keySet(d);
  const s = signed.delegations?.succinct_roles;
  return { version: signed.version, expires: signed.expires, files, delegations, ...(s ? { succinct: keySet(s) } : {}) };
}

/** Who vouched for a file: the maintainers' keys (developer) or the index's online key (index). */
export interface WatchVouch {
  kind: 'developer' | 'index';
  role: string;
  keyids: string[];
  threshold: number;
}

export interface WatchedFile {
  sha256: string;
  length: number;
  vouch: WatchVouch;
}

/** PEP 480 / PEP 458: who signs a project's files. */
export type Signing = typeof CLAIMED | typeof RECENTLY_CLAIMED | 'index-signed';

export interface ProjectView {
  signing: Signing;
  /** The project role's keys (developer-signed projects). */
  keys?: KeySet;
  files: Record<string, WatchedFile>;
  /**
   * PEP 480 signature gap: files of a developer-signed project that a hash bin lists (signed by the
   * index's online key only). Clients refuse them; a watcher reports them as alarms.
   */
  unsigned?: Record<string, WatchedFile>;
}

/** The watcher's view of one verified snapshot. */
export interface WatchView {
  snapshotVersion: number;
  root: { version: number; expires: string; roles: Record<string, KeySet> };
  /** Keys of the online roles: timestamp, snapshot (root), recently-claimed (targets), bin-* (bins). */
  onlineKeys: string[];
  /** Offline roles and their expiry (root, targets, claimed, bins). */
  offlineExpiry: Record<string, { version: number; expires: string }>;
  projects: Record<string, ProjectView>;
}

/**
 * The view of a snapshot from the verified root and the facts of every role the snapshot lists
 * (PEP 480: a project delegated by claimed / recently-claimed is developer-signed, its
 * terminating delegation hides any bin entry of it from clients, so only its own roles count).
 */
export function assembleView(snapshotVersion: number, root: RootJson, roles: Readonly<Record<string, RoleFacts>>, watched: (project: string) => boolean): WatchView {
  const rootRoles: Record<string, KeySet> = {};
  for (const name of [ROOT, TARGETS, SNAPSHOT, TIMESTAMP]) if (root.roles[name]) rootRoles[name] = keySet(root.roles[name]);
  const top = roles[TARGETS];
  const online = new Set<string>([...(rootRoles[TIMESTAMP]?.keyids ?? []), ...(rootRoles[SNAPSHOT]?.keyids ?? [])]);
  for (const k of top?.delegations[RECENTLY_CLAIMED]?.keyids ?? []) online.add(k);
  for (const k of roles[BINS]?.succinct?.keyids ?? []) online.add(k);

  const offlineExpiry: WatchView['offlineExpiry'] = { [ROOT]: { version: root.version, expires: root.expires } };
  for (const name of [TARGETS, CLAIMED, BINS]) if (roles[name]) offlineExpiry[name] = { version: roles[name].version, expires: roles[name].expires };

  const delegatedBy = projectDelegatorIn({
    [CLAIMED]: top?.delegations[CLAIMED] ? Object.keys(roles[CLAIMED]?.delegations ?? {}) : [],
    [RECENTLY_CLAIMED]: top?.delegations[RECENTLY_CLAIMED] ? Object.keys(roles[RECENTLY_CLAIMED]?.delegations ?? {}) : [],
  });
  const projects: Record<string, ProjectView> = {};
  for (const delegator of PROJECT_DELEGATORS) {
    for (const [role, keys] of Object.entries(roles[delegator]?.delegations ?? {})) {
      const project = projectNameOf(role);
      if (delegatedBy(role) !== delegator || !watched(project)) continue;
      const view: ProjectView = { signing: delegator, keys, files: {} };
      const own = roles[role];
      for (const [p, f] of Object.entries(own?.files ?? {})) view.files[p] = { ...f, vouch: { kind: 'developer', role, ...keys } };
      for (const [release, rkeys] of Object.entries(own?.delegations ?? {})) {
        if (releaseParent(release) !== role) continue;
        for (const [p, f] of Object.entries(roles[release]?.files ?? {})) view.files[p] = { ...f, vouch: { kind: 'developer', role: release, ...rkeys } };
      }
      projects[project] = view;
    }
  }
  const binKeys = roles[BINS]?.succinct ?? { keyids: [], threshold: 0 };
  for (const [role, facts] of Object.entries(roles)) {
    if (!isBinRole(role)) continue;
    for (const [p, f] of Object.entries(facts.files)) {
      const project = projectOfTargetPath(p)!;
      const file = { ...f, vouch: { kind: 'index' as const, role, ...binKeys } };
      if (delegatedBy(projectRole(project))) {
        // Developer-signed: clients never reach a bin entry (terminating delegation), but the index listed it.
        if (projects[project]) (projects[project].unsigned ??= {})[p] = file;
        continue;
      }
      projects[project] ??= { signing: 'index-signed', files: {} };
      projects[project].files[p] = file;
    }
  }
  return { snapshotVersion, root: { version: root.version, expires: root.expires, roles: rootRoles }, onlineKeys: [...online].sort(), offlineExpiry, projects };
}
