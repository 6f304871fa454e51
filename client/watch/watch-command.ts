// `tufpip watch run`: one cycle (cron) or one every --every DURATION. Per watched index: the run
// (watch-run.ts), then the report on stdout (text, or JSON lines with --json), the Atom feed
// (--atom), and only then the webhook (--webhook): a slow or broken receiver never holds back the
// report, and what it missed is sent by the next run.
import { TufpipError } from '../../metadata/errors.js';
import { vouchText } from '../../metadata/watch-events.js';
import { TrustStore, type TrustedIndex } from '../lib/trust-store.js';
import { defaultDataDir } from '../lib/data-dir.js';
import { resolveIndex } from '../commands/open-index.js';
import { writeAtomFeed } from './atom-feed.js';
import { deliverWebhook } from './webhook.js';
import { watchRunIndex, type WatchRunResult } from './watch-run.js';
import { loadState, loadSubscriptions, watchPaths, webhookName } from './watch-store.js';
import { WatchExit } from './watch-exit.js';

export interface WatchCommandOptions {
  index?: string;
  dataDir?: string;
  allowHttp?: boolean;
  json?: boolean;
  quiet?: boolean;
  atom?: string;
  webhook?: string;
  expiryDays?: number;
  every?: string;
}

/** `30s`, `5m`, `1h`, `1d` -> ms. */
export function parseEvery(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(s.trim());
  if (!m || Number(m[1]) <= 0) throw new TufpipError('USAGE', `--every takes a duration like 30s, 5m, 1h: got ${JSON.stringify(s)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

async function watchedIndexes(opts: WatchCommandOptions): Promise<TrustedIndex[]> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  if (opts.index) return [(await resolveIndex({ index: opts.index, dataDir, allowHttp: opts.allowHttp })).index];
  const out: TrustedIndex[] = [];
  for (const i of await new TrustStore(dataDir).list()) if (await loadSubscriptions(watchPaths(i))) out.push(i);
  if (!out.length) throw new TufpipError('USAGE', "nothing is watched: run 'tufpip watch add --index NAME [PROJECT|PREFIX*...]' first");
  return out;
}

function report(opts: WatchCommandOptions, r: WatchRunResult): void {
  if (opts.json) {
    for (const e of r.events) process.stdout.write(JSON.stringify(e) + '\n');
    return;
  }
  if (opts.quiet && !r.alarms) return;
  const out = (l: string): void => void process.stdout.write(l + '\n');
  for (const e of r.events) {
    const vouch = e.vouch && e.kind !== 'file-added' ? ` [${vouchText(e.vouch)}]` : '';
    out(`${e.alarm ? 'ALARM ' : '      '}${e.kind.padEnd(19)} ${e.message}${vouch}`);
  }
  if (opts.quiet) return;
  if (r.refused) return out(`${r.index}: update refused; nothing else checked`);
  const walked = r.baseline
    ? `baseline recorded at snapshot ${r.snapshotVersion} (changes are reported from the next run on)`
    : r.walked
      ? `snapshots ${r.lookedBackTo}..${r.snapshotVersion} checked (${r.walked} new)`
      : `nothing new since snapshot ${r.snapshotVersion}`;
  out(`${r.index}: ${walked}; ${r.events.length} event(s), ${r.alarms} alarm(s); ${r.requests} request(s), ${r.bytes} bytes`);
}

/** One cycle over the chosen indexes; returns the exit code (0 no alarm, 1 alarms, 2 verification errors). */
async function cycle(opts: WatchCommandOptions): Promise<{ code: 0 | 1 | 2; message?: string }> {
  let code: 0 | 1 | 2 = 0;
  let message: string | undefined;
  for (const index of await watchedIndexes(opts)) {
    let r: WatchRunResult;
    try {
      r = await watchRunIndex(index, { dataDir: opts.dataDir, allowHttp: opts.allowHttp, expiryDays: opts.expiryDays, webhook: opts.webhook, report: (x) => report(opts, x) });
    } catch (err) {
      if (err instanceof TufpipError && err.code === 'VERIFY_FAILED') {
        code = 2;
        message = `${index.name}: history could not be verified: ${err.message}`;
        process.stderr.write(`tufpip: ${message}\n`);
        continue;
      }
      throw err;
    }
    const paths = watchPaths(index);
    if (opts.atom) {
      const state = await loadState(paths);
      await writeAtomFeed(opts.atom, `tufpip watch: ${index.url}`, `urn:tufpip:watch:${encodeURIComponent(index.url)}`, state?.feed ?? r.events, new Date().toISOString());
    }
    if (opts.webhook) {
      const w = await deliverWebhook(paths, opts.webhook);
      if (w.error) process.stderr.write(`tufpip: webhook ${webhookName(opts.webhook)}: ${w.delivered} delivered, ${w.pending} kept for the next run (${w.error})\n`);
    }
    if (r.refused) {
      code = 2;
      message = `${index.name}: ${r.refused}`;
    } else if (r.alarms && code === 0) {
      code = 1;
      message = `${index.name}: ${r.alarms} alarm(s)`;
    }
  }
  return { code, message };
}

export async function runWatchCommand(opts: WatchCommandOptions): Promise<void> {
  if (opts.expiryDays !== undefined && !(opts.expiryDays >= 0)) throw new TufpipError('USAGE', `--expiry-days takes a number of days >= 0, got ${opts.expiryDays}`);
  if (opts.webhook) {
    let u: URL;
    try {
      u = new URL(opts.webhook);
    } catch {
      throw new TufpipError('USAGE', `--webhook takes an http(s) URL, got ${JSON.stringify(opts.webhook)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TufpipError('USAGE', `--webhook takes an http(s) URL, got ${u.protocol}`);
  }
  if (!opts.every) {
    const { code, message } = await cycle(opts);
    if (code) throw new WatchExit(code, message ?? 'watch found problems');
    return;
  }
  const period = parseEvery(opts.every);
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stopping) {
      try {
        await cycle(opts);
      } catch (err) {
        // A failed cycle (network down) is reported; the next one tries again.
        process.stderr.write(`tufpip: watch cycle failed: ${(err as Error).message}\n`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((r) => (timer = setTimeout(r, period)))]);
      clearTimeout(timer);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
