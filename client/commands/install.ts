// `tufpip install`: fetch into a private temporary folder (every file verified, see fetch.ts),
// then `<python> -m pip install --no-index --find-links <that folder> REQS`, so what is verified
// is exactly what is installed: no check-then-use gap (DESIGN.md "Client"). On any refusal the
// fetch throws and pip install never runs: nothing is installed.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { missingBuildDependency, missingBuildDependencyError } from '../pip/build-deps.js';
import { pipFailedError, runPip, type PipResult } from '../pip/pip-runner.js';
import type { FetchReport } from '../lib/fetch-report.js';
import { fetchVerified, type FetchCommandOptions } from './fetch.js';

export interface InstallCommandOptions extends Omit<FetchCommandOptions, 'dest'> {
  /** Stream `pip install`'s output to stderr (default true; false under --json). */
  streamInstall?: boolean;
  /** Called with the fetch report once everything is verified, before pip install runs. */
  onVerified?: (report: FetchReport) => void | Promise<void>;
}

export interface InstallOutcome {
  /** What was verified (and then installed): the fetch report. */
  report: FetchReport;
  pip: PipResult;
  /** pip's PEP 592 warnings from the verified download (see pip-warnings.ts). */
  pipWarnings: string[];
}

export async function installVerified(o: InstallCommandOptions): Promise<InstallOutcome> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-install-'));
  try {
    const dest = path.join(work, 'verified');
    const fetched = await fetchVerified({ ...o, dest, consequence: 'nothing was installed' });
    await o.onVerified?.(fetched.report);
    // Only the verified folder: no index, and no other find-links (pip-inputs.ts refuses them).
    // It holds the build dependencies of sdists too (fetch.ts): pip's isolated build environment
    // installs them from the same --no-index --find-links (pip/_internal/build_env.py).
    const pip = await runPip({
      python: o.python,
      output: o.streamInstall === false ? 'capture' : 'stream',
      args: [
        'install',
        '--no-index',
        '--find-links',
        dest,
        '--no-cache-dir',
        '--progress-bar',
        'off',
        ...(o.pipArgs ?? []),
        ...(o.requirements ?? []).flatMap((f) => ['-r', f]),
        ...(o.reqs ?? []),
      ],
    });
    if (pip.code !== 0) {
      const missing = missingBuildDependency(pip);
      throw missing ? missingBuildDependencyError(missing, false, 'nothing was installed') : pipFailedError('install', pip);
    }
    return { report: fetched.report, pip, pipWarnings: fetched.pipWarnings };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
