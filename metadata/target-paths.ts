// Target-path scheme of the served tree (DESIGN.md "The served tree").

export const SIMPLE_INDEX = 'simple/index.html';

export function projectPagePath(project: string): string {
  return `simple/${project}/index.html`;
}

export function packagePath(project: string, filename: string): string {
  return `packages/${project}/${filename}`;
}

/** TUF spec 5.7.3: consistent-snapshot target name `<dir>/<hash>.<base>`. */
export function hashedPath(targetPath: string, sha256: string): string {
  const i = targetPath.lastIndexOf('/');
  return i < 0 ? `${sha256}.${targetPath}` : `${targetPath.slice(0, i)}/${sha256}.${targetPath.slice(i + 1)}`;
}

/** Whether an object name is a consistent-snapshot copy `<dir>/<sha256>.<name>` (hashedPath). */
export function isHashedPath(name: string): boolean {
  return /(?:^|\/)[0-9a-f]{64}\.[^/]+$/.test(name);
}

/** Project of a `packages/<p>/<f>` or `simple/<p>/index.html` target, or undefined. */
export function projectOfTarget(targetPath: string): string | undefined {
  const m = /^(?:packages|simple)\/([^/]+)\/[^/]+$/.exec(targetPath);
  return m ? m[1] : undefined;
}

/** Delegation path patterns (TUF spec "paths": one pattern segment per path segment). */
export const PACKAGE_PATTERNS = ['packages/*/*'];
export const ALL_TARGET_PATTERNS = ['simple/*', 'simple/*/*', 'packages/*/*'];
export function projectPatterns(project: string): string[] {
  return [`packages/${project}/*`];
}
