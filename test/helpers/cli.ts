// Runs the real CLIs as child processes (what users run), capturing output and exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from './python.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

export function runNode(script: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(process.execPath, [script, ...args], opts);
}

/** Runs any program with ARGS (stdin: `opts.input`, then EOF), killed after `opts.timeoutMs`. */
export function runCommand(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return startCommand(command, args, opts).done;
}

/** A child process still running: its result, and its output lines as events to wait for. */
export interface Started {
  child: ChildProcess;
  done: Promise<RunResult>;
  /** Resolves with the first line of stdout or stderr matching `re` (a string: equal to it); rejects if it exits first. */
  line(re: RegExp | string): Promise<string>;
}

/** Starts any program with ARGS (stdin: `opts.input`, then EOF), killed after `opts.timeoutMs`. */
export function startCommand(command: string, args: string[], opts: RunOptions = {}): Started {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp | string; resolve: (l: string) => void }[] = [];
  const scan = () => {
    const lines = `${stdout}\n${stderr}`.split('\n');
    for (const w of waiters.splice(0)) {
      const hit = lines.find((l) => (typeof w.re === 'string' ? l === w.re : w.re.test(l)));
      if (hit !== undefined) w.resolve(hit);
      else waiters.push(w);
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    scan();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    scan();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  child.stdin!.end(opts.input ?? '');
  return {
    child,
    done,
    line: (re) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ re, resolve });
        scan();
        void done.then((r) => reject(new Error(`exited (${r.code ?? r.signal}) before printing ${re}:\n${r.stdout}\n${r.stderr}`)), reject);
      }),
  };
}

/** `node --import` URL of a test-only preload compiled from test/helpers/NAME.ts (kill-at, lock-probe). */
export function preload(name: 'kill-at' | 'lock-probe' | 's3-stall'): string {
  return pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'test', 'helpers', `${name}.js`)).href;
}

export const REPO_BIN = path.join(PROJECT_ROOT, 'bin', 'tufpip-repo.js');
export const CLIENT_BIN = path.join(PROJECT_ROOT, 'bin', 'tufpip.js');

export function tufpipRepo(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runNode(REPO_BIN, args, opts);
}

export function tufpip(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runNode(CLIENT_BIN, args, opts);
}
