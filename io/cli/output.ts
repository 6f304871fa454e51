// Output helpers of both CLIs: JSON for scripts on stdout, plain lines for people, notes on
// stderr. Quiet under --json or --quiet. (Progress bars: io/cli/progress.ts.)
export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function say(flags: OutputFlags, line: string): void {
  if (!flags.json && !flags.quiet) process.stdout.write(line + '\n');
}

export function note(flags: OutputFlags, line: string): void {
  if (!flags.json && !flags.quiet) process.stderr.write(line + '\n');
}
