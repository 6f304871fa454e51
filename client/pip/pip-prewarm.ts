// Starts pip's interpreter before tufpip has parsed and checked its arguments (issue 3 "Speed":
// `tufpip fetch` at most 1.3x `pip download`). Python importing pip takes ~0.4 s here, and tufpip
// only knows pip's arguments ~0.15 s after it starts (Node's start-up, the CLI, the checks of
// every input, the proxy): started at once, the interpreter imports pip meanwhile and then waits
// for its arguments on stdin. It runs nothing of pip's and contacts nothing until it has them, and
// gets them only from `runPip` once every input was checked, exactly as `python -m pip ARGS` would
// (runpy's `-m` entry point: same sys.path, sys.argv, exit status and messages). When they never
// come (a usage error, a refused input, another interpreter chosen), it is killed on exit, and
// it exits by itself when its stdin closes. Only `fetch`, `install` and `lock` start one; any other use
// of pip spawns it as before.
import { spawn, type ChildProcess } from 'node:child_process';

/** Imports pip's CLI and download command (best effort), then runs `python -m pip ARGS`. */
const BOOTSTRAP = `
import sys
try:
    import pip._internal.cli.main
    from pip._internal.commands import create_command
    create_command("download")
except Exception:
    pass
line = sys.stdin.buffer.readline()  # UTF-8 JSON whatever the locale (argv would be decoded too)
if not line:
    sys.exit(0)
import json, runpy
sys.argv = ["-m"] + json.loads(line)
runpy._run_module_as_main("pip")
`;

interface Prewarmed {
  python: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
}

let prewarmed: Prewarmed | undefined;

/** Starts the interpreter `python` with `env`, importing pip. */
export function startPipPrewarm(python: string, env: NodeJS.ProcessEnv): void {
  if (prewarmed) return;
  let child: ChildProcess;
  try {
    child = spawn(python, ['-c', BOOTSTRAP], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch {
    return; // a bad interpreter name: runPip reports it when it spawns pip itself
  }
  child.on('error', () => undefined); // likewise
  child.stdin?.on('error', () => undefined);
  // Waiting for its arguments must not keep tufpip running (a refused input exits at once).
  setRef(child, false);
  const p: Prewarmed = { python, env, child };
  prewarmed = p;
  process.once('exit', () => {
    if (prewarmed === p) child.kill('SIGKILL');
  });
}

/**
 * The prewarmed interpreter when it is `python` with exactly `env` and still waiting; it then
 * runs pip with `args` (written to its stdin). Otherwise undefined (and it is stopped).
 */
export function takePrewarmedPip(python: string, env: NodeJS.ProcessEnv, args: string[]): ChildProcess | undefined {
  const p = prewarmed;
  prewarmed = undefined;
  if (!p) return undefined;
  const same =
    p.python === python &&
    p.child.exitCode === null &&
    p.child.signalCode === null &&
    p.child.pid !== undefined &&
    Object.keys(p.env).length === Object.keys(env).length &&
    Object.entries(env).every(([k, v]) => p.env[k] === v);
  if (!same) {
    p.child.kill('SIGKILL');
    return undefined;
  }
  setRef(p.child, true);
  p.child.stdin!.end(JSON.stringify(args) + '\n');
  return p.child;
}

/** Whether the child and its pipes keep the event loop alive. */
function setRef(child: ChildProcess, ref: boolean): void {
  for (const h of [child, child.stdin, child.stdout, child.stderr] as unknown as ({ ref?(): void; unref?(): void } | null)[]) {
    if (ref) h?.ref?.();
    else h?.unref?.();
  }
}

/** Options of the client CLI that take a value (skipped when looking for the command). */
const VALUE_OPTIONS = new Set(['--data-dir']);

/**
 * What `tufpip ARGV` will run pip with, read ahead of the CLI parser: the command is `fetch` or
 * `install` (not asking for help) and the interpreter is `--python X` or `python3`. Only a hint:
 * `takePrewarmedPip` uses the interpreter only if it is what the parsed command chose.
 */
export function prewarmHint(argv: string[], defaultPython: string): string | undefined {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  if (args.some((a) => a === '--help' || a === '-h' || a === '--version')) return undefined;
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (VALUE_OPTIONS.has(args[i])) i++;
    else if (!args[i].startsWith('-')) {
      command = args[i];
      break;
    }
  }
  if (command !== 'fetch' && command !== 'install' && command !== 'lock') return undefined;
  let python = defaultPython;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--python' && i + 1 < args.length) python = args[++i];
    else if (args[i].startsWith('--python=')) python = args[i].slice('--python='.length);
  }
  return python;
}
