// `tufpip-repo takedown DIR PROJECT --offline-key claimed.pem`: the operator's
// emergency takedown of a developer-signed project (PEP 480: malware, a legal order). The operator
// cannot sign the maintainers' roles, but owns their delegation. One transaction, signed with the
// key of the delegating role (claimed: its offline key; recently-claimed: the online key):
// - keeps the terminating delegation `project-<p>` -> `packages/<p>/*`, re-delegated to that
//   operator key alone (threshold 1): the maintainers' keys are revoked, and the name stays
//   protected (no file under packages/<p>/ can be vouched for by the online key: the delegation
//   is terminating, TUF spec 5.6.7.2.4);
// - publishes the next version of `project-<p>` (published version + 1, expiry as for a project
//   role), signed with that key, listing no target and no delegation: the maintainers'
//   `project-<p>--<v>` release roles are no longer reachable. They keep their snapshot entries
//   (TUF spec 5.5.5 / tuf-js `updateSnapshot` refuse a snapshot that drops a trusted role);
// - keeps the project's simple page listing every file it offered (not yanked: PEP 592 would hide
//   them from an unpinned install), so an installer asking for the project, pinned or not, requests
//   a file and the client's signature-gap tripwire refuses it (missing-developer-signature), on
//   purpose; plain pip gets 404 for the bytes;
// - deletes the files' bytes (plain and hash-named, right after the new timestamp, not at the next
//   `gc`) and any index-signed entry of them, and records them as withdrawn (filenames are forever).
// The maintainers re-establish the project with `claim` (new keys replace the delegation), then
// `release sign --fresh --index URL` (continues project-<p>'s version numbers) and `add --signed`.
import { buildTargets } from '../../metadata/builders.js';
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject } from '../../metadata/pep503.js';
import { expiresAt } from '../../metadata/profile.js';
import { projectDelegation } from '../../metadata/releases.js';
import { CLAIMED, RECENTLY_CLAIMED, projectRole } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS } from '../../metadata/role-graph.js';
import type { PageFile } from '../../metadata/simple-html.js';
import { hashedPath, packagePath } from '../../metadata/target-paths.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { projectFiles, writeProjectPage } from '../index/simple-pages.js';
import { offlineSigner, withDelegation } from './claim.js';

/** A consistent-snapshot copy is named `<sha256>.<filename>` (target-paths.ts hashedPath). */
const HASH_PREFIX = /^[0-9a-f]{64}\./;

export interface TakedownOptions extends OpenOptions {
  /** Offline key of `claimed` (file path or signer URI); not needed for a recently-claimed project. */
  offlineKey?: string;
  passphraseEnv?: string;
}

export interface TakedownResult {
  project: string;
  /** The role whose delegation to project-<name> now names the operator's key. */
  revokedFrom: string;
  /** The operator key project-<name> is delegated to now. */
  keyid: string;
  /** The version of project-<name> published empty, signed with that key. */
  projectVersion: number;
  /** File names removed from the served tree. */
  removed: string[];
  /** Maintainer release roles left in the snapshot, no longer delegated. */
  orphanedRoles: string[];
  commit: CommitResult;
}

export async function takedownProject(repoDir: string, projectName: string, o: TakedownOptions = {}): Promise<TakedownResult> {
  const project = normalizeProject(projectName);
  const pRole = projectRole(project);
  return withRepo(repoDir, o, async (ctx) => {
    const { published: pub, config, now } = ctx;
    const tx = new Transaction(ctx, 'takedown');
    const delegator = (await Promise.all(PROJECT_DELEGATORS.map(async (r) => ({ r, role: await pub.role(r) })))).find((x) =>
      x.role.signed.delegations?.roles?.some((d) => d.name === pRole),
    );
    if (!delegator) throw new TufpipError('REFUSED', `project ${project} is not developer-signed (not in claimed or recently-claimed): withdraw its files with tufpip-repo remove; nothing was published`);
    const signer = delegator.r === CLAIMED ? await offlineSigner(ctx, CLAIMED, o.offlineKey, o.passphraseEnv) : await ctx.onlineSigner();
    const expiry = config.expires[delegator.r === CLAIMED ? 'claimed' : 'recently-claimed'];
    // The delegation stays (same name, same paths, terminating), to the operator's key alone.
    const keys = { [signer.keyid]: signer.publicKey };
    tx.updateRole(delegator.r, withDelegation(delegator.role.signed, delegator.role.version + 1, expiresAt(now, expiry), project, { keys, role: projectDelegation(project, [signer.keyid], 1) }), [signer]);
    // The project role's next version lists nothing and delegates to nothing; the self-check
    // verifies it against the new delegation (TUF spec 5.6.3 - 5.6.5), as for `add --signed`.
    const projectVersion = (pub.versionOf(pRole) ?? 0) + 1;
    tx.updateRole(pRole, buildTargets(projectVersion, expiresAt(now, config.expires.project), {}), [signer]);
    tx.projectDelegators.set(pRole, delegator.r);

    // Every file the project has on the index: its page, what its published releases list, and
    // what is published under packages/<project>/ (files the index published before the claim are
    // still in their bins once the maintainers' first release has replaced the page).
    const files = new Set<string>(); // file names
    const prefix = `packages/${project}/`;
    for (const obj of await ctx.storage.list('targets', prefix)) {
      const entry = obj.name.slice(prefix.length);
      if (entry.includes('/')) continue; // project folders are flat: not a file of this project
      files.add(entry.replace(HASH_PREFIX, ''));
      tx.afterPublish({ op: 'remove', path: obj.name });
    }
    const page = new Map<string, PageFile>();
    const removeCopies = (filename: string, sha256: string) => {
      files.add(filename);
      tx.afterPublish({ op: 'remove', path: packagePath(project, filename) });
      tx.afterPublish({ op: 'remove', path: hashedPath(packagePath(project, filename), sha256) });
    };
    for (const f of await projectFiles(tx, project)) {
      removeCopies(f.filename, f.sha256);
      page.set(f.filename, f);
    }
    const orphaned: string[] = [];
    if (pub.versionOf(pRole) !== undefined) {
      for (const d of (await pub.role(pRole)).signed.delegations?.roles ?? []) {
        if (pub.versionOf(d.name) === undefined) continue;
        orphaned.push(d.name);
        for (const [p, info] of Object.entries((await pub.role(d.name)).signed.targets)) {
          const filename = p.slice(p.lastIndexOf('/') + 1);
          removeCopies(filename, info.hashes.sha256);
          if (!page.has(filename)) page.set(filename, { filename, sha256: info.hashes.sha256 });
          // Filenames are forever: the maintainers' files are recorded as withdrawn too.
          tx.withdraw({ path: p, sha256: info.hashes.sha256, length: info.length });
        }
      }
    }
    // Index-signed entries of the project (published before the claim) leave their bins.
    for (const f of files) if (await tx.getTarget(packagePath(project, f))) tx.setTarget(packagePath(project, f), null);
    // The page stays in its bin (and the project in the project list), listing every file.
    writeProjectPage(tx, project, [...page.values()]);
    const commit = await tx.commit();
    const removed = [...files].sort();
    return { project, revokedFrom: delegator.r, keyid: signer.keyid, projectVersion, removed, orphanedRoles: orphaned, commit };
  });
}
