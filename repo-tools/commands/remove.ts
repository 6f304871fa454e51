// `tufpip-repo remove DIR PROJECT [--version V | --file NAME]`: withdraws files from the index in
// one transaction. Metadata stops listing them at once; their plain names are removed after the
// new timestamp is published, and hash-named copies stay for clients mid-update until `gc`.
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject, parseDistFilename } from '../../metadata/pep503.js';
import { matchesExactly } from '../../metadata/pep440.js';
import { packagePath } from '../../metadata/target-paths.js';
import { projectRole } from '../../metadata/roles.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { projectFiles, projectList, writeProjectList, writeProjectPage } from '../index/simple-pages.js';
import { developerSignedProjects } from './add.js';

export interface RemoveOptions extends OpenOptions {
  version?: string;
  file?: string;
}

export interface RemoveResult {
  project: string;
  removed: string[];
  projectRemoved: boolean;
  commit: CommitResult;
}

export async function removeFiles(repoDir: string, projectName: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
  if (opts.version && opts.file) throw new TufpipError('USAGE', 'give --version or --file, not both');
  const project = normalizeProject(projectName);
  return withRepo(repoDir, opts, async (ctx) => {
    const tx = new Transaction(ctx, 'remove');
    if ((await developerSignedProjects(ctx)).has(projectRole(project))) {
      throw new TufpipError('REFUSED', `project ${project} is developer-signed (PEP 480): its files are listed by its maintainers' release metadata (yank a version with tufpip-repo yank; remove the whole project in an emergency with tufpip-repo takedown)`);
    }
    const files = await projectFiles(tx, project);
    if (files.length === 0) throw new TufpipError('NOT_FOUND', `project ${project} is not on this index`);
    const drop = files.filter((f) => {
      if (opts.file) return f.filename === opts.file;
      // PEP 440 "Version matching": every file that `==V` selects (1.0 == 1.0.0, local labels
      // included), so a takedown leaves nothing pip would still install as `==V`.
      if (opts.version) return matchesExactly(parseDistFilename(f.filename).version, opts.version);
      return true;
    });
    if (drop.length === 0) {
      throw new TufpipError('NOT_FOUND', `no file of ${project} matches ${opts.file ? `--file ${opts.file}` : `--version ${opts.version}`}`);
    }
    for (const f of drop) {
      const tp = packagePath(project, f.filename);
      tx.setTarget(tp, null);
      tx.afterPublish({ op: 'remove', path: tp });
    }
    const keep = files.filter((f) => !drop.includes(f));
    writeProjectPage(tx, project, keep);
    if (keep.length === 0) writeProjectList(tx, (await projectList(tx)).filter((p) => p !== project));
    const commit = await tx.commit();
    return { project, removed: drop.map((f) => f.filename), projectRemoved: keep.length === 0, commit };
  });
}
