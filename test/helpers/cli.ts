// Runs the real CLIs as child processes (what users run), capturing output and exit code.
import { spawn } from 'node:child_process';
import path from 'node:path';
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
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export const REPO_BIN = path.join(PROJECT_ROOT, 'bin', 'tufpip-repo.js');
export const CLIENT_BIN = path.join(PROJECT_ROOT, 'bin', 'tufpip.js');

export function tufpipRepo(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runNode(REPO_BIN, args, opts);
}

export function tufpip(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runNode(CLIENT_BIN, args, opts);
}
