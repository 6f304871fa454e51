// Progress bars (cli-progress) on an interactive terminal; nothing at all under --json, --quiet or
// when the stream is not a TTY (pipes, CI logs): downloadProgress (one bar per file being
// downloaded, `tufpip`) and progressBar (one bar per phase of a long command, `tufpip-repo`).
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import type { OutputFlags } from './output.js';

// Loaded only when bars are drawn: every `tufpip fetch` would otherwise pay for it before pip
// starts (issue 3 "Speed"), and most runs are not on a terminal.
const loadCliProgress = (): typeof cliProgressTypes => createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;

export interface DownloadProgress {
  /** FetchOptions.onProgress: bytes of one target path so far, and its expected total. */
  onProgress: (path: string, received: number, total: number) => void;
  /** Removes finished bars' cursor state; call once when downloads are over. */
  stop: () => void;
  /** Whether bars are drawn at all. */
  readonly active: boolean;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export function downloadProgress(flags: OutputFlags, stream: Stream = process.stderr): DownloadProgress {
  if (flags.json || flags.quiet || !stream.isTTY) return { onProgress: () => undefined, stop: () => undefined, active: false };
  const cliProgress = loadCliProgress();
  const multi = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: '{name} [{bar}] {percentage}% {value}/{total} bytes',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgressTypes.SingleBar>();
  const label = (p: string) => {
    const base = p.slice(p.lastIndexOf('/') + 1);
    return base.length > 40 ? `${base.slice(0, 37)}...` : base.padEnd(40);
  };
  return {
    active: true,
    onProgress(p, received, total) {
      let bar = bars.get(p);
      if (!bar) {
        bar = multi.create(total, 0, { name: label(p) });
        bars.set(p, bar);
      }
      bar.setTotal(total);
      bar.update(received);
    },
    stop() {
      multi.stop();
    },
  };
}

/** A progress callback that draws a bar on an interactive stderr, and nothing otherwise. */
export function progressBar(flags: OutputFlags): { update: (done: number, total: number, phase?: string) => void; stop: () => void } {
  if (flags.json || flags.quiet || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const cliProgress = loadCliProgress();
  let bar: cliProgressTypes.SingleBar | undefined;
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
