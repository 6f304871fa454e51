// Output helpers shared by the CLI commands: JSON for scripts, plain lines for people, a
// progress bar on a terminal only (quiet under --json or when stderr is not a TTY).
import cliProgress from 'cli-progress';

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

/** A progress callback that draws a bar on an interactive stderr, and nothing otherwise. */
export function progressBar(flags: OutputFlags): { update: (done: number, total: number, phase?: string) => void; stop: () => void } {
  if (flags.json || flags.quiet || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  let phase = '';
  return {
    update(done, total, p = '') {
      if (!bar || p !== phase) {
        bar?.stop();
        phase = p;
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: `${p.padEnd(9)} [{bar}] {value}/{total} {eta_formatted}`, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(total, done);
      }
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}
