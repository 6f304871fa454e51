// `tufpip lock`: trust on first use, recorded. Resolves through the verifying proxy
// (client/lock/resolve-lock.ts) and writes a PEP 751 `pylock.toml` whose `[packages.tool.tufpip]`
// tables pin who signed each package (metadata/signer-pin.ts). Once a lock exists its pins are
// never replaced silently: `--check` (CI) re-resolves and fails on any signer change,
// `--upgrade [PKG...]` records new versions but refuses a signer change unless
// `--accept-signer-change PKG` (or `--accept-root-change`) says a person reviewed it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject } from '../../metadata/pep503.js';
import type { Pylock } from '../../metadata/pylock.js';
import { diffPins, type PinChange, type PinDiff, type PinnedPackage } from '../../metadata/signer-pin.js';
import { loadLock, writeLock } from '../lock/lock-file.js';
import { resolveLock, type ResolveLockOptions } from '../lock/resolve-lock.js';

export interface LockCommandOptions extends ResolveLockOptions {
  /** The lock file (`-o`, default ./pylock.toml). */
  output: string;
  /** A package the lock did not have that is not developer-signed is a change too. */
  strict?: boolean;
}

export interface UpgradeOptions extends LockCommandOptions {
  /** Packages whose versions may change (others are held at their locked versions); empty: all. */
  packages?: string[];
  /** Packages whose signer change a person reviewed and accepts. */
  acceptSignerChange?: string[];
  acceptRootChange?: boolean;
}

export interface LockOutcome {
  file: string;
  lock: Pylock;
  /** Against the previous lock, when there was one. */
  diff?: PinDiff;
  /** Changes accepted with --accept-signer-change / --accept-root-change, now recorded. */
  accepted: PinChange[];
  written: boolean;
}

const pinned = (l: Pylock): PinnedPackage[] => l.packages.map((p) => ({ name: p.name, version: p.version, pin: p.pin }));

/**
 * What a re-resolution uses: the requirements given, else those the lock records; the index
 * given with --index, else the one the lock's pins name.
 */
function inputsFor(o: ResolveLockOptions, old: Pylock): ResolveLockOptions {
  const index = o.index ?? old.packages[0]?.pin.index;
  if (o.reqs?.length || o.requirements?.length) return { ...o, index };
  if (!old.requirements.length && !old.requirementFiles.length) {
    throw new TufpipError('USAGE', 'the lock records no requirements ([tool.tufpip] requirements): give REQ... or -r FILE');
  }
  return { ...o, index, reqs: old.requirements, requirements: old.requirementFiles };
}

/** `lock --check`: re-resolves and compares; the lock is not written. */
export async function checkLock(o: LockCommandOptions): Promise<{ file: string; diff: PinDiff }> {
  const old = await loadLock(o.output);
  const { lock } = await resolveLock(inputsFor(o, old));
  return { file: o.output, diff: diffPins(pinned(old), pinned(lock), { strict: o.strict }) };
}

/** A constraints file holding every locked package but `packages` at its locked version. */
async function holdOthers(old: Pylock, packages: string[], dir: string): Promise<string[]> {
  if (!packages.length) return [];
  const wanted = new Set(packages.map(normalizeProject));
  for (const p of wanted) if (!old.packages.some((x) => x.name === p)) throw new TufpipError('USAGE', `--upgrade ${p}: the lock has no package ${p}`);
  const file = path.join(dir, 'held.txt');
  await fsp.writeFile(file, old.packages.filter((p) => !wanted.has(p.name)).map((p) => `${p.name}==${p.version}\n`).join(''));
  return ['-c', file];
}

/**
 * `lock` and `lock --upgrade`: with no lock yet, writes one (first use). With a lock, re-resolves
 * and writes the new lock only if every signer change was accepted; otherwise refuses, naming
 * each change, and leaves the lock as it was.
 */
export async function writeOrUpgradeLock(o: UpgradeOptions): Promise<LockOutcome> {
  const old = fs.existsSync(o.output) ? await loadLock(o.output) : undefined;
  if (!old) {
    if (o.packages?.length) throw new TufpipError('USAGE', `--upgrade ${o.packages.join(' ')}: there is no lock ${o.output} yet`);
    const { lock } = await resolveLock(o);
    await writeLock(o.output, lock);
    return { file: o.output, lock, accepted: [], written: true };
  }
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-upgrade-'));
  try {
    const held = await holdOthers(old, o.packages ?? [], work);
    const inputs = inputsFor(o, old);
    const { lock } = await resolveLock({ ...inputs, pipArgs: [...(inputs.pipArgs ?? []), ...held] });
    const diff = diffPins(pinned(old), pinned(lock), { strict: o.strict });
    if (refusedChanges(o, diff).length) return { file: o.output, lock: old, diff, accepted: [], written: false };
    await writeLock(o.output, lock);
    return { file: o.output, lock, diff, accepted: diff.changes, written: true };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** The changes an upgrade refused (those not accepted). */
export function refusedChanges(o: Pick<UpgradeOptions, 'acceptSignerChange' | 'acceptRootChange'>, diff: PinDiff): PinChange[] {
  const accept = new Set((o.acceptSignerChange ?? []).map(normalizeProject));
  return diff.changes.filter((c) => !(c.kind === 'root-change' ? o.acceptRootChange : accept.has(c.name)));
}
