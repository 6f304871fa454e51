// `tufpip-repo takedown DIR PROJECT --offline-key claimed.pem`: the operator's emergency removal
// of a developer-signed project (PEP 480: malware, a legal order). The operator cannot sign the
// maintainers' roles, but owns their delegation: one transaction signed with the claimed key
// (the online key for a recently-claimed project) removes the project's delegation, its files
// (everything under packages/<project>/, right after the new timestamp: the bytes leave the served
// tree at once, not at the next `gc`), any index-signed entry of them, its simple page and its
// place in the project list.
// The project's roles keep their entries in the snapshot: TUF spec 5.5.5 (tuf-js
// `updateSnapshot`) refuses a new snapshot that drops a role a client already trusts. No
// delegation names them any more, so no client loads them; `verify` reports them as no longer
// delegated. The maintainers re-establish the project with `claim`, then `release sign --fresh`
// (continues those version numbers, carries no old release) and `add --signed`.
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject } from '../../metadata/pep503.js';
import { expiresAt } from '../../metadata/profile.js';
import { CLAIMED, RECENTLY_CLAIMED, projectRole } from '../../metadata/roles.js';
import { hashedPath, packagePath } from '../../metadata/target-paths.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { projectFiles, projectList, writeProjectList, writeProjectPage } from '../index/simple-pages.js';
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
  /** The role whose delegation to project-<name> was removed. */
  revokedFrom: string;
  /** File names removed from the served tree. */
  removed: string[];
  /** Maintainer roles left in the snapshot, no longer delegated. */
  orphanedRoles: string[];
  commit: CommitResult;
}

export async function takedownProject(repoDir: string, projectName: string, o: TakedownOptions = {}): Promise<TakedownResult> {
  const project = normalizeProject(projectName);
  const pRole = projectRole(project);
  return withRepo(repoDir, o, async (ctx) => {
    const { published: pub, config, now } = ctx;
    const tx = new Transaction(ctx, 'takedown');
    const delegator = (await Promise.all([CLAIMED, RECENTLY_CLAIMED].map(async (r) => ({ r, role: await pub.role(r) })))).find((x) =>
      x.role.signed.delegations?.roles?.some((d) => d.name === pRole),
    );
    if (!delegator) throw new TufpipError('REFUSED', `project ${project} is not developer-signed (not in claimed or recently-claimed): withdraw its files with tufpip-repo remove; nothing was published`);
    const signer = delegator.r === CLAIMED ? await offlineSigner(ctx, CLAIMED, o.offlineKey, o.passphraseEnv) : await ctx.onlineSigner();
    const expiry = config.expires[delegator.r === CLAIMED ? 'claimed' : 'recently-claimed'];
    tx.updateRole(delegator.r, withDelegation(delegator.role.signed, delegator.role.version + 1, expiresAt(now, expiry), project), [signer]);

    // Every file the project has on the index: its page, what its published releases list, and
    // what is on disk under packages/<project>/ (files the index published before the claim are
    // still in their bins once the maintainers' first release has replaced the page).
    const files = new Set<string>(); // file names
    const onDisk = await fsp.readdir(ctx.layout.targetFile(`packages/${project}`)).catch(() => [] as string[]);
    for (const entry of onDisk) {
      files.add(entry.replace(HASH_PREFIX, ''));
      tx.afterPublish({ op: 'remove', path: `packages/${project}/${entry}` });
    }
    const removeCopies = (filename: string, sha256: string) => {
      files.add(filename);
      tx.afterPublish({ op: 'remove', path: packagePath(project, filename) });
      tx.afterPublish({ op: 'remove', path: hashedPath(packagePath(project, filename), sha256) });
    };
    for (const f of await projectFiles(tx, project)) removeCopies(f.filename, f.sha256);
    const orphaned: string[] = [];
    if (pub.versionOf(pRole) !== undefined) {
      orphaned.push(pRole);
      for (const d of (await pub.role(pRole)).signed.delegations?.roles ?? []) {
        if (pub.versionOf(d.name) === undefined) continue;
        orphaned.push(d.name);
        for (const [p, info] of Object.entries((await pub.role(d.name)).signed.targets)) {
          removeCopies(p.slice(p.lastIndexOf('/') + 1), info.hashes.sha256);
          // Filenames are forever: the maintainers' files are recorded as withdrawn too.
          tx.withdraw({ path: p, sha256: info.hashes.sha256, length: info.length });
        }
      }
    }
    // Index-signed entries of the project (published before the claim) leave their bins.
    for (const f of files) if (await tx.getTarget(packagePath(project, f))) tx.setTarget(packagePath(project, f), null);
    writeProjectPage(tx, project, []);
    const projects = await projectList(tx);
    if (projects.includes(project)) writeProjectList(tx, projects.filter((p) => p !== project));
    const commit = await tx.commit();
    const removed = [...files].sort();
    return { project, revokedFrom: delegator.r, removed, orphanedRoles: orphaned, commit };
  });
}
