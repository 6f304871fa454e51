// `tufpip fetch`: pip resolves (its own resolver: markers, extras, wheels for this platform)
// against the verifying proxy on loopback, and every file pip saved is checked against what the
// proxy verified before it is moved to the destination (DESIGN.md "Client"). Any refusal during
// the run fails the whole fetch: a refused file is never replaced by "whatever pip found next".
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { sha256File } from '../../io/hash.js';
import { moveFile, writeFileAtomicSync } from '../../io/atomic-file.js';
import { ClientError, redactUrl } from '../lib/client-error.js';
import { REPORT_FILE, REPORT_FORMAT, reportEntry, type FetchReport, type ReportEntry } from '../lib/fetch-report.js';
import { constraintFilesIn, downloadArgsFrom, requirementName, verifyPipArgs, verifyRequirement, verifyRequirementsFile } from '../pip/pip-inputs.js';
import { projectPagePath } from '../../metadata/target-paths.js';
import { PIP_TIMEOUT_SECONDS, pipFailedError, runPip, verifyPython } from '../pip/pip-runner.js';
import { missingBuildDependency, missingBuildDependencyError, onlyMissingPages } from '../pip/build-deps.js';
import { yankWarnings } from '../pip/pip-warnings.js';
import { NO_POLICY, checkPolicy, type Policy } from '../lib/policy.js';
import { RefusalsError } from '../lib/refusal.js';
import { scratchWriteError } from '../proxy/scratch-error.js';
import { VerifyingProxy, deferredSource } from '../proxy/verifying-proxy.js';
import { openTrustedIndex, resolveIndex, type IndexChoice } from './open-index.js';

export interface FetchCommandOptions extends IndexChoice {
  /** Requirement specifiers (`alpha`, `beta>=1; python_version>"3.8"`, `gamma[extra]`). */
  reqs?: string[];
  /** Requirements files (`-r`). */
  requirements?: string[];
  /** Destination folder (created). */
  dest: string;
  /** Interpreter pip runs with: its platform and version decide which wheels fit. */
  python?: string;
  policy?: Policy;
  /** Extra pip options for resolution (--pre, --no-deps, --only-binary...), already checked. */
  pipArgs?: string[];
  /** Stream pip's own output to stderr (default: captured, shown when pip fails). */
  streamPip?: boolean;
  /** Every proxy request, for --verbose. */
  log?: (line: string) => void;
  /** What a refusal means for the user, appended to its message (default: nothing was fetched). */
  consequence?: string;
}

/** Largest file verified ahead of pip's request on a guess (a wrong guess costs one download). */
export const PREFETCH_MAX_BYTES = 8 * 1024 * 1024;

export interface FetchOutcome {
  dest: string;
  reportFile: string;
  report: FetchReport;
  /** pip's PEP 592 warnings about yanked versions it selected (its output is otherwise captured). */
  pipWarnings: string[];
}

/**
 * Checks everything the user gave pip before anything runs (see pip-inputs.ts); returns the
 * top-level project names (whose simple pages pip will ask for first).
 */
export async function verifyPipInputs(o: { reqs?: string[]; requirements?: string[]; pipArgs?: string[] }): Promise<string[]> {
  if (!o.reqs?.length && !o.requirements?.length) throw new TufpipError('USAGE', 'give requirements: REQ... and/or -r REQUIREMENTS_FILE');
  const names: string[] = [];
  for (const r of o.reqs ?? []) {
    verifyRequirement(r);
    const name = requirementName(r);
    if (name) names.push(name);
  }
  verifyPipArgs(o.pipArgs ?? []);
  const seen = new Set<string>();
  for (const f of o.requirements ?? []) names.push(...(await verifyRequirementsFile(f, seen)));
  for (const f of constraintFilesIn(o.pipArgs ?? [])) await verifyRequirementsFile(f, seen, true);
  return [...new Set(names)];
}

/** verifyPython, with what its failure means for the user. */
async function verifyPythonFor(python: string | undefined, consequence: string): Promise<void> {
  try {
    await verifyPython(python);
  } catch (err) {
    if (err instanceof TufpipError) throw new TufpipError(err.code, `${err.message}; ${consequence}`, { cause: err.cause });
    throw err;
  }
}

/**
 * Runs the whole fetch. On success the destination holds exactly the files pip chose, each one
 * verified, plus tufpip-report.json; on any refusal it throws and the destination is untouched.
 */
export async function fetchVerified(o: FetchCommandOptions): Promise<FetchOutcome> {
  const topLevel = await verifyPipInputs(o);
  // The destination is checked before anything runs, not after pip has downloaded everything
  // (found by test/repo-faults-bad-input.test.ts: `-d` naming a file failed at the very end).
  const destStat = await fsp.stat(path.resolve(o.dest)).catch(() => undefined);
  if (destStat && !destStat.isDirectory()) throw new TufpipError('USAGE', `--dest ${o.dest} exists and is not a folder`);
  const policy = o.policy ?? NO_POLICY;
  const consequence = o.consequence ?? 'nothing was fetched';
  const withConsequence = (err: unknown) =>
    // A refused update cycle (rollback, freeze, bad signature...): nothing verified, nothing fetched.
    err instanceof ClientError ? new ClientError(err.kind, `${err.message}; ${consequence}`, { cause: err, role: err.role, index: err.index, path: err.targetPath }) : err;
  // Which index, its transport and its trust are checked before anything starts.
  const resolved = await resolveIndex(o).catch((err: unknown) => {
    throw withConsequence(err);
  });
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-fetch-'));
  // The client library loads and runs the TUF update cycle (TUF spec 5.3-5.6) while pip starts:
  // the proxy answers nothing before it is done, and refuses everything if it fails. Loading it
  // (tuf-js and its models: ~100 ms of CPU) begins only once pip is spawned, so that pip's own
  // start-up (~0.7 s of importing) runs alongside it instead of after it (issue 3 "Speed").
  let opened = false;
  let startOpening!: () => void;
  const opening = new Promise<void>((resolve) => (startOpening = resolve)).then(() => openTrustedIndex(o, { resolved }));
  const pipSpawned = () => {
    opened = true;
    startOpening();
  };
  let openError: unknown;
  opening.catch((err: unknown) => (openError = err));
  const ready = opening.then(() => undefined);
  ready.catch(() => undefined); // reported through openError, and by every request that waits
  try {
    const saved = path.join(work, 'pip');
    const proxy = await VerifyingProxy.start({
      source: deferredSource(opening),
      cacheDir: path.join(work, 'cache'),
      ready,
      prefetch: { maxBytes: PREFETCH_MAX_BYTES },
      check: (project, target) => checkPolicy(policy, project, target),
      log: o.log,
    });
    proxy.prefetchProjects(topLevel);
    let pip;
    try {
      const running = runPip({
        python: o.python,
        prewarmed: true,
        output: o.streamPip ? 'stream' : 'capture',
        secretIndexUrl: proxy.indexUrl, // holds the proxy's secret: not in pip's argv
        args: [
          'download',
          '--no-cache-dir', // pip's HTTP cache could answer without asking the proxy
          // The proxy answers a file only once it is completely downloaded and verified: a large
          // wheel takes longer than pip's 15 s read timeout (our idle timeout guards the index).
          '--timeout',
          String(PIP_TIMEOUT_SECONDS),
          '--progress-bar',
          'off',
          '--dest',
          saved,
          ...downloadArgsFrom(o.pipArgs ?? []),
          ...(o.requirements ?? []).flatMap((f) => ['-r', f]),
          ...(o.reqs ?? []),
        ],
      });
      pipSpawned(); // runPip spawns synchronously; a spawn failure rejects `running`
      pip = await running;
    } finally {
      await proxy.close();
    }
    const client = await opening.catch(() => undefined);
    if (!client) throw withConsequence(openError);
    // The scratch folder could not be written (removed while in use, disk full): a local error.
    const local = proxy.localErrors[0] ?? scratchWriteError(await fsp.access(work).catch((e: unknown) => e), work);
    if (local) throw new TufpipError('IO', `${local.message}; ${consequence}`, { cause: local });
    // An sdist's build dependency that is not on the index: pip asked for its page (a 404, the
    // only refusals) from the isolated build environment's pip subprocess, and failed.
    const missingBuildDep = pip.code !== 0 && onlyMissingPages(proxy.refusals) ? missingBuildDependency(pip) : undefined;
    if (missingBuildDep) {
      const page = projectPagePath(requirementName(missingBuildDep.requirement) ?? '');
      throw missingBuildDependencyError(missingBuildDep, proxy.pages.has(page), consequence);
    }
    // A refusal fails the fetch even when pip went on and found something else.
    if (proxy.refusals.length) throw new RefusalsError(proxy.refusals, consequence);
    // pip asks the index for every requirement: a program that failed, or that "succeeded"
    // without asking the proxy anything, may not be pip at all (`--python /bin/true`).
    if (pip.code !== 0 || (proxy.pages.size === 0 && proxy.served.size === 0)) await verifyPythonFor(o.python, consequence);
    if (pip.code !== 0) throw pipFailedError('download', pip);

    // Every file pip saved must be one the proxy verified, byte for byte.
    const entries: ReportEntry[] = [];
    const byName = new Map([...proxy.served.values()].map((s) => [s.filename, s]));
    const names = (await fsp.readdir(saved).catch(() => [] as string[])).sort();
    for (const name of names) {
      const got = await sha256File(path.join(saved, name));
      const served = byName.get(name);
      if (!served || served.target.sha256 !== got.sha256 || served.target.length !== got.length) {
        throw new ClientError(
          'not-signed',
          `refused (not-signed) [${name}]: pip saved a file the verifying proxy did not serve (sha256 ${got.sha256}); ${consequence}`,
          { path: name },
        );
      }
      entries.push(reportEntry(name, served.project, served.target));
    }
    // Files the proxy served that pip did not save: the build dependencies of sdists, which pip's
    // build-environment subprocess installed (build_env.py). Kept from the proxy's verified cache,
    // checked again byte for byte, so that `pip install --no-index --find-links DEST` can build.
    const buildDeps: ReportEntry[] = [];
    const savedNames = new Set(names);
    for (const s of [...proxy.served.values()].filter((f) => !savedNames.has(f.filename)).sort((a, b) => a.filename.localeCompare(b.filename))) {
      const got = await sha256File(s.file);
      if (s.target.sha256 !== got.sha256 || s.target.length !== got.length) {
        throw new ClientError('hash-mismatch', `refused (hash-mismatch) [${s.filename}]: the verified copy changed after verification (sha256 ${got.sha256}); ${consequence}`, { path: s.target.path });
      }
      buildDeps.push(reportEntry(s.filename, s.project, s.target));
    }

    const dest = path.resolve(o.dest);
    await fsp.mkdir(dest, { recursive: true });
    for (const e of entries) await moveFile(path.join(saved, e.file), path.join(dest, e.file));
    for (const e of buildDeps) await moveFile(byName.get(e.file)!.file, path.join(dest, e.file));
    const report: FetchReport = {
      format: REPORT_FORMAT,
      index: redactUrl(client.url),
      created: new Date().toISOString(),
      files: entries,
      buildDependencies: buildDeps,
      pages: [...proxy.pages.values()].map((t) => ({ target: t.path, sha256: t.sha256, vouchedBy: t.vouchedBy })),
      refusals: [],
      // Verification failures of files pip did not choose (met while prefetching): not used, but
      // a sign that the index serves something other than what it signed.
      warnings: proxy.prefetchRefusals.filter((r) => !proxy.served.has(r.target)),
    };
    const reportFile = path.join(dest, REPORT_FILE);
    writeFileAtomicSync(reportFile, JSON.stringify(report, null, 2) + '\n');
    return { dest, reportFile, report, pipWarnings: o.streamPip ? [] : yankWarnings(`${pip.stdout}\n${pip.stderr}`) };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
    // Never opened when pip could not start (the proxy failed): nothing to wait for or close.
    if (opened) await (await opening.catch(() => undefined))?.close();
  }
}
