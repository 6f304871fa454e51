// Simple-index generation inside a transaction. The published, hash-named page of a project is
// its catalogue: reading it back gives the project's files without scanning every bin.
import { parseProjectList, parseProjectPage, projectListHtml, projectPageHtml, type PageFile } from '../../metadata/simple-html.js';
import { hashedPath, projectPagePath, SIMPLE_INDEX } from '../../metadata/target-paths.js';
import type { Transaction } from '../txn/transaction.js';
import { sha256Hex } from '../../metadata/hash.js';
import { TufpipError } from '../../metadata/errors.js';

async function readPublishedPage(tx: Transaction, targetPath: string): Promise<string | undefined> {
  const info = await tx.getTarget(targetPath);
  if (!info) return undefined;
  const name = hashedPath(targetPath, info.hashes.sha256);
  const file = tx.ctx.storage.where('targets', name);
  let bytes: Buffer | undefined;
  let cause: unknown;
  try {
    bytes = await tx.ctx.storage.read('targets', name);
  } catch (err) {
    cause = err;
  }
  if (!bytes) throw new TufpipError('IO', `published page ${targetPath} is missing on disk (${file})`, cause === undefined ? undefined : { cause });
  if (sha256Hex(bytes) !== info.hashes.sha256) throw new TufpipError('IO', `published page ${file} does not match its metadata`);
  return bytes.toString('utf8');
}

export async function projectFiles(tx: Transaction, project: string): Promise<PageFile[]> {
  const html = await readPublishedPage(tx, projectPagePath(project));
  return html ? parseProjectPage(html) : [];
}

export async function projectList(tx: Transaction): Promise<string[]> {
  const html = await readPublishedPage(tx, SIMPLE_INDEX);
  return html ? parseProjectList(html) : [];
}

/** Publishes `bytes` as target `targetPath`: bins entry, hash-named copy, plain name afterwards. */
function publishPage(tx: Transaction, targetPath: string, html: string): void {
  const bytes = Buffer.from(html, 'utf8');
  const sha256 = sha256Hex(bytes);
  tx.setTarget(targetPath, { length: bytes.length, hashes: { sha256 } });
  tx.addContent({ targetPath, sha256, source: { bytes }, plainBeforePublish: false });
  tx.afterPublish({ op: 'copy', from: hashedPath(targetPath, sha256), to: targetPath });
}

/** Writes a project's page; an empty project loses its page (and its plain file). */
export function writeProjectPage(tx: Transaction, project: string, files: PageFile[]): void {
  const target = projectPagePath(project);
  if (files.length === 0) {
    tx.setTarget(target, null);
    tx.afterPublish({ op: 'remove', path: target });
    return;
  }
  publishPage(tx, target, projectPageHtml(project, files));
}

export function writeProjectList(tx: Transaction, projects: Iterable<string>): void {
  publishPage(tx, SIMPLE_INDEX, projectListHtml(projects));
}
