// `tufpip fetch --locked` / `install --locked`: exactly the files of a PEP 751 lock, no
// resolution. Each file is downloaded and verified by tuf-js's Updater (TUF spec 5.7: length and
// hashes from signed metadata, through the index's delegations), then held to the lock: the same
// sha256 and size, and the same signer pin (root keys, who vouched, key set, threshold). Every
// refusal names the package and why; on any refusal nothing reaches the destination.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { filesOf, type LockedFile, type LockedPackage, type Pylock } from '../../metadata/pylock.js';
import { comparePins, describeChange, pinOf, sameRoot } from '../../metadata/signer-pin.js';
import { packagePath } from '../../metadata/target-paths.js';
import { moveFile, writeFileAtomicSync } from '../../io/atomic-file.js';
import { ClientError, redactUrl } from '../lib/client-error.js';
import { REPORT_FILE, REPORT_FORMAT, reportEntry, type FetchReport, type ReportEntry } from '../lib/fetch-report.js';
import { NO_POLICY, checkPolicy, type Policy } from '../lib/policy.js';
import { openTrustedIndex, resolveIndex, type IndexChoice } from '../commands/open-index.js';
import { loadLock } from './lock-file.js';
import { readTrustedRoot } from './root-pin.js';

export interface LockedFetchOptions extends Omit<IndexChoice, 'index'> {
  lockFile: string;
  dest: string;
  policy?: Policy;
  /** What a refusal means for the user (default: nothing was fetched). */
  consequence?: string;
}

/** Why a locked file was refused. */
export type LockRefusalKind = 'malformed-lock' | 'root-change' | 'signer-change' | 'not-listed' | 'lock-mismatch' | 'policy' | 'verification';

export interface LockRefusal {
  /** Package (normalised name), or the index URL for a root change. */
  package: string;
  version?: string;
  kind: LockRefusalKind;
  message: string;
}

export class LockRefusalError extends TufpipError {
  readonly refusals: LockRefusal[];
  readonly kind: LockRefusalKind;
  constructor(refusals: LockRefusal[], consequence: string) {
    super('REFUSED', `${refusals.map((r) => r.message).join('\n')}\n${consequence}`);
    this.name = 'LockRefusalError';
    this.refusals = refusals;
    this.kind = refusals[0].kind;
  }
}

export interface LockedFetchOutcome {
  dest: string;
  reportFile: string;
  report: FetchReport;
  lock: Pylock;
  /** The file of each package, in lock order. */
  files: { pkg: LockedPackage; file: LockedFile; saved: string }[];
}

/** The one file tufpip installs of a locked package: its only wheel, else its sdist. */
function chosenFile(p: LockedPackage, where: string): LockedFile {
  if (p.wheels.length > 1) {
    throw new TufpipError('BAD_INPUT', `malformed lock ${where}: package ${p.name} locks ${p.wheels.length} wheels; tufpip installs locks it wrote (one file per package)`);
  }
  return p.wheels[0] ?? p.sdist!;
}

/** The TUF target path of a locked file: its URL must be `<index>packages/<name>/<file>`. */
function targetOf(p: LockedPackage, f: LockedFile, where: string): string {
  const target = packagePath(p.name, f.name);
  if (f.url !== `${p.pin.index}${target}`) {
    throw new TufpipError('BAD_INPUT', `malformed lock ${where}: package ${p.name}: url ${redactUrl(f.url)} is not the index's URL of ${f.name} (${p.pin.index}${target})`);
  }
  return target;
}

export async function fetchLocked(o: LockedFetchOptions): Promise<LockedFetchOutcome> {
  const consequence = o.consequence ?? 'nothing was fetched';
  const lock = await loadLock(o.lockFile);
  const destStat = await fsp.stat(path.resolve(o.dest)).catch(() => undefined);
  if (destStat && !destStat.isDirectory()) throw new TufpipError('USAGE', `--dest ${o.dest} exists and is not a folder`);
  const indexes = [...new Set(lock.packages.map((p) => p.pin.index))];
  if (indexes.length > 1) throw new TufpipError('BAD_INPUT', `malformed lock ${o.lockFile}: packages from several indexes (${indexes.join(', ')}): tufpip locks one index`);
  const planned = lock.packages.map((pkg) => {
    const file = chosenFile(pkg, o.lockFile);
    return { pkg, file, target: targetOf(pkg, file, o.lockFile) };
  });
  const policy = o.policy ?? NO_POLICY;
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-locked-'));
  try {
    const entries: ReportEntry[] = [];
    const refusals: LockRefusal[] = [];
    let indexUrl = indexes[0] ?? '';
    if (planned.length) {
      const resolved = await resolveIndex({ ...o, index: indexes[0] });
      // TUF spec 5.3-5.6: a rollback, freeze or bad signature of the index refuses everything here.
      const client = await openTrustedIndex({ ...o, index: indexes[0] }, { resolved }).catch((err: unknown) => {
        throw err instanceof ClientError ? new ClientError(err.kind, `${err.message}; ${consequence}`, { cause: err, role: err.role, index: err.index, path: err.targetPath }) : err;
      });
      indexUrl = client.url;
      try {
        const root = await readTrustedRoot(resolved.index.metadataDir);
        const lockedRoot = planned[0].pkg.pin.root;
        if (!sameRoot(lockedRoot, root)) {
          const c = describeChange({ kind: 'root-change', name: indexUrl, from: planned[0].pkg.pin, to: pinOf(indexUrl, root, { kind: 'index', role: 'root', keyids: root.keyids, threshold: root.threshold }) });
          refusals.push({ package: indexUrl, kind: 'root-change', message: `refused (root-change) [${indexUrl}]: the lock's signer pins no longer hold: ${c}` });
        }
        // One download at a time per index client (it serialises on the metadata lock anyway).
        for (const { pkg, file, target } of refusals.length ? [] : planned) {
          const id = `${pkg.name} ${pkg.version}`;
          let t;
          try {
            t = await client.download(target, path.join(work, file.name), { durable: false });
          } catch (err) {
            const kind = (err as { kind?: string }).kind;
            if (kind === 'not-signed' || kind === 'missing-developer-signature') {
              refusals.push({ package: pkg.name, version: pkg.version, kind: 'not-listed', message: `refused (${kind}) [${id}]: the index no longer vouches for locked file ${file.name}: ${(err as Error).message}` });
            } else {
              refusals.push({ package: pkg.name, version: pkg.version, kind: 'verification', message: `refused [${id}]: ${(err as Error).message}` });
            }
            continue;
          }
          // The lock's own hash and size (PEP 751 `hashes`, `size`), besides TUF's.
          if (t.sha256 !== file.sha256 || t.length !== file.size) {
            refusals.push({
              package: pkg.name,
              version: pkg.version,
              kind: 'lock-mismatch',
              message: `refused (lock-mismatch) [${id}]: the index signs ${file.name} as sha256 ${t.sha256}, ${t.length} bytes; the lock says sha256 ${file.sha256}, ${file.size} bytes`,
            });
            continue;
          }
          const change = comparePins(pkg.name, pkg.pin, pinOf(indexUrl, root, t.vouchedBy));
          if (change) {
            refusals.push({ package: pkg.name, version: pkg.version, kind: 'signer-change', message: `refused (${change.kind}) [${id}]: the signer pin no longer holds: ${describeChange(change)}` });
            continue;
          }
          const p = checkPolicy(policy, pkg.name, t);
          if (p) {
            refusals.push({ package: pkg.name, version: pkg.version, kind: 'policy', message: `${p.message} [${id}]` });
            continue;
          }
          entries.push(reportEntry(file.name, pkg.name, t));
        }
      } finally {
        await client.close();
      }
    }
    if (refusals.length) throw new LockRefusalError(refusals, consequence);
    const dest = path.resolve(o.dest);
    await fsp.mkdir(dest, { recursive: true });
    for (const e of entries) await moveFile(path.join(work, e.file), path.join(dest, e.file));
    const report: FetchReport = {
      format: REPORT_FORMAT,
      index: redactUrl(indexUrl),
      created: new Date().toISOString(),
      files: entries,
      buildDependencies: [],
      pages: [],
      refusals: [],
      warnings: [],
    };
    const reportFile = path.join(dest, REPORT_FILE);
    writeFileAtomicSync(reportFile, JSON.stringify(report, null, 2) + '\n');
    return { dest, reportFile, report, lock, files: planned.map((p) => ({ pkg: p.pkg, file: p.file, saved: path.join(dest, p.file.name) })) };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
