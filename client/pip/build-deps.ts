// Build dependencies of sdists (PEP 517/518). pip builds an sdist in an isolated environment and
// installs the backend's requirements into it with a pip subprocess that gets the same index
// options as the pip that runs it (pip/_internal/build_env.py `_install_requirements`: `-i URL`
// or `--no-index`, every `--find-links`). So during the verified `pip download` they come through
// the verifying proxy, and during `pip install --no-index --find-links DIR` from DIR.
//
// When one is not on the index, pip's own words ("No matching distribution found for X") are
// buried inside the subprocess's output under "pip subprocess to install build dependencies did
// not run successfully". This module finds them and says which requirement, needed by which sdist.
import { TufpipError } from '../../metadata/errors.js';
import type { PipResult } from './pip-runner.js';
import type { Refusal } from '../lib/refusal.js';

export interface MissingBuildDependency {
  /** The requirement as pip wrote it: `setuptools>=40.8.0`. */
  requirement: string;
  /** File name of the sdist being built when it failed, when pip's output names it. */
  sdist?: string;
}

/**
 * pip's heading (pip 22 and later) when installing an isolated build environment failed (`build`:
 * PEP 518 `requires`; `backend`: what the backend's `get_requires_for_build_*` returned, PEP 517).
 */
const BUILD_ENV_FAILED = /pip subprocess to install (?:build|backend) dependencies did not run successfully/;
/** The innermost pip's resolution failure (a nested build prints its own, last). */
const NO_MATCH = /No matching distribution found for (.+?)\s*$/gm;
/** Where pip names the archive it is about to build (download, local file, cache). */
const SDIST_MENTION = /(?:Downloading|Processing|Using cached)\s+(?:\S*\/)?([A-Za-z0-9][A-Za-z0-9._+!-]*\.(?:tar\.gz|tar\.bz2|tgz|zip))(?=[\s)]|$)/g;

/** Refusals that only say a project page is not on the index (the 404s pip met looking for it). */
const ABSENT_KINDS: ReadonlySet<string> = new Set(['not-signed', 'not-on-index']);

/**
 * Whether a failed pip run's refusals leave room for a missing build dependency: none, or only
 * missing project pages. A build dependency refused for a security reason (hash mismatch, bad
 * signature...) must be reported as that refusal, not as missing.
 */
export function onlyMissingPages(refusals: readonly Refusal[]): boolean {
  return refusals.every((r) => ABSENT_KINDS.has(r.kind) && r.target.startsWith('simple/'));
}

/** The build dependency pip could not find, read from its output; undefined for any other failure. */
export function missingBuildDependency(pip: Pick<PipResult, 'stdout' | 'stderr'>): MissingBuildDependency | undefined {
  // pip logs progress on stdout and the failure (with the subprocess's output) on stderr.
  const text = `${pip.stdout}\n${pip.stderr}`;
  if (!BUILD_ENV_FAILED.test(text)) return undefined;
  const misses = [...text.matchAll(NO_MATCH)];
  const miss = misses[misses.length - 1];
  if (!miss) return undefined;
  const before = text.slice(0, miss.index);
  const sdists = [...before.matchAll(SDIST_MENTION)];
  return { requirement: miss[1], sdist: sdists[sdists.length - 1]?.[1] };
}

/**
 * The error for a missing build dependency: "setuptools>=40, needed to build sdonly-1.0.tar.gz, is
 * not on the index". `projectOnIndex`: the index has the project, but no file of it matches.
 */
export function missingBuildDependencyError(m: MissingBuildDependency, projectOnIndex: boolean, consequence: string): TufpipError {
  const needed = m.sdist ? `, needed to build ${m.sdist},` : ' (a build dependency of an sdist)';
  const why = projectOnIndex ? ' (the index has the project, but no file of it that matches and that pip can use)' : '';
  return new TufpipError(
    'NOT_FOUND',
    `${m.requirement}${needed} is not on the index${why}: an sdist is built with build dependencies from the same index, verified like everything else; ${consequence}`,
  );
}
