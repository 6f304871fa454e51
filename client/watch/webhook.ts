// Webhook delivery of watch events: one POST of the event's JSON per event, retried with backoff,
// after the report is printed and the state saved (it never holds the report back). An event not
// delivered stays in the state's outbox for that URL and is sent again by the next run: delivery
// is at least once, and each event carries a stable `id` for the receiver to drop repeats.
import { HttpTransport } from '../../io/http-transport.js';
import { redactUrl } from '../../metadata/redact.js';
import { loadState, outboxKey, webhookName, persistState, withWatchLock, type StoredEvent, type WatchPaths } from './watch-store.js';

export interface WebhookResult {
  delivered: number;
  pending: number;
  /** The last failure, if any (never the URL: it may hold a token). */
  error?: string;
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

/** POSTs one event (through HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as every download: io/http-transport.ts). */
async function post(http: HttpTransport, url: string, e: StoredEvent): Promise<void> {
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    if (i) await new Promise((r) => setTimeout(r, 250 * 2 ** i));
    try {
      const status = await http.post(url, JSON.stringify(e), 'application/json');
      if (status >= 200 && status < 300) return;
      last = new Error(`HTTP ${status}`);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Sends the outbox of `url` in order; stops at the first event that cannot be delivered. */
export async function deliverWebhook(paths: WatchPaths, url: string): Promise<WebhookResult> {
  return withWatchLock(paths, async () => {
    const state = await loadState(paths);
    const key = outboxKey(url);
    const queue = state?.outbox?.[key] ?? [];
    let delivered = 0;
    let error: string | undefined;
    const http = new HttpTransport({ idleTimeoutMs: TIMEOUT_MS, retries: 0 });
    try {
      for (const e of queue) {
        try {
          await post(http, url, e);
          delivered++;
        } catch (err) {
          // Only the message is kept, with the URL (it may hold a token) replaced by its name.
          error = (err as Error).message.split(url).join(webhookName(url)).split(redactUrl(url)).join(webhookName(url));
          break;
        }
      }
    } finally {
      await http.close();
    }
    if (state && delivered) {
      const rest = queue.slice(delivered);
      const outbox = { ...state.outbox };
      if (rest.length) outbox[key] = rest;
      else delete outbox[key];
      await persistState(paths, { ...state, outbox });
    }
    return { delivered, pending: queue.length - delivered, error };
  });
}
