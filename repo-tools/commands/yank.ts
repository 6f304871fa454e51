// `tufpip-repo yank DIR PROJECT --version V [--reason TEXT]` and `unyank`: PEP 592 on the
// repository-generated simple page. The page lives in the bins (online key) for every project,
// developer-signed ones included (docs/design-decisions.md "PEP 480"), so yanking re-signs only
// the page's bin: no package file, no maintainer-signed role is touched. The yank state is the
// published page itself ("the published page is the catalogue"), so later adds and removes keep it.
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject, parseDistFilename } from '../../metadata/pep503.js';
import { sameVersion } from '../../metadata/pep440.js';
import type { PageFile } from '../../metadata/simple-html.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { projectFiles, writeProjectPage } from '../index/simple-pages.js';

export interface YankOptions extends OpenOptions {
  version: string;
  /** PEP 592 reason shown by installers; '' (or absent) yanks without a reason. */
  reason?: string;
}

export interface YankResult {
  project: string;
  version: string;
  /** Files whose yank state this command changed. */
  changed: string[];
  /** Files of the version already in the requested state. */
  unchanged: string[];
  commit: CommitResult;
}

/** A reason goes into one HTML attribute and one pip warning line: printable, one line. */
export function checkReason(reason: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(reason)) throw new TufpipError('USAGE', '--reason must be one line of printable text (no control characters or newlines)');
  if (reason.length > 500) throw new TufpipError('USAGE', `--reason is ${reason.length} characters long; at most 500`);
}

/** PEP 592: marks (yanked !== undefined) or unmarks every file of one version of a project. */
export async function setYanked(repoDir: string, projectName: string, yanked: string | undefined, o: OpenOptions & { version: string }): Promise<YankResult> {
  if (!o.version) throw new TufpipError('USAGE', 'give the version: --version V');
  if (yanked !== undefined) checkReason(yanked);
  const project = normalizeProject(projectName);
  return withRepo(repoDir, o, async (ctx) => {
    const tx = new Transaction(ctx, yanked === undefined ? 'unyank' : 'yank');
    const files = await projectFiles(tx, project);
    if (files.length === 0) throw new TufpipError('NOT_FOUND', `project ${project} is not on this index`);
    const ofVersion = (f: PageFile) => sameVersion(parseDistFilename(f.filename).version, o.version);
    const matching = files.filter(ofVersion);
    if (matching.length === 0) {
      const versions = [...new Set(files.map((f) => parseDistFilename(f.filename).version))].join(', ');
      throw new TufpipError('NOT_FOUND', `project ${project} has no files of version ${o.version} (it has ${versions}); nothing was published`);
    }
    const changed: string[] = [];
    const unchanged: string[] = [];
    const next = files.map((f) => {
      if (!ofVersion(f)) return f;
      if (f.yanked === yanked) {
        unchanged.push(f.filename);
        return f;
      }
      changed.push(f.filename);
      const copy: PageFile = { ...f };
      if (yanked === undefined) delete copy.yanked;
      else copy.yanked = yanked;
      return copy;
    });
    if (changed.length) writeProjectPage(tx, project, next);
    const commit = await tx.commit();
    return { project, version: o.version, changed, unchanged, commit };
  });
}

export function yankVersion(repoDir: string, project: string, o: YankOptions): Promise<YankResult> {
  return setYanked(repoDir, project, o.reason ?? '', o);
}

export function unyankVersion(repoDir: string, project: string, o: OpenOptions & { version: string }): Promise<YankResult> {
  return setYanked(repoDir, project, undefined, o);
}
