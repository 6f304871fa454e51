// Which projects a watch subscription covers: PEP 503 names (`requests`) and prefixes
// (`acme-*`, normalised like a name before the `*`). No pattern at all watches every project. Pure.
import { TufpipError } from './errors.js';
import { normalizeProject, verifyProjectName } from './pep503.js';

/** One subscription pattern in normal form: a PEP 503 name, or a normalised prefix ending in `*`. */
export function normalizeWatchPattern(pattern: string): string {
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  if (prefix && body === '') return '*';
  if (body.includes('*')) throw new TufpipError('USAGE', `a watch pattern is a project name or a prefix ending in *, got ${JSON.stringify(pattern)}`);
  try {
    if (!prefix) verifyProjectName(body);
  } catch (err) {
    throw new TufpipError('USAGE', `not a project name: ${JSON.stringify(pattern)}`, { cause: err });
  }
  if (prefix && !/^[A-Za-z0-9._-]+$/.test(body)) throw new TufpipError('USAGE', `not a project name prefix: ${JSON.stringify(pattern)}`);
  // A prefix keeps its trailing separator (`acme-*` must not match `acmex`): normalise the runs only.
  const normal = prefix ? body.replace(/[-_.]+/g, '-').toLowerCase() : normalizeProject(body);
  return prefix ? `${normal}*` : normal;
}

/** Whether a (normalised) project name is covered by any pattern; no pattern covers every project. */
export function watchesProject(patterns: readonly string[], project: string): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith('*') ? project.startsWith(p.slice(0, -1)) : project === p));
}

/** The project of a distribution target path `packages/<p>/<file>`, or undefined. */
export function projectOfTargetPath(targetPath: string): string | undefined {
  const m = /^packages\/([^/]+)\/[^/]+$/.exec(targetPath);
  return m ? m[1] : undefined;
}
