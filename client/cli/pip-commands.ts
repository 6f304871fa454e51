// The pip-facing `tufpip` commands (fetch, install, proxy): thin yargs modules (nx / lerna style).
// Handlers parse flags, call the implementation in client/commands/ (imported lazily) and print;
// they throw on failure and never exit (main.ts maps errors to exit codes).
import type { Argv, CommandModule } from 'yargs';
import type { FetchReport } from '../lib/fetch-report.js';
import type { GlobalFlags } from './commands.js';
import { printJson, say, note } from '../../io/cli/output.js';
import { downloadProgress } from '../../io/cli/progress.js';
import { TufpipError } from '../../metadata/errors.js';

/** Flags of every command that reads a trusted index through the verifying proxy (also `lock`). */
export interface IndexFlags extends GlobalFlags {
  index?: string;
  'allow-http'?: boolean;
  python?: string;
  'require-developer-signed'?: boolean;
  policy?: string;
  verbose?: boolean;
}

interface ReqFlags extends IndexFlags {
  reqs?: string[];
  locked?: string;
  requirement?: string[];
  '--'?: string[];
}

export const indexOptions = <T>(y: Argv<T>) =>
  y
    .option('index', { type: 'string', describe: 'trusted index, by name or URL (default: the only trusted index)' })
    .option('allow-http', { type: 'boolean', describe: 'accept a plain-HTTP index URL to a host other than loopback' })
    .option('require-developer-signed', { type: 'boolean', describe: 'refuse files that only the index (not the project\'s developers, PEP 480) signed' })
    .option('policy', { type: 'string', describe: 'policy file (default: ./tufpip.toml if present): [policy] require-developer-signed = true | ["project", ...]' })
    .option('json', { type: 'boolean', describe: 'print machine-readable JSON on stdout' })
    .option('quiet', { type: 'boolean', alias: 'q', describe: 'print nothing but errors' });

const reqOptions = <T>(y: Argv<T>) =>
  indexOptions(y)
    .parserConfiguration({ 'populate--': true })
    .positional('reqs', { type: 'string', array: true, describe: 'requirement specifiers, as for pip (alpha, "beta>=1.0", "gamma[extra]")' })
    .option('requirement', { alias: 'r', type: 'string', array: true, describe: 'requirements file (repeatable); index and find-links options in it are refused' })
    .option('python', { type: 'string', describe: 'Python interpreter whose pip runs (default python3)' })
    .option('locked', { type: 'string', describe: 'exactly the files of this PEP 751 lock (tufpip lock), no resolution: each verified by TUF, the lock\'s hash and size, and its signer pin' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: "show pip's own output and every proxy request" });

export async function policyOf(a: IndexFlags) {
  const { loadPolicy } = await import('../lib/policy.js');
  return loadPolicy({ policyFile: a.policy, requireDeveloperSigned: a['require-developer-signed'] });
}

export async function common(a: IndexFlags) {
  // $TUFPIP_IDLE_TIMEOUT_MS: the per-chunk download idle timeout (TUF slow retrieval), default 30 s.
  const { idleTimeoutFromEnv } = await import('../../io/idle-timeout.js');
  return { index: a.index, dataDir: a['data-dir'], allowHttp: a['allow-http'], python: a.python, idleTimeoutMs: idleTimeoutFromEnv() };
}

/** Under --json a failure is data too: `{ ok: false, error, refusals }` on stdout, then the error. */
async function jsonOnFailure<T>(a: IndexFlags, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (a.json) {
      const e = err as { message?: string; kind?: string; code?: string; refusals?: unknown[] };
      printJson({ ok: false, error: { code: e.code, kind: e.kind, message: e.message ?? String(err) }, refusals: e.refusals ?? (e.kind ? [{ kind: e.kind, message: e.message }] : []) });
    }
    throw err;
  }
}

async function printReport(a: IndexFlags, report: FetchReport): Promise<void> {
  const { reportLines } = await import('../lib/fetch-report.js');
  const { describeRefusal } = await import('../lib/refusal.js');
  say(a, `verified against ${report.index}:`);
  for (const line of reportLines(report.files)) say(a, `  ${line}`);
  if (report.buildDependencies.length) {
    say(a, 'build dependencies of sdists (verified the same way):');
    for (const line of reportLines(report.buildDependencies)) say(a, `  ${line}`);
  }
  for (const w of report.warnings) note(a, `warning: a file pip did not use failed verification: ${describeRefusal(w)}`);
}

function jsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

function logger(a: IndexFlags): ((line: string) => void) | undefined {
  return a.verbose && !a.json ? (line) => process.stderr.write(`proxy: ${line}\n`) : undefined;
}

/** --locked takes no requirements: the lock is the whole input. */
function verifyLockedArgs(a: ReqFlags): void {
  if (a.reqs?.length || a.requirement?.length) throw new TufpipError('USAGE', '--locked installs exactly the lock: give no requirements or -r');
  if (a.index) throw new TufpipError('USAGE', '--locked uses the index the lock pins: --index does not apply');
}

async function fetchLockedCommand(a: ReqFlags & { dest: string }): Promise<void> {
  verifyLockedArgs(a);
  const { fetchLocked } = await import('../lock/locked-fetch.js');
  const bar = downloadProgress(a);
  const r = await jsonOnFailure(a, async () =>
    fetchLocked({ ...(await common(a)), lockFile: a.locked!, dest: a.dest, policy: await policyOf(a), onProgress: (p, got, total) => p.startsWith('packages/') && bar.onProgress(p, got, total) }).finally(() => bar.stop()),
  );
  if (a.json) return printJson({ ok: true, dest: r.dest, reportFile: r.reportFile, lock: a.locked, ...r.report });
  await printReport(a, r.report);
  say(a, `saved the ${r.report.files.length} locked file${r.report.files.length === 1 ? '' : 's'} of ${a.locked} to ${r.dest}, each verified and matching its signer pin (report: ${r.reportFile})`);
}

async function installLockedCommand(a: ReqFlags): Promise<void> {
  verifyLockedArgs(a);
  const { verifyPipArgs } = await import('../pip/pip-inputs.js');
  verifyPipArgs(a['--'] ?? []);
  const { installLocked } = await import('../lock/locked-install.js');
  const bar = downloadProgress(a);
  const r = await jsonOnFailure(a, async () =>
    installLocked({
      ...(await common(a)),
      lockFile: a.locked!,
      policy: await policyOf(a),
      pipArgs: a['--'],
      streamInstall: !a.json && !a.quiet,
      onVerified: (report) => printReport(a, report),
      onProgress: (p, got, total) => p.startsWith('packages/') && bar.onProgress(p, got, total),
    }).finally(() => bar.stop()),
  );
  if (a.json) return printJson({ ok: true, lock: a.locked, ...r.report, pip: { exitCode: r.pip.code } });
  say(a, `installed the ${r.report.files.length} locked file${r.report.files.length === 1 ? '' : 's'} of ${a.locked} with ${a.python ?? 'python3'}`);
}

const fetch: CommandModule<object, ReqFlags & { dest: string }> = {
  command: 'fetch [reqs..]',
  describe: 'download requirements (resolved by pip) through the verifying proxy into DEST, with tufpip-report.json',
  builder: (y) =>
    reqOptions(y)
      .option('dest', { alias: 'd', type: 'string', demandOption: true, describe: 'folder for the verified files and the report' })
      .epilog('After -- : pip options for resolution (--pre, --no-deps, --only-binary X, --platform X...).') as never,
  handler: async (a) => {
    if (a.locked !== undefined) return fetchLockedCommand(a);
    const { fetchVerified } = await import('../commands/fetch.js');
    const bar = downloadProgress(a);
    const r = await jsonOnFailure(a, async () =>
      fetchVerified({
        ...(await common(a)),
        reqs: a.reqs,
        requirements: a.requirement,
        dest: a.dest,
        policy: await policyOf(a),
        pipArgs: a['--'],
        streamPip: a.verbose && !a.json,
        log: logger(a),
        onProgress: (p, got, total) => p.startsWith('packages/') && bar.onProgress(p, got, total),
      }).finally(() => bar.stop()),
    );
    if (a.json) return printJson({ ok: true, dest: r.dest, reportFile: r.reportFile, ...r.report, pipWarnings: r.pipWarnings });
    await printReport(a, r.report);
    for (const w of r.pipWarnings) note(a, `warning: ${w}`);
    const build = r.report.buildDependencies.length;
    const also = build ? ` and ${build} build dependenc${build === 1 ? 'y' : 'ies'}` : '';
    say(a, `saved ${r.report.files.length} verified file${r.report.files.length === 1 ? '' : 's'}${also} to ${r.dest} (report: ${r.reportFile})`);
  },
};

const install: CommandModule<object, ReqFlags> = {
  command: 'install [reqs..]',
  describe: 'fetch through the verifying proxy, then pip install only those verified files (nothing on any refusal)',
  builder: (y) =>
    reqOptions(y).epilog(
      'After -- : options for pip install (--upgrade, --target DIR, --user...); resolution options among them (--pre, --no-deps, --only-binary X...) apply to the verified download too. Index and find-links options are refused.',
    ) as never,
  handler: async (a) => {
    if (a.locked !== undefined) return installLockedCommand(a);
    const { installVerified } = await import('../commands/install.js');
    const bar = downloadProgress(a);
    const r = await jsonOnFailure(a, async () =>
      installVerified({
        ...(await common(a)),
        reqs: a.reqs,
        requirements: a.requirement,
        policy: await policyOf(a),
        pipArgs: a['--'],
        streamPip: a.verbose && !a.json,
        streamInstall: !a.json && !a.quiet,
        onVerified: (report) => printReport(a, report),
        log: logger(a),
        onProgress: (p, got, total) => p.startsWith('packages/') && bar.onProgress(p, got, total),
      }).finally(() => bar.stop()),
    );
    if (a.json) return printJson({ ok: true, ...r.report, pip: { exitCode: r.pip.code }, pipWarnings: r.pipWarnings });
    for (const w of r.pipWarnings) note(a, `warning: ${w}`);
    say(a, `installed from ${r.report.files.length} verified file${r.report.files.length === 1 ? '' : 's'} with ${a.python ?? 'python3'}`);
  },
};

const proxy: CommandModule<object, IndexFlags & { host: string; port: number; refresh: number }> = {
  command: 'proxy',
  describe: 'run the verifying proxy as a service: give its URL to pip, uv or poetry as the index URL',
  builder: (y) =>
    indexOptions(y)
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (loopback unless --allow-http)' })
      .option('port', { type: 'number', default: 0, describe: 'port (0: any free port)' })
      .option('refresh', { type: 'number', default: 60, describe: 'seconds between TUF update cycles (new releases, expiry)' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'log every request' }) as never,
  handler: async (a) => {
    const { startProxyService } = await import('../commands/proxy.js');
    const { describeRefusal } = await import('../lib/refusal.js');
    const { idleTimeoutFromEnv } = await import('../../io/idle-timeout.js');
    const service = await startProxyService({
      index: a.index,
      dataDir: a['data-dir'],
      allowHttp: a['allow-http'],
      idleTimeoutMs: idleTimeoutFromEnv(),
      host: a.host,
      port: a.port,
      refreshSeconds: a.refresh,
      policy: await policyOf(a),
      log: a.verbose && !a.json ? (line) => process.stderr.write(`${line}\n`) : undefined,
      // pip only shows an HTTP status: say which attack class was stopped, as it happens.
      onRefusal: (r) => (a.json ? jsonLine({ event: 'refused', ...r }) : process.stderr.write(`tufpip: ${describeRefusal(r)}\n`)),
      onLocalError: (e) => (a.json ? jsonLine({ event: 'error', message: e.message }) : process.stderr.write(`tufpip: error: ${e.message}\n`)),
    });
    const { proxy: p, client } = service;
    // Under --json: one JSON object per line (an event stream), `listening` first.
    // The index URL holds this run's secret (proxy-secret.ts): it is printed for the user who
    // started the proxy only; the pip command reads it from a 0600 file, not from its argv.
    if (a.json) jsonLine({ event: 'listening', index: client.url, url: p.url, indexUrl: p.indexUrl, pipConfig: service.pipConfig, pipCommand: service.pipCommand });
    else {
      say(a, `tufpip proxy: verifying ${client.url}`);
      say(a, `index URL for pip: ${p.indexUrl}`);
      say(a, "  (it holds this run's secret: keep it private; other local users get 403)");
      say(a, 'pip command (only the proxy as source, whatever pip.conf or PIP_* settings say):');
      say(a, `  ${service.pipCommand}`);
      say(a, '  (a file is answered once it is downloaded and verified: pip waits up to 300 s for it)');
      note(a, 'stop with Ctrl-C');
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await service.stop();
    if (a.json) jsonLine({ event: 'stopped', served: [...p.served.keys()], refusals: p.refusals });
    else note(a, `stopped: served ${p.served.size} verified file${p.served.size === 1 ? '' : 's'}, ${p.refusals.length} refusal${p.refusals.length === 1 ? '' : 's'}`);
  },
};

export const pipCommands = [fetch, install, proxy] as CommandModule[];
