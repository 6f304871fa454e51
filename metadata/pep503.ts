// PEP 503 names and distribution filenames (wheel: PEP 427 / binary distribution format;
// sdist: PEP 625). Filenames are checked before anything is written (DESIGN.md).

export class FilenameError extends Error {
  readonly code = 'BAD_FILENAME';
}

/** PEP 503 "Normalized Names". */
export function normalizeProject(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

const VALID_PROJECT = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i; // PEP 508 names

export function verifyProjectName(name: string): void {
  if (!VALID_PROJECT.test(name)) throw new FilenameError(`not a valid project name: ${JSON.stringify(name)}`);
}

export type DistKind = 'wheel' | 'sdist';
export interface DistFilename {
  filename: string;
  project: string; // normalised
  version: string;
  kind: DistKind;
}

const SDIST_EXT = ['.tar.gz', '.zip']; // PEP 625 (.tar.gz) and legacy .zip

/** Checks a distribution filename and returns its parts; throws FilenameError. */
export function parseDistFilename(filename: string): DistFilename {
  const shown = JSON.stringify(filename);
  if (filename.length === 0 || filename.length > 255) throw new FilenameError(`bad file name length: ${shown}`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(filename)) throw new FilenameError(`file name has control characters: ${shown}`);
  if (filename.includes('/') || filename.includes('\\')) throw new FilenameError(`file name has a path separator: ${shown}`);
  if (filename.includes('..') || filename.startsWith('.')) throw new FilenameError(`file name has '..' or starts with '.': ${shown}`);
  if (!/^[A-Za-z0-9._+!-]+$/.test(filename)) throw new FilenameError(`file name has characters not allowed in a distribution name: ${shown}`);
  if (filename.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-');
    // {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl
    if (parts.length !== 5 && parts.length !== 6) {
      throw new FilenameError(`not a wheel name (name-version[-build]-python-abi-platform.whl): ${shown}`);
    }
    const [name, version] = parts;
    verifyProjectName(name);
    verifyVersion(version, shown);
    if (parts.length === 6 && !/^\d/.test(parts[2])) throw new FilenameError(`wheel build tag must start with a digit: ${shown}`);
    return { filename, project: normalizeProject(name), version, kind: 'wheel' };
  }
  const ext = SDIST_EXT.find((e) => filename.endsWith(e));
  if (!ext) throw new FilenameError(`not a wheel or sdist (.whl, .tar.gz, .zip): ${shown}`);
  const stem = filename.slice(0, -ext.length);
  const dash = stem.lastIndexOf('-');
  if (dash <= 0) throw new FilenameError(`not an sdist name (name-version${ext}): ${shown}`);
  const name = stem.slice(0, dash);
  const version = stem.slice(dash + 1);
  verifyProjectName(name);
  verifyVersion(version, shown);
  return { filename, project: normalizeProject(name), version, kind: 'sdist' };
}

function verifyVersion(version: string, shown: string): void {
  if (!/^[A-Za-z0-9.+!_]+$/.test(version) || !/\d/.test(version)) {
    throw new FilenameError(`bad version in ${shown}`);
  }
}

/** PEP 440 equality of two versions (`1.0` == `1.0.0`): metadata/pep440.ts. */
export { sameVersion } from './pep440.js';
