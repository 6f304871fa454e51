// Which target a request to the verifying proxy names (pure: no I/O). The proxy mirrors the
// served tree of DESIGN.md "The served tree": `/simple/` is target `simple/index.html`,
// `/simple/<p>/` is `simple/<p>/index.html`, `/packages/<p>/<file>` is `packages/<p>/<file>`, so
// the relative links of signed simple pages (`../../packages/<p>/<file>#sha256=...`) lead pip
// back to the proxy. Names that are not PEP 503-normalised are redirected, as PyPI does.
import { normalizeProject } from '../../metadata/pep503.js';
import { SIMPLE_INDEX, packagePath, projectPagePath } from '../../metadata/target-paths.js';

export type ProxyRoute =
  | { kind: 'project-list'; target: string }
  | { kind: 'project-page'; project: string; target: string }
  | { kind: 'package'; project: string; filename: string; target: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'not-found'; reason: string };

/** A path segment that is safe as a file name in the proxy's cache (and in DESIGN.md's tree). */
const SAFE_SEGMENT = /^[A-Za-z0-9_+!-][A-Za-z0-9._+!-]*$/;

function decodeSegments(urlPath: string): string[] | undefined {
  const segs = urlPath.split('/').slice(1);
  const out: string[] = [];
  for (const s of segs) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return undefined;
    }
    out.push(d);
  }
  return out;
}

/** Routes a request target (path and optional query) to a target path or a redirect. */
export function routeRequest(requestUrl: string): ProxyRoute {
  const urlPath = requestUrl.split('#')[0].split('?')[0];
  if (!urlPath.startsWith('/')) return { kind: 'not-found', reason: 'not an absolute path' };
  const segs = decodeSegments(urlPath);
  if (!segs) return { kind: 'not-found', reason: 'bad percent-encoding' };
  const [top, ...rest] = segs;
  if (top === 'simple') {
    // `/simple` and `/simple/` (and `/simple/index.html`): the project list.
    if (rest.length === 0) return { kind: 'redirect', location: '/simple/' };
    if (rest.length === 1 && (rest[0] === '' || rest[0] === 'index.html')) return { kind: 'project-list', target: SIMPLE_INDEX };
    const name = rest[0];
    const tail = rest.slice(1);
    const pageTail = tail.length === 0 || (tail.length === 1 && (tail[0] === '' || tail[0] === 'index.html'));
    if (!pageTail || !SAFE_SEGMENT.test(name)) return { kind: 'not-found', reason: 'not a project page' };
    const project = normalizeProject(name);
    // PEP 503: "clients ... SHOULD" use normalised names; PyPI redirects the others.
    if (project !== name || tail.length === 0) return { kind: 'redirect', location: `/simple/${encodeURIComponent(project)}/` };
    return { kind: 'project-page', project, target: projectPagePath(project) };
  }
  if (top === 'packages' && rest.length === 2) {
    const [project, filename] = rest;
    if (!SAFE_SEGMENT.test(project) || !SAFE_SEGMENT.test(filename) || filename.includes('..')) {
      return { kind: 'not-found', reason: 'not a package file name' };
    }
    if (normalizeProject(project) !== project) return { kind: 'not-found', reason: 'project folder is not a normalised name' };
    return { kind: 'package', project, filename, target: packagePath(project, filename) };
  }
  return { kind: 'not-found', reason: 'not an index path' };
}

/**
 * Links in a simple page that would make pip leave the proxy (absolute or scheme-relative
 * URLs). The page is signed, but pip would fetch such a file from elsewhere, unverified.
 */
export function offIndexLinks(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const href = (m[1] ?? m[2] ?? m[3] ?? '').trim().replace(/&amp;/g, '&');
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//') || href.startsWith('\\')) out.push(href);
  }
  return out;
}
