// Process-level guards shared by both CLIs (`tufpip`, `tufpip-repo`): whatever happens, a CLI
// ends with one clear line and a documented exit code, never a Node stack trace.
// - A reader that closes the pipe early (`| head -1`) is not an error: the command finishes its
//   work (a transaction is never cut short because nobody reads its output), the rest of its
//   output is discarded, and it exits with its own code.
// - Any other failure to write the output (disk full, a closed descriptor) is one line on
//   stderr and exit code 1 at the latest: output that was lost is not a success.
// - An error nobody caught prints one line and exits with its code (metadata/errors.ts
//   exitCodeFor). TUFPIP_DEBUG=1 adds the stack trace, for bug reports.
import { describeError, exitCodeFor } from '../../metadata/errors.js';
import { redactUrls } from '../../metadata/redact.js';

let installed = false;
let outputFailed = false;
let pipeClosed = false;

function debugging(): boolean {
  const v = process.env.TUFPIP_DEBUG;
  return !!v && v !== '0';
}

/**
 * Writes `NAME: error: MESSAGE` to stderr (plus the stack under TUFPIP_DEBUG=1), with every URL's
 * credentials redacted whatever produced the message (DESIGN.md: secrets redacted everywhere);
 * never throws.
 */
export function reportError(name: string, err: unknown): void {
  let text = `${name}: error: ${describeError(err)}\n`;
  if (debugging() && err instanceof Error && err.stack) text += `${err.stack}\n`;
  text = redactUrls(text);
  try {
    if (!process.stderr.destroyed) process.stderr.write(text);
  } catch {
    // stderr itself is gone: the exit code is all that is left to report with.
  }
}

function onOutputError(name: string, err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE' || (pipeClosed && err.code === 'ERR_STREAM_DESTROYED')) {
    pipeClosed = true;
    return;
  }
  if (outputFailed) return;
  outputFailed = true;
  reportError(name, new Error(`cannot write the output (${err.code ?? err.message})`));
}

/** Installs the guards once per process, first thing in a CLI entry point. */
export function installCliGuards(name: string): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => onOutputError(name, err));
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') outputFailed = true;
  });
  const fatal = (err: unknown) => {
    reportError(name, err);
    process.exit(exitCodeFor(err));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.on('exit', () => {
    if (outputFailed && !process.exitCode) process.exitCode = 1;
  });
}
