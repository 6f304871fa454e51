// "Not on the index" (docs/design-decisions.md): a request for a project or file that the
// verified simple pages do not name is a typo or a missing release, not an attack, and is
// answered 404 with a hint; only a file the index offers (its verified project page links it)
// that TUF then finds unsigned is a signature gap worth the alarm (PEP 480, signature-gap
// tripwire in index-client.ts). Pure: the pages are verified bytes the caller already has.
import { distance } from 'fastest-levenshtein';
import { normalizeProject } from '../../metadata/pep503.js';
import { parseProjectList, parseProjectPage } from '../../metadata/simple-html.js';

/** Whether a verified project page (simple-html.ts format) links `filename`. */
export function pageListsFile(pageHtml: string, filename: string): boolean {
  return parseProjectPage(pageHtml).some((f) => f.filename === filename);
}

/**
 * The project of the verified project list closest to `name` (PEP 503-normalised Levenshtein
 * distance), when it is close enough to be a likely typo: up to 2 edits (a swapped pair of
 * letters is 2), 3 for names of 9 letters or more, and always fewer than half the name's length.
 */
export function closeProjectName(name: string, projectListHtml: string): string | undefined {
  const wanted = normalizeProject(name);
  const limit = Math.min(3, Math.max(2, Math.floor(wanted.length / 3)));
  let best: { name: string; d: number } | undefined;
  for (const p of parseProjectList(projectListHtml)) {
    const d = distance(wanted, normalizeProject(p));
    if (d > 0 && d <= limit && d * 2 < wanted.length && (!best || d < best.d)) best = { name: p, d };
  }
  return best?.name;
}

/** `no project NAME on the index (did you mean X?)`. */
export function noProjectMessage(target: string, project: string, suggestion: string | undefined): string {
  const hint = suggestion ? `; did you mean ${suggestion}?` : '';
  return `not-on-index [${target}]: no project ${project} on the index${hint}`;
}

/** `the index offers no file F of project P`. */
export function noFileMessage(target: string, project: string, filename: string): string {
  return `not-on-index [${target}]: project ${project} has no file ${filename} on the index (its verified page does not list it)`;
}
