// Runs pip (`<python> -m pip ...`) as a child process, isolated from the user's pip
// configuration so that it talks to nothing but the verifying proxy (DESIGN.md "Client": pip's
// requests are answered only with verified bytes). pip reads index settings from config files
// (pip.conf, /etc/pip.conf) and from PIP_* variables (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
// PIP_FIND_LINKS...): any of them would add a source of unverified files, so every PIP_* variable
// is dropped and PIP_CONFIG_FILE=/dev/null makes pip skip all config files. Settings the user
// wants are passed explicitly as pip arguments (`tufpip install ... -- PIP_ARGS`).
import { spawn } from 'node:child_process';
import os from 'node:os';
import { TufpipError } from '../../metadata/errors.js';
import { prewarmHint, startPipPrewarm, takePrewarmedPip } from './pip-prewarm.js';

export const DEFAULT_PYTHON = process.platform === 'win32' ? 'python' : 'python3';

/** pip's read timeout: the proxy answers a file only once it is completely downloaded and verified,
 * so a large file takes longer than pip's default 15 s (our idle timeout guards the index). */
export const PIP_TIMEOUT_SECONDS = 3600;

/** Loopback names pip must reach directly, never through an HTTP proxy. */
const LOOPBACK_NO_PROXY = '127.0.0.1,localhost,::1';

export interface PipRunOptions {
  /** Interpreter whose pip runs (and, for install, whose environment changes). Default python3. */
  python?: string;
  /** Arguments after `-m pip`. */
  args: string[];
  /** 'stream': pip's stdout and stderr go to our stderr as they come (stdout stays free for
   * --json); 'capture': kept only in the result (shown when pip fails). */
  output?: 'stream' | 'capture';
  cwd?: string;
  /** Base environment (default process.env); PIP_* variables in it are dropped. */
  env?: NodeJS.ProcessEnv;
  /** Run in the interpreter started ahead for this command, when it matches (pip-prewarm.ts). */
  prewarmed?: boolean;
  /**
   * pip's --index-url when it holds a secret (the verifying proxy's URL, proxy-secret.ts): given
   * over the prewarmed interpreter's stdin, or else in pip's environment (PIP_INDEX_URL), never
   * in its argv, which every local user can read (/proc/PID/cmdline); a process's environment
   * is readable only by its owner.
   */
  secretIndexUrl?: string;
}

export interface PipResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment pip runs with: no PIP_* settings, no config files, no proxy for loopback. */
export function pipEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (/^PIP_/i.test(k)) continue;
    // pip only ever talks to the proxy on loopback: an HTTP(S) proxy could only get in the way.
    if (/^(https?|all)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  env.PIP_CONFIG_FILE = os.devNull;
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1'; // the version check would contact pypi.org
  env.PIP_NO_INPUT = '1';
  // The pip subprocesses that install sdists' build dependencies (pip/_internal/build_env.py)
  // inherit the environment, not the command line: no cache there either (it could answer without
  // asking the proxy), and the same long timeout (the proxy answers once a file is verified).
  env.PIP_NO_CACHE_DIR = '1';
  env.PIP_TIMEOUT = String(PIP_TIMEOUT_SECONDS);
  env.NO_PROXY = env.no_proxy = LOOPBACK_NO_PROXY;
  env.PYTHONDONTWRITEBYTECODE ??= '1';
  return env;
}

/** Runs `<python> -m pip ARGS`; resolves with the exit status (a non-zero status is not thrown). */
export function runPip(opts: PipRunOptions): Promise<PipResult> {
  const python = opts.python ?? DEFAULT_PYTHON;
  return new Promise((resolve, reject) => {
    const env = pipEnvironment(opts.env);
    const index = opts.secretIndexUrl;
    const warmArgs = index === undefined ? opts.args : [...opts.args.slice(0, 1), '--index-url', index, ...opts.args.slice(1)];
    const warm = opts.prewarmed && opts.cwd === undefined ? takePrewarmedPip(python, env, warmArgs) : undefined;
    const child =
      warm ??
      spawn(python, ['-m', 'pip', ...opts.args], {
        cwd: opts.cwd,
        env: index === undefined ? env : { ...env, PIP_INDEX_URL: index },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.output === 'stream') process.stderr.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.output === 'stream') process.stderr.write(d);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new TufpipError('NOT_FOUND', `python interpreter not found: ${python} (give one with --python PATH)`, { cause: err })
          : new TufpipError('IO', `cannot run ${python} -m pip: ${err.message}`, { cause: err }),
      );
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** What `python -m pip --version` prints: `pip 23.2.1 from /usr/lib/python3/dist-packages/pip (python 3.11)`. */
const PIP_VERSION_LINE = /^pip \d+(?:\.\d+)*\S* from .+ \(python \d+\.\d+\)$/;

/**
 * Checks that PYTHON is a Python with pip (`PYTHON -m pip --version` exits 0 and prints pip's
 * version line); returns that line. A program that is not (`/bin/true`, a script, a Python without
 * pip) is named in one line, with what it said.
 */
export async function verifyPython(python: string = DEFAULT_PYTHON): Promise<string> {
  const r = await runPip({ python, args: ['--version'], output: 'capture' });
  const line = lastLines(r.stdout, 1).trim();
  if (r.code === 0 && PIP_VERSION_LINE.test(line)) return line;
  const status = r.signal ? `was killed by ${r.signal}` : r.code !== 0 ? `exited with ${r.code}` : 'printed no pip version';
  const said = oneLine(lastLines(r.stderr, 1) || lastLines(r.stdout, 1));
  throw new TufpipError('NOT_FOUND', `${python} is not a Python with pip: \`${python} -m pip --version\` ${status}${said ? ` (${said})` : ''}; give a Python that has pip with --python PATH`);
}

/** Text from another program, as one short printable line. */
function oneLine(text: string, max = 160): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** The last N non-empty lines of pip's output, for error messages. */
export function lastLines(text: string, n = 5): string {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}

/** A failed pip run as an error, with the tail of what pip said. */
export function pipFailedError(what: string, r: PipResult): TufpipError {
  const status = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const tail = lastLines(r.stderr || r.stdout);
  return new TufpipError('BAD_INPUT', `pip ${what} failed (${status})${tail ? `:\n${tail}` : ''}`);
}

/** Starts pip's interpreter ahead for `tufpip ARGV` when it will run pip (pip-prewarm.ts). */
export function prewarmPipFor(argv: string[]): void {
  const python = prewarmHint(argv, DEFAULT_PYTHON);
  if (python !== undefined) startPipPrewarm(python, pipEnvironment());
}
