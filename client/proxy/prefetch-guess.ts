// Which file of a simple page pip will most likely download next (pure). The verifying proxy
// verifies that file in the background while pip is busy elsewhere (starting up, reading other
// pages), so that pip's request is answered from the verified cache: pip downloads one file at a
// time, and each verified download costs a TUF lookup plus the download itself.
//
// The guess follows pip's default choice (pip's CandidateEvaluator): the highest final release
// (pre-releases are skipped when a final release exists; yanked files are skipped, PEP 592), and
// among its files a pure-Python wheel, or the only file there is. When that is not clear (platform wheels, odd versions) there is no
// guess. A wrong guess costs one verified download that nobody uses (bounded by the caller).
import { parseDistFilename } from '../../metadata/pep503.js';
import { parseProjectPage } from '../../metadata/simple-html.js';

interface VersionKey {
  epoch: number;
  release: number[];
  pre: boolean;
  post: number;
}

/** A PEP 440 ordering key for final and post releases; `pre` marks pre- and dev releases. */
export function versionKey(version: string): VersionKey | undefined {
  const m = /^(?:(\d+)!)?(\d+(?:\.\d+)*)((?:[-_.]?(?:a|alpha|b|beta|c|rc|pre|preview)[-_.]?\d*)?)((?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?)((?:[-_.]?dev[-_.]?\d*)?)(?:\+[a-z0-9.]+)?$/i.exec(version.trim());
  if (!m) return undefined;
  const post = m[4] ? Number(/(\d*)$/.exec(m[4])![1] || '0') + 1 : 0;
  return { epoch: Number(m[1] ?? 0), release: m[2].split('.').map(Number), pre: !!(m[3] || m[5]), post };
}

export function compareVersionKeys(a: VersionKey, b: VersionKey): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const n = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.post - b.post;
}

const isPureWheel = (filename: string) => /-(?:py3|py2\.py3|py3\.py2)-none-any\.whl$/.test(filename);

/** The filename pip will most likely pick from a project page, or undefined. */
export function likelyChoice(pageHtml: string): string | undefined {
  const files: { filename: string; key: VersionKey }[] = [];
  for (const f of parseProjectPage(pageHtml)) {
    // PEP 592: pip takes a yanked file only when pinned to exactly it: no guess to make there.
    if (f.yanked !== undefined) continue;
    let version: string;
    try {
      version = parseDistFilename(f.filename).version;
    } catch {
      continue;
    }
    const key = versionKey(version);
    if (key && !key.pre) files.push({ filename: f.filename, key });
  }
  if (files.length === 0) return undefined;
  const best = files.reduce((a, b) => (compareVersionKeys(b.key, a.key) > 0 ? b : a)).key;
  const latest = files.filter((f) => compareVersionKeys(f.key, best) === 0).map((f) => f.filename);
  const pure = latest.filter(isPureWheel);
  if (pure.length === 1) return pure[0];
  if (latest.length === 1) return latest[0];
  return undefined;
}
