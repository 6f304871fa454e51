// Webhook delivery of watch events: one POST of the event's JSON per event, retried with backoff,
// after the report is printed and the state saved (it never holds the report back). An event not
// delivered stays in the state's outbox for that URL and is sent again by the next run: delivery
// is at least once, and each event carries a stable `id` for the receiver to drop repeats.
import { loadState, outboxKey, webhookName, persistState, withWatchLock, type StoredEvent, type WatchPaths } from './watch-store.js';

export interface WebhookResult {
  delivered: number;
  pending: number;
  /** The last failure, if any (never the URL: it may hold a token). */
  error?: string;
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

async function post(url: string, e: StoredEvent): Promise<void> {
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    if (i) await new Promise((r) => setTimeout(r, 250 * 2 ** i));
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(e), signal: AbortSignal.timeout(TIMEOUT_MS) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
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
    for (const e of queue) {
      try {
        await post(url, e);
        delivered++;
      } catch (err) {
        // fetch's own messages name no URL; a cause may, so only the message is kept.
        error = (err as Error).message.split(url).join(webhookName(url));
        break;
      }
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
