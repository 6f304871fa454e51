// "Filenames are forever" (DESIGN.md; PyPI's rule): a package filename, once published, is never
// published again with other bytes, even after it was removed and `gc` deleted its copies. The
// repository keeps, in its private state, every package file it withdrew with the hash it had.
// Pure logic: which targets a publication withdraws, and whether a new target may be published.
import type { TargetInfo } from './builders.js';

/** One withdrawn package file: its target path and the bytes it was published with. */
export interface RetiredFile {
  path: string;
  sha256: string;
  length: number;
}

/** Package files (`packages/<project>/<file>`) only: pages and metadata may change freely. */
export function isPackageTarget(targetPath: string): boolean {
  return /^packages\/[^/]+\/[^/]+$/.test(targetPath);
}

/** The package targets of `before` that `after` no longer lists. */
export function withdrawnTargets(before: Record<string, TargetInfo>, after: Record<string, TargetInfo>): RetiredFile[] {
  const out: RetiredFile[] = [];
  for (const [p, info] of Object.entries(before)) {
    if (isPackageTarget(p) && !Object.prototype.hasOwnProperty.call(after, p)) out.push({ path: p, sha256: info.hashes.sha256, length: info.length });
  }
  return out;
}

/**
 * Why `targetPath` may not be published with `sha256`, or undefined when it may: refused when the
 * record holds the filename with other bytes. The identical bytes restore the file.
 */
export function retiredConflict(recorded: ReadonlySet<string> | undefined, targetPath: string, sha256: string): string | undefined {
  if (!recorded || recorded.has(sha256)) return undefined;
  const filename = targetPath.slice(targetPath.lastIndexOf('/') + 1);
  const was = [...recorded].map((h) => `${h.slice(0, 12)}…`).join(', ');
  return `${filename} was published before with other content (sha256 ${was}) and removed; a filename is never reused with other bytes (as on PyPI): publish a new version, or re-add the identical file to restore it`;
}
