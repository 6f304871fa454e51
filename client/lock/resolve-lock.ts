// `tufpip lock`'s resolution: pip resolves through the verifying proxy exactly as `tufpip fetch`
// does (client/commands/fetch.ts: every file pip chose was verified by tuf-js's Updater, and the
// tufpip.toml policy applied), into a private folder; the lock records each chosen file with the
// index's own URL, its TUF-verified size and sha256, and who vouched for it (the signer pin).
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDistFilename } from '../../metadata/pep503.js';
import type { LockedFile, LockedPackage, Pylock } from '../../metadata/pylock.js';
import { pinOf } from '../../metadata/signer-pin.js';
import { TufpipError } from '../../metadata/errors.js';
import { verifyPython } from '../pip/pip-runner.js';
import type { FetchReport } from '../lib/fetch-report.js';
import { fetchVerified, type FetchCommandOptions } from '../commands/fetch.js';
import { resolveIndex } from '../commands/open-index.js';
import { readTrustedRoot } from './root-pin.js';

export type ResolveLockOptions = Omit<FetchCommandOptions, 'dest' | 'consequence'>;

/** `pip --version` ends with `(python X.Y)`: the lock is resolved for that Python or later. */
async function requiresPythonOf(python?: string): Promise<string | undefined> {
  const m = /\(python (\d+\.\d+)\)$/.exec(await verifyPython(python));
  return m ? `>=${m[1]}` : undefined;
}

/** The lock's packages from a verified fetch (pure over the report and the trusted root). */
export function lockedPackagesOf(report: FetchReport, root: Parameters<typeof pinOf>[1]): LockedPackage[] {
  const index = report.index;
  const byName = new Map<string, LockedPackage>();
  for (const e of report.files) {
    const dist = parseDistFilename(e.file);
    const file: LockedFile = { name: e.file, url: `${index}${e.target}`, size: e.length, sha256: e.sha256 };
    const pin = pinOf(index, root, e.vouchedBy);
    const p = byName.get(dist.project) ?? { name: dist.project, version: dist.version, index: `${index}simple/`, wheels: [], pin };
    if (dist.kind === 'wheel') p.wheels.push(file);
    else p.sdist = file;
    byName.set(dist.project, p);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Resolves requirements through the verifying proxy and returns the lock (not written). */
export async function resolveLock(o: ResolveLockOptions): Promise<{ lock: Pylock; report: FetchReport }> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-lock-'));
  try {
    const [{ report }, requiresPython] = await Promise.all([
      fetchVerified({ ...o, dest: path.join(work, 'files'), consequence: 'nothing was locked' }),
      requiresPythonOf(o.python),
    ]);
    if (report.buildDependencies.length) {
      throw new TufpipError(
        'REFUSED',
        `refused: ${report.files.filter((f) => f.file.endsWith('.tar.gz') || f.file.endsWith('.zip')).map((f) => f.file).join(', ')} ` +
          `must be built, and a lock without resolution cannot pin its build dependencies (${report.buildDependencies.map((f) => f.file).join(', ')}): lock wheels (pip option --only-binary :all: after --); nothing was locked`,
      );
    }
    // Read after the fetch's update cycle: the root that verified every file now pinned.
    const { index } = await resolveIndex(o);
    const root = await readTrustedRoot(index.metadataDir);
    const lock: Pylock = {
      requiresPython,
      packages: lockedPackagesOf(report, root),
      requirements: [...(o.reqs ?? [])],
      requirementFiles: [...(o.requirements ?? [])],
    };
    return { lock, report };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
