// `tufpip-repo add` / `sync`: publish distributions in one atomic transaction. Each file is
// checked (name, archive) and staged outside site/ before the lock is taken; under the lock it is
// compared with what is published (filenames are immutable, as on PyPI), then the project's page,
// the project list and the changed bins are re-signed, then snapshot and timestamp.
import path from 'node:path';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { parseDistFilename } from '../../metadata/pep503.js';
import { distIdentity, findSpellingConflict } from '../../metadata/dist-identity.js';
import { packagePath } from '../../metadata/target-paths.js';
import { CLAIMED, RECENTLY_CLAIMED, projectRole } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS } from '../../metadata/role-graph.js';
import type { PageFile } from '../../metadata/simple-html.js';
import { IN_MEMORY_MAX, checkDistribution, type CheckedDist } from '../dist-check.js';
import { sha256File } from '../../io/hash.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { projectFiles, projectList, writeProjectList, writeProjectPage } from '../index/simple-pages.js';
import { RepoLayout } from '../storage/layout.js';
import type { RepoContext } from '../txn/context.js';

export interface AddOptions extends OpenOptions {
  onProgress?: (done: number, total: number, phase: string) => void;
  /**
   * `sync` without --strict: a new file of a developer-signed project (PEP 480) is left out (and
   * reported) instead of refusing the whole transaction; everything else is still published.
   */
  leaveOutDeveloperSigned?: boolean;
}

/** A file `sync` did not publish, and why. */
export interface LeftOutFile {
  file: string;
  project: string;
  reason: string;
}

export interface AddedFile {
  filename: string;
  project: string;
  targetPath: string;
  sha256: string;
  length: number;
  /** 'restored': published before, withdrawn, and re-added with the identical bytes. */
  status: 'added' | 'restored' | 'unchanged';
}

export interface AddResult {
  files: AddedFile[];
  /** Files left out (sync without --strict): new files of developer-signed projects. */
  leftOut: LeftOutFile[];
  commit: CommitResult;
}

/** Projects whose files only their maintainers may sign (PEP 480 claimed / recently-claimed). */
export async function developerSignedProjects(ctx: RepoContext): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of PROJECT_DELEGATORS) {
    const role = await ctx.published.role(r);
    for (const d of role.signed.delegations?.roles ?? []) out.add(d.name);
  }
  return out;
}

/**
 * One distribution, one filename (as PyPI): refuses a file that spells an sdist of a version the
 * project already has (`foo-1.0.tar.gz` / `Foo-1.0.0.tar.gz`), or a wheel of the same version,
 * build tag and an overlapping tag set, under another filename.
 */
export function verifyOneSpelling(project: string, published: string[], incoming: string[]): void {
  const clash = findSpellingConflict(published, incoming);
  if (!clash) return;
  const [a, b] = clash.map(distIdentity);
  const [va, vb] = clash.map((f) => parseDistFilename(f).version);
  const tag = [...a.tags].find((t) => b.tags.has(t));
  const same = a.kind === 'sdist' ? 'sdist' : `wheel (both for ${tag}${a.build ? `, build ${a.build}` : ''})`;
  throw new TufpipError(
    'CONFLICT',
    `${a.filename} and ${b.filename} are the same ${same} of ${project}: version ${va} == ${vb} (PEP 440); one distribution, one filename: nothing was published`,
  );
}

/** Removes a staging folder, and staging/ when it is then empty. */
function removeStaging(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.rmdirSync(path.dirname(dir));
  } catch {
    // not empty (another add is staging) or already gone
  }
}

/** Copies inputs to a staging folder outside site/ and checks the copies (no check-then-use gap). */
async function stage(layout: RepoLayout, files: string[], opts: AddOptions): Promise<{ dir: string; checked: CheckedDist[] }> {
  const dir = path.join(layout.dir, 'staging', `${process.pid}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  const checked: CheckedDist[] = [];
  try {
    const seen = new Map<string, string>();
    let i = 0;
    for (const f of files) {
      const base = path.basename(f);
      const prev = seen.get(base);
      if (prev !== undefined) {
        const [a, b] = await Promise.all([sha256File(prev), sha256File(f)]);
        if (a.sha256 !== b.sha256) throw new TufpipError('CONFLICT', `two different files named ${base}: ${prev} and ${f}`);
        continue;
      }
      seen.set(base, f);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(f);
      } catch (err) {
        // Node decodes a command-line argument that is not UTF-8 with U+FFFD: the name it sees is
        // not the file's name (found by test/repo-faults-bad-input.test.ts).
        if (f.includes('\uFFFD')) throw new TufpipError('BAD_INPUT', `${JSON.stringify(f)}: the file name is not valid UTF-8; rename the file`, { cause: err });
        throw new TufpipError('NOT_FOUND', `${f}: no such file`, { cause: err });
      }
      if (st.isSymbolicLink()) throw new TufpipError('BAD_INPUT', `${f} is a symbolic link: give the file itself`);
      const staged = path.join(dir, base);
      parseDistFilename(base); // the name is checked before anything is copied
      try {
        // A small file is copied synchronously (a thread-pool round trip costs more than the copy).
        if (st.size <= IN_MEMORY_MAX) fs.copyFileSync(f, staged);
        else await fsp.copyFile(f, staged);
      } catch (err) {
        throw new TufpipError('IO', `cannot copy ${f} to the staging folder ${path.dirname(staged)}: ${(err as Error).message}; nothing was published`, { cause: err });
      }
      const c = await checkDistribution(staged);
      checked.push(c);
      opts.onProgress?.(++i, files.length, 'checking');
    }
    return { dir, checked };
  } catch (err) {
    removeStaging(dir);
    throw err;
  }
}

export async function addFiles(repoDir: string, files: string[], opts: AddOptions = {}, command = 'add'): Promise<AddResult> {
  if (files.length === 0) throw new TufpipError('USAGE', 'no files to add');
  const layout = new RepoLayout(repoDir);
  await layout.loadConfig();
  const { dir: stagingDir, checked } = await stage(layout, files, opts);
  try {
    return await withRepo(repoDir, opts, async (ctx) => {
      const tx = new Transaction(ctx, command);
      tx.onProgress = opts.onProgress;
      const claimed = await developerSignedProjects(ctx);
      const results: AddedFile[] = [];
      const leftOut: LeftOutFile[] = [];
      const byProject = new Map<string, CheckedDist[]>();
      const pages = new Map<string, Map<string, string>>();
      for (const c of checked) {
        const targetPath = packagePath(c.dist.project, c.dist.filename);
        if (claimed.has(projectRole(c.dist.project))) {
          // The project's page lists exactly what is published for it (signed releases, and files
          // from before the claim): the same name with the same bytes is already there.
          let page = pages.get(c.dist.project);
          if (!page) pages.set(c.dist.project, (page = new Map((await projectFiles(tx, c.dist.project)).map((f) => [f.filename, f.sha256]))));
          if (page.get(c.dist.filename) === c.sha256) {
            results.push({ filename: c.dist.filename, project: c.dist.project, targetPath, sha256: c.sha256, length: c.length, status: 'unchanged' });
            continue;
          }
          // PEP 480: the index's online key may not vouch for a developer-signed project.
          const reason = `project ${c.dist.project} is developer-signed (PEP 480); publish it with a release its maintainers signed (add --signed RELEASE.json)`;
          if (opts.leaveOutDeveloperSigned) {
            leftOut.push({ file: c.dist.filename, project: c.dist.project, reason });
            continue;
          }
          throw new TufpipError('REFUSED', `${c.dist.filename}: ${reason}`);
        }
        const existing = await tx.getTarget(targetPath);
        if (existing) {
          if (existing.hashes.sha256 === c.sha256 && existing.length === c.length) {
            results.push({ filename: c.dist.filename, project: c.dist.project, targetPath, sha256: c.sha256, length: c.length, status: 'unchanged' });
            continue;
          }
          throw new TufpipError('CONFLICT', `${c.dist.filename} is already published with different content (sha256 ${existing.hashes.sha256.slice(0, 12)}…); filenames are immutable: publish a new version instead`);
        }
        const list = byProject.get(c.dist.project) ?? [];
        list.push(c);
        byProject.set(c.dist.project, list);
        // Filenames are forever: a withdrawn file comes back only with its identical bytes (other
        // bytes are refused by the transaction, for every publishing path).
        const restored = tx.retiredHashes(targetPath)?.has(c.sha256) ?? false;
        results.push({ filename: c.dist.filename, project: c.dist.project, targetPath, sha256: c.sha256, length: c.length, status: restored ? 'restored' : 'added' });
      }
      if (byProject.size > 0) {
        const projects = new Set(await projectList(tx));
        let listChanged = false;
        let n = 0;
        for (const [project, dists] of byProject) {
          const files: PageFile[] = await projectFiles(tx, project);
          verifyOneSpelling(project, files.map((f) => f.filename), dists.map((c) => c.dist.filename));
          for (const c of dists) {
            const targetPath = packagePath(project, c.dist.filename);
            tx.setTarget(targetPath, { length: c.length, hashes: { sha256: c.sha256 } });
            tx.addContent({ targetPath, sha256: c.sha256, source: { file: c.file }, plainBeforePublish: true });
            files.push({ filename: c.dist.filename, sha256: c.sha256, requiresPython: c.requiresPython });
          }
          writeProjectPage(tx, project, files);
          if (!projects.has(project)) {
            projects.add(project);
            listChanged = true;
          }
          opts.onProgress?.(++n, byProject.size, 'indexing');
        }
        if (listChanged) writeProjectList(tx, projects);
      }
      const commit = await tx.commit();
      return { files: results, leftOut, commit };
    });
  } finally {
    removeStaging(stagingDir);
  }
}

/** Every distribution file under a folder (the way an operator adopts a pypiserver directory). */
export async function findDistributions(folder: string): Promise<{ files: string[]; skipped: string[] }> {
  const files: string[] = [];
  const skipped: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true, encoding: 'buffer' }).catch((err) => {
      throw new TufpipError('NOT_FOUND', `cannot read folder ${d}`, { cause: err });
    });
    // A name that is not UTF-8 would be decoded with U+FFFD and then not found (or worse, found
    // under another name): refuse it by name (found by test/repo-faults-bad-input.test.ts).
    const named = entries.map((e) => {
      const raw = e.name as unknown as Buffer;
      const name = raw.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        throw new TufpipError('BAD_INPUT', `${path.join(d, raw.toString('latin1'))}: a file name under ${folder} is not valid UTF-8 (bytes ${raw.toString('hex')}); rename or remove it`);
      }
      return { e, name };
    });
    named.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const { e, name } of named) {
      const p = path.join(d, name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /\.(whl|tar\.gz|zip)$/.test(name)) files.push(p);
      else skipped.push(p);
    }
  };
  await walk(path.resolve(folder));
  return { files, skipped };
}

/**
 * `sync`: every distribution under a folder in one transaction. Unless `strict`, new files of
 * developer-signed projects are left out (`leftOut`) and the rest is published; the CLI then
 * exits with `partialSyncError`'s code. `strict` refuses the whole folder instead.
 */
export async function syncFolder(repoDir: string, folder: string, opts: AddOptions & { strict?: boolean } = {}): Promise<AddResult & { skipped: string[] }> {
  const { files, skipped } = await findDistributions(folder);
  if (files.length === 0) throw new TufpipError('NOT_FOUND', `no distributions (.whl, .tar.gz, .zip) found under ${folder}`);
  const r = await addFiles(repoDir, files, { ...opts, leaveOutDeveloperSigned: !opts.strict }, 'sync');
  return { ...r, skipped };
}

/** The error (exit code PARTIAL) a sync that left files out ends with, after its output. */
export function partialSyncError(leftOut: LeftOutFile[]): TufpipError {
  return new TufpipError('PARTIAL', `sync was partial: ${leftOut.length} file${leftOut.length === 1 ? '' : 's'} of developer-signed projects left out (listed above); everything else was published (--strict refuses the whole folder instead)`);
}
