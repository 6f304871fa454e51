// `tufpip install --locked`: fetchLocked (every file verified by TUF, by the lock's hash and size,
// and by its signer pin) into a private folder, then pip installs exactly those files, no
// resolution: `--no-index --no-deps --require-hashes` with a requirements file naming each
// verified file and its locked sha256. On any refusal pip never runs: nothing is installed.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipFailedError, runPip, type PipResult } from '../pip/pip-runner.js';
import type { FetchReport } from '../lib/fetch-report.js';
import { fetchLocked, type LockedFetchOptions } from './locked-fetch.js';

export interface LockedInstallOptions extends Omit<LockedFetchOptions, 'dest' | 'consequence'> {
  python?: string;
  /** pip install options (--target DIR, --user...), already checked. */
  pipArgs?: string[];
  streamInstall?: boolean;
  onVerified?: (report: FetchReport) => void | Promise<void>;
}

export async function installLocked(o: LockedInstallOptions): Promise<{ report: FetchReport; pip: PipResult }> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-install-locked-'));
  try {
    const fetched = await fetchLocked({ ...o, dest: path.join(work, 'verified'), consequence: 'nothing was installed' });
    await o.onVerified?.(fetched.report);
    if (!fetched.files.length) return { report: fetched.report, pip: { code: 0, signal: null, stdout: '', stderr: '' } };
    // pip checks each file against the locked hash again (--require-hashes) before installing.
    const reqs = path.join(work, 'locked-requirements.txt');
    await fsp.writeFile(reqs, fetched.files.map((f) => `${f.saved} --hash=sha256:${f.file.sha256}\n`).join(''), { mode: 0o600 });
    const pip = await runPip({
      python: o.python,
      prewarmed: true, // started by the CLI for `install` while the files were verified (pip-prewarm.ts)
      output: o.streamInstall === false ? 'capture' : 'stream',
      args: ['install', '--no-index', '--no-deps', '--require-hashes', '--no-cache-dir', '--progress-bar', 'off', ...(o.pipArgs ?? []), '-r', reqs],
    });
    if (pip.code !== 0) throw pipFailedError('install', pip);
    return { report: fetched.report, pip };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
