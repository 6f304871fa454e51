// The report of a fetch (DESIGN.md "Client": every fetched file is reported with its hash and who
// vouched for it: the project's developer keys, or the repository's online key). Written as
// `<dir>/tufpip-report.json` and printed one line per file.
import { shortKeyId } from '../../metadata/short-key-id.js';
import { releaseParent } from '../../metadata/role-graph.js';
import type { VerifiedTarget, Vouch } from './api.js';
import type { Refusal } from './refusal.js';

export const REPORT_FILE = 'tufpip-report.json';
export const REPORT_FORMAT = 'tufpip-fetch-report/1';

export interface ReportEntry {
  /** File name as saved in the destination folder. */
  file: string;
  sha256: string;
  length: number;
  /** PEP 503-normalised project. */
  project: string;
  /** TUF target path, e.g. `packages/alpha/alpha-1.0-py3-none-any.whl`. */
  target: string;
  vouchedBy: Vouch;
}

export interface FetchReport {
  format: typeof REPORT_FORMAT;
  /** Index URL (never with credentials). */
  index: string;
  created: string;
  /** The files pip chose for the requirements. */
  files: ReportEntry[];
  /**
   * Verified files pip downloaded through the proxy but did not save: the build dependencies of
   * sdists (setuptools, wheel...), installed by pip into its isolated build environments (PEP
   * 517/518). Saved beside `files` so that the folder builds and installs with `--no-index`.
   */
  buildDependencies: ReportEntry[];
  /** Simple pages pip read, all verified. */
  pages: { target: string; sha256: string; vouchedBy: Vouch }[];
  refusals: Refusal[];
  /** Files that failed verification but that pip did not use (found while prefetching). */
  warnings: Refusal[];
}

export function reportEntry(file: string, project: string, t: VerifiedTarget): ReportEntry {
  return { file, sha256: t.sha256, length: t.length, project, target: t.path, vouchedBy: t.vouchedBy };
}

/**
 * Who vouched, for people: `developer-signed: project-alpha, keys 1a2b3c4d, 5e6f7a8b (2 of 3)`
 * (the keys whose signatures verified; threshold of the role's keys; `; release role
 * project-alpha--1.0` added when a per-release role listed the file) or
 * `index-signed (online key 1a2b3c4d)`.
 */
export function describeVouch(v: Vouch): string {
  const keys = (v.signedBy.length ? v.signedBy : v.keyids).map(shortKeyId);
  if (v.kind === 'developer') {
    // PEP 480 in tufpip: `project-<p>` delegates each release to `project-<p>--<version>` (same
    // keys and threshold, docs/design-decisions.md); name the project role, then the release role.
    const parent = releaseParent(v.role);
    const [project, release] = parent ? [parent, v.role] : [v.role, undefined];
    return `developer-signed: ${project}, key${keys.length === 1 ? '' : 's'} ${keys.join(', ')} (${v.threshold} of ${v.keyids.length}${release ? `; release role ${release}` : ''})`;
  }
  return `index-signed (online key${keys.length === 1 ? '' : 's'} ${keys.join(', ')})`;
}

/** One line per file: `name  sha256:...  <who vouched>`. */
export function reportLines(entries: readonly ReportEntry[]): string[] {
  const width = Math.max(0, ...entries.map((e) => e.file.length));
  return entries.map((e) => `${e.file.padEnd(width)}  sha256:${e.sha256}  ${describeVouch(e.vouchedBy)}`);
}
