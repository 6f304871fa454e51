// `tufpip-repo verify`: checks a published repository the way a client does. tuf-js's Updater,
// given only root version 1 (or --root), follows the root chain, verifies timestamp, snapshot and
// every targets role, and resolves every target through the delegation graph; then every file
// (hash-named copy and plain name) is checked against its metadata.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Updater, type TargetFile, type BaseFetcher } from '../../tuf/updater.js';
import { describeTufError } from '../../tuf/error-classifier.js';
import { TufpipError } from '../../metadata/errors.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { BINS, TARGETS, TOP_LEVEL_ROLES, isBinRole, isProjectRole, versionedFileName } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS, isGraphRole, isReleaseRole, projectNameOf, releaseParent } from '../../metadata/role-graph.js';
import { hashedPath, projectOfTarget } from '../../metadata/target-paths.js';
import { StreamFetcher } from '../../tuf/stream-fetcher.js';
import { internals } from '../../tuf/updater-hardening.js';
import type { Envelope, TargetsSigned } from '../../metadata/builders.js';
import type { PublicKeyJson } from '../../metadata/keys.js';
import { RepoLayout } from '../storage/layout.js';
import { validSigners } from './release.js';
import { openStorage } from '../storage/open-storage.js';
import type { Area, StorageReader } from '../storage/storage.js';
import { findPrivateInPublicArea } from '../storage/secrets-guard.js';

export interface VerifyProblem {
  kind: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  rootVersion: number;
  timestampVersion: number;
  snapshotVersion: number;
  roles: number;
  targets: number;
  filesChecked: number;
  problems: VerifyProblem[];
  warnings: VerifyProblem[];
}

export interface VerifyOptions {
  /** Trusted root file to start from (default: the repository's 1.root.json). */
  root?: string;
  onProgress?: (done: number, total: number, phase?: string) => void;
  /** A published metadata file's bytes (`N.ROLE.json`), to explain a project role that does not verify. */
  roleBytes?: (role: string, version: number) => Promise<Buffer | undefined>;
}

/** Checks one target's files; returns problems as strings (the file checker of a verify run). */
export type FileChecker = (targetPath: string, info: TargetFile) => Promise<string[]>;

/**
 * The shared verification walk: refresh, load every targets role in the snapshot through its
 * delegator, resolve every listed target through the delegation graph, check its files.
 */
export async function verifyWithUpdater(updater: Updater, checkFiles: FileChecker, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  const report: VerifyReport = { ok: false, rootVersion: 0, timestampVersion: 0, snapshotVersion: 0, roles: 0, targets: 0, filesChecked: 0, problems, warnings };
  try {
    await updater.refresh();
  } catch (err) {
    problems.push({ kind: 'metadata', message: `refresh failed: ${describeTufError(err)}` });
    return report;
  }
  const ui = internals(updater);
  const ts = ui.trustedSet;
  report.rootVersion = ts.root.signed.version;
  report.timestampVersion = ts.timestamp!.signed.version;
  report.snapshotVersion = ts.snapshot!.signed.version;

  const meta = ts.snapshot!.signed.meta;
  const roleNames = Object.keys(meta).map((f) => f.replace(/\.json$/, ''));
  // Roles outside the role graph: clients ignore them, tufpip-repo refuses to build on them.
  const extraTop = Object.keys(ts.root.signed.roles).filter((r) => !(TOP_LEVEL_ROLES as readonly string[]).includes(r));
  if (extraTop.length) problems.push({ kind: 'metadata', message: `root names unknown top-level roles: ${extraTop.join(', ')}` });
  for (const r of roleNames) {
    if (!isGraphRole(r)) problems.push({ kind: 'metadata', message: `snapshot lists a role outside the role graph: ${r}` });
  }
  const listed = new Map<string, string>(); // target path -> first role listing it
  const load = async (role: string, parent: string, excuse?: () => Promise<string | undefined>) => {
    try {
      const md = await ui.loadTargets(role, parent);
      for (const p of Object.keys(md?.signed.targets ?? {})) if (!listed.has(p)) listed.set(p, role);
      return md;
    } catch (err) {
      const why = await excuse?.();
      if (why) warnings.push({ kind: 'unsigned', message: why });
      else problems.push({ kind: 'metadata', message: `role ${role}: ${describeTufError(err)}` });
      return undefined;
    }
  };
  // A project taken down (its role emptied and signed with the delegator's own key) and claimed
  // again with new keys: until its maintainers publish a release signed with them, the project
  // role does not verify. Expected, and only that exact state: an empty role validly signed by
  // the key of the role that delegates it (claimed / recently-claimed in the top-level targets).
  const awaitingRelease = new Set<string>();
  const reclaimedAfterTakedown = async (role: string, parent: string): Promise<string | undefined> => {
    const v = meta[`${role}.json`]?.version;
    const bytes = v === undefined ? undefined : await opts.roleBytes?.(role, v);
    const top = ts.targets?.signed.delegations;
    if (!bytes || !top) return undefined;
    const keys: Record<string, PublicKeyJson> = {};
    for (const id of top.roles?.[parent]?.keyIDs ?? []) if (top.keys[id]) keys[id] = top.keys[id].toJSON() as unknown as PublicKeyJson;
    try {
      const env = parseEnvelope<TargetsSigned>(bytes, versionedFileName(role, v!));
      if (Object.keys(env.signed.targets).length || env.signed.delegations || validSigners(env, keys).length === 0) return undefined;
    } catch {
      return undefined;
    }
    awaitingRelease.add(role);
    return `project ${projectNameOf(role)} was taken down and claimed again: ${role} is still the takedown's (signed by ${parent}'s key), not yet a release signed with the new keys (release sign --fresh, add --signed); TUF clients refuse its files until then`;
  };
  await load(TARGETS, 'root');
  const projectParents = new Map<string, string>();
  for (const r of PROJECT_DELEGATORS) {
    const md = await load(r, TARGETS);
    for (const name of Object.keys(md?.signed.delegations?.roles ?? {})) projectParents.set(name, r);
  }
  await load(BINS, TARGETS);
  let n = 0;
  const releaseRoles: string[] = [];
  for (const role of roleNames) {
    if (isBinRole(role)) await load(role, BINS);
    else if (isReleaseRole(role)) releaseRoles.push(role);
    else if (isProjectRole(role)) {
      const parent = projectParents.get(role);
      if (!parent) warnings.push({ kind: 'metadata', message: `role ${role} is in the snapshot but no longer delegated` });
      else await load(role, parent, () => reclaimedAfterTakedown(role, parent));
    }
    opts.onProgress?.(++n, roleNames.length, 'roles');
  }
  // PEP 480 release roles, after the project roles that delegate to them.
  // A release its project role no longer delegates to (the project was started over after a
  // takedown) stays in the snapshot (TUF spec 5.5.5): no client loads it.
  for (const role of releaseRoles) {
    const parent = releaseParent(role)!;
    const parentMd = ts.getRole(parent);
    if (!parentMd) continue;
    if (parentMd.signed.delegations?.roles?.[role]) await load(role, parent);
    else warnings.push({ kind: 'metadata', message: `role ${role} is in the snapshot but ${parent} no longer delegates to it` });
  }
  // A claimed project with no signed release yet: its files are not served to TUF clients.
  for (const [name] of projectParents) {
    if (!meta[`${name}.json`]) warnings.push({ kind: 'unsigned', message: `project ${projectNameOf(name)} is developer-signed but has no signed release yet: its files are not served to TUF clients` });
  }
  report.roles = roleNames.length;

  n = 0;
  for (const [p, role] of listed) {
    opts.onProgress?.(++n, listed.size, 'targets');
    let info: TargetFile | undefined;
    try {
      info = await updater.getTargetInfo(p);
    } catch (err) {
      const project = projectOfTarget(p);
      if (project && p.startsWith('packages/') && awaitingRelease.has(`project-${project}`)) {
        warnings.push({ kind: 'unsigned', message: `${p} is listed by ${role} but project ${project} awaits a release signed with its new keys` });
      } else if (project && p.startsWith('packages/') && projectParents.has(`project-${project}`) && !meta[`project-${project}.json`]) {
        warnings.push({ kind: 'unsigned', message: `${p} is listed by ${role} but project ${project} is developer-signed with no signed release yet` });
      } else problems.push({ kind: 'metadata', message: `${p}: ${describeTufError(err)}` });
      continue;
    }
    if (!info) {
      const project = projectOfTarget(p);
      const msg = `${p} is listed by ${role} but no client can reach it`;
      if (project && isBinRole(role) && p.startsWith('packages/')) {
        warnings.push({ kind: 'unsigned', message: `${msg}: project ${project} is developer-signed and its maintainers have not signed this file` });
      } else problems.push({ kind: 'metadata', message: msg });
      continue;
    }
    report.targets++;
    for (const msg of await checkFiles(p, info)) problems.push({ kind: 'file', message: msg });
    report.filesChecked++;
  }
  report.ok = problems.length === 0;
  return report;
}

async function verifyObject(info: TargetFile, storage: StorageReader, name: string): Promise<string | undefined> {
  const stream = await storage.stream('targets', name).catch(() => undefined);
  if (!stream) return 'missing';
  try {
    await info.verify(stream);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    stream.destroy();
  }
}

// tuf-js's Updater reads through the storage reader under these bases: `<base>metadata/NAME` and
// `<base>targets/NAME` name the object NAME of that area (storage.ts).
const STORE_BASE = 'tufpip-store:/';

/** The object a URL under STORE_BASE names (tuf-js percent-encodes role names), or undefined. */
function objectOfUrl(url: string): { area: Area; name: string } | undefined {
  const m = /^tufpip-store:\/(metadata|targets)\/(.+)$/.exec(url);
  if (!m) return undefined;
  try {
    return { area: m[1] as Area, name: m[2].split('/').map(decodeURIComponent).join('/') };
  } catch {
    return undefined;
  }
}

/** What a served-tree path of an object is (`metadata/NAME` or the target path). */
const servedPath = (o: { area: Area; name: string }) => (o.area === 'metadata' ? `metadata/${o.name}` : o.name);

export async function verifyRepo(repoDir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const layout = new RepoLayout(repoDir);
  const config = await layout.loadConfig();
  // Everything published is read through the storage seam, whatever the backend.
  const storage = await openStorage(layout, undefined, config);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-verify-'));
  let fetcher: StreamFetcher | undefined;
  try {
    const rootName = versionedFileName('root', 1);
    // The trust anchor: --root, else for a repository in an object store the copy of root v1 that
    // init kept in the local folder (not the bucket's own), else the repository's root v1.
    const keptRoot = config.storage ? path.join(layout.dir, rootName) : undefined;
    const anchor = opts.root ?? keptRoot;
    const rootBytes = anchor ? await fsp.readFile(anchor) : await storage.read('metadata', rootName);
    const rootFile = anchor ?? storage.where('metadata', rootName);
    if (!rootBytes) throw new TufpipError('VERIFY_FAILED', `no trusted root: ${rootFile} is missing`);
    await fsp.writeFile(path.join(tmp, 'root.json'), rootBytes);
    fetcher = new StreamFetcher(async (url) => {
      const o = objectOfUrl(url);
      return o && storage.stream(o.area, o.name);
    });
    let updater: Updater;
    try {
      updater = new Updater({
        metadataDir: tmp,
        metadataBaseUrl: `${STORE_BASE}metadata/`,
        targetBaseUrl: `${STORE_BASE}targets/`,
        fetcher: fetcher as BaseFetcher,
      });
    } catch (err) {
      // The trusted root itself does not load: name the file (found by test/repo-faults-bad-input.test.ts).
      throw new TufpipError('VERIFY_FAILED', `trusted root ${rootFile} is not valid root metadata: ${describeTufError(err)}`, { cause: err });
    }
    const pending = await storage.state.lastJournalEntry();
    const plainMayLag = pending?.state === 'prepared';
    const plainProblems: string[] = [];
    const report = await verifyWithUpdater(
      updater,
      async (p, info) => {
        const out: string[] = [];
        const hp = hashedPath(p, info.hashes.sha256);
        const bad = await verifyObject(info, storage, hp);
        if (bad) out.push(`${hp}: ${bad}`);
        // Plain names only where the storage publishes them (storage.ts plainNames).
        const plainBad = storage.plainNames ? await verifyObject(info, storage, p) : undefined;
        if (plainBad && !plainMayLag) plainProblems.push(`${p} (plain name, what plain pip gets): ${plainBad}`);
        return out;
      },
      { ...opts, roleBytes: (role, v) => storage.read('metadata', versionedFileName(role, v)).catch(() => undefined) },
    );
    const readTimestamp = async () => JSON.parse((await storage.read('metadata', 'timestamp.json'))?.toString('utf8') ?? 'null') as { signed?: { version?: number; meta?: object } } | null;
    // Plain names are replaced after each publication: if another command published while this
    // verify ran (a cron bump, an add), they may belong to the newer state. Only a mismatch with
    // the state that is still the published one is a problem.
    if (plainProblems.length) {
      const nowTs = await readTimestamp()
        .then((t) => t?.signed?.version)
        .catch(() => undefined);
      const nowLast = await storage.state.lastJournalEntry();
      if (nowTs !== report.timestampVersion || nowLast?.state === 'prepared') {
        report.warnings.push({ kind: 'journal', message: `the repository changed while verify ran (timestamp ${report.timestampVersion} -> ${nowTs}): ${plainProblems.length} plain name(s) not checked against it; run verify again` });
      } else for (const m of plainProblems) report.problems.push({ kind: 'file', message: m });
    }
    // Name the object a failed refresh was reading (tuf-js's messages do not).
    const last = fetcher.fetched.at(-1);
    const lastObject = last === undefined ? undefined : objectOfUrl(last);
    for (const p of report.problems) if (p.message.startsWith('refresh failed:') && lastObject) p.message += ` (reading ${servedPath(lastObject)})`;
    // tuf-js keeps only meta["snapshot.json"] of a timestamp: another entry is not covered by any
    // signature check, so it is reported here (tufpip-repo refuses to build on such a file).
    try {
      const ts = await readTimestamp();
      const extra = Object.keys(ts?.signed?.meta ?? {}).filter((k) => k !== 'snapshot.json');
      if (extra.length) report.problems.push({ kind: 'metadata', message: `timestamp.json names metadata other than snapshot.json: ${extra.join(', ')}` });
    } catch {
      // unreadable: already reported by the refresh
    }
    for (const l of await storage.linksOutOfPublicArea()) report.problems.push({ kind: 'symlink', message: `symbolic link under site/ points outside it: ${l}` });
    if (plainMayLag) report.warnings.push({ kind: 'journal', message: 'a transaction was interrupted after publishing; the next tufpip-repo command finishes it' });
    // The public area holds nothing private: no key, no private state (listed through the seam).
    for (const f of await findPrivateInPublicArea(storage)) {
      report.problems.push(f.kind === 'secret' ? { kind: 'secret', message: `private key material in the public area: ${f.where} (${f.why})` } : { kind: 'private', message: `private state in the public area: ${f.where} (${f.why})` });
    }
    report.ok = report.problems.length === 0;
    return report;
  } finally {
    await fetcher?.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

export function verifyFailedError(r: VerifyReport): TufpipError {
  return new TufpipError('VERIFY_FAILED', `verify found ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:\n` + r.problems.map((p) => `  - [${p.kind}] ${p.message}`).join('\n'));
}
