// The client's HTTP fetcher for tuf-js (a `BaseFetcher`), closing three tuf-js 5.0.1 gaps
// (DESIGN.md "Runtime and dependencies"):
// - proxies: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY are honoured (Node 20's fetch ignores them);
// - timeouts: an idle timeout between chunks (and until the response headers), not one deadline for
//   the whole download, so a large wheel on a slow but steady link completes;
// - the length limit from signed metadata is enforced as bytes arrive (and from Content-Length).
// Also: a progress callback, HTTP 403/404 as tuf-js's own DownloadHTTPError (the end of the root
// chain, TUF spec 5.3.3), credentials in the URL sent as Basic auth and never shown.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { BaseFetcher } from 'tuf-js';
import { DownloadError, DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js';
import { proxyEnvFrom, proxyFor, type ProxyEnv } from './proxy-env.js';
import { redactUrl } from './errors.js';
import '../metadata/linear-models.js'; // linear @tufjs/models parsing wherever tuf-js is used

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** No byte arrived for longer than the idle timeout (TUF "slow retrieval"). */
export class SlowRetrievalError extends DownloadError {
  constructor(message: string) {
    super(message);
    this.name = 'SlowRetrievalError';
  }
}

/** The server could not be reached, or the connection broke. */
export class NetworkError extends DownloadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'NetworkError';
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/** Named so that tuf-js's `${error}` rewrap keeps the class name (client/errors.ts). */
function named<E extends Error>(err: E, name: string): E {
  err.name = name;
  return err;
}

export interface FetchRecord {
  url: string;
  status: number;
  bytes: number;
}

export interface HttpFetcherOptions {
  idleTimeoutMs?: number;
  userAgent?: string;
  /** Progress of one URL: bytes received and the expected total. */
  onProgress?: (url: string, received: number, total: number) => void;
  /** Proxy settings; default from process.env. */
  proxyEnv?: ProxyEnv;
  /** Retries after a connection error or HTTP 5xx before any byte was received (default 2). */
  retries?: number;
}

interface Opened {
  body: Readable;
  contentLength?: number;
  record: FetchRecord;
}

export class HttpFetcher extends BaseFetcher {
  /** Every request made, in order (tests and the benchmark count metadata requests with it). */
  readonly log: FetchRecord[] = [];
  private readonly idleTimeoutMs: number;
  private readonly userAgent: string;
  private readonly onProgress?: HttpFetcherOptions['onProgress'];
  private readonly proxyEnv: ProxyEnv;
  private readonly retries: number;
  private readonly dispatchers = new Map<string, Dispatcher>();

  constructor(opts: HttpFetcherOptions = {}) {
    super();
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? 'tufpip';
    this.onProgress = opts.onProgress;
    this.proxyEnv = opts.proxyEnv ?? proxyEnvFrom(process.env);
    this.retries = opts.retries ?? 2;
  }

  /** tuf-js's stream interface (used by nothing in tuf-js 5.0.1 once downloadFile is overridden). */
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const { body } = await this.open(url, Number.MAX_SAFE_INTEGER);
    return Readable.toWeb(body) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  /**
   * Downloads `url` into a temporary file, at most `maxLength` bytes (TUF spec: the length from
   * signed metadata, or the configured maximum for files whose length is not signed), and hands
   * the file to `handler`, which verifies it. The temporary file is removed afterwards.
   */
  override async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const dir = await fsp.mkdtemp(path.join(await fsp.realpath(os.tmpdir()), 'tufpip-dl-'));
    const file = path.join(dir, 'download');
    try {
      const { body, contentLength, record } = await this.open(url, maxLength);
      const total = contentLength ?? maxLength;
      const out = fs.createWriteStream(file);
      let received = 0;
      try {
        const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        for (;;) {
          const next = await this.idle(chunks.next(), url, () => discard(body));
          if (next.done) break;
          received += next.value.length;
          // TUF spec "endless data": never accept more bytes than signed metadata allows.
          if (received > maxLength) {
            discard(body);
            throw named(new DownloadLengthMismatchError(`${redactUrl(url)} sent more than the ${maxLength} bytes signed metadata allows`), 'DownloadLengthMismatchError');
          }
          if (!out.write(next.value)) await once(out, 'drain');
          this.onProgress?.(url, received, total);
        }
      } catch (err) {
        throw this.streamError(err, url);
      } finally {
        await new Promise<void>((resolve) => out.end(() => resolve()));
        record.bytes = received;
      }
      return await handler(file);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  /** Closes idle connections (keep-alive sockets and proxy tunnels). */
  async close(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(all.map((d) => d.close().catch(() => d.destroy())));
  }

  /** Resolves with `p`, or rejects with SlowRetrievalError when it takes longer than the idle timeout. */
  private idle<V>(p: Promise<V>, url: string, onTimeout: () => void): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const timer = setTimeout(() => {
        onTimeout();
        reject(new SlowRetrievalError(`no data from ${redactUrl(url)} for ${this.idleTimeoutMs} ms`));
      }, this.idleTimeoutMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private streamError(err: unknown, url: string): Error {
    if (err instanceof DownloadError) return err;
    const code = (err as { code?: string } | null)?.code;
    if (code === 'UND_ERR_BODY_TIMEOUT') return new SlowRetrievalError(`no data from ${redactUrl(url)} for ${this.idleTimeoutMs} ms`);
    return new NetworkError(`connection to ${redactUrl(url)} broke: ${code ?? (err as Error)?.message ?? String(err)}`, { cause: err });
  }

  private dispatcherFor(target: URL): Dispatcher {
    const proxy = proxyFor(target, this.proxyEnv);
    const key = proxy ? `${target.protocol}${proxy}` : 'direct';
    let d = this.dispatchers.get(key);
    if (!d) {
      // Plain-HTTP targets go through a proxy as absolute-URI requests (what squid and most
      // corporate proxies allow); HTTPS targets through a CONNECT tunnel.
      d = proxy ? new ProxyAgent({ uri: proxy, proxyTunnel: target.protocol === 'https:' }) : new Agent();
      this.dispatchers.set(key, d);
    }
    return d;
  }

  private async open(url: string, maxLength: number): Promise<Opened> {
    let target = new URL(url);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: '*/*' };
    if (target.username || target.password) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    let redirects = 0;
    for (let attempt = 0; ; attempt++) {
      let res: Dispatcher.ResponseData;
      const abort = new AbortController();
      try {
        res = await this.idle(
          request(target, {
            dispatcher: this.dispatcherFor(target),
            method: 'GET',
            headers,
            signal: abort.signal,
            headersTimeout: this.idleTimeoutMs + 1000,
            bodyTimeout: 0, // the idle timeout between chunks is ours (this.idle), not undici's
          }),
          url,
          () => abort.abort(),
        );
      } catch (err) {
        if (err instanceof SlowRetrievalError) throw err;
        if ((err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') throw new SlowRetrievalError(`no response from ${redactUrl(url)} for ${this.idleTimeoutMs} ms`);
        if (attempt < this.retries) {
          await delay(200 * 2 ** attempt);
          continue;
        }
        const code = (err as { code?: string }).code;
        throw new NetworkError(`cannot reach ${redactUrl(url)}: ${code ?? (err as Error).message}`, { cause: err });
      }
      if (res.statusCode !== 200) {
        res.body.resume();
        this.log.push({ url: redactUrl(target.href), status: res.statusCode, bytes: 0 });
        const next = this.redirectTarget(target, res, redirects);
        if (next) {
          // Bytes are verified against signed metadata wherever they come from; credentials stay
          // with their origin, and a redirect never downgrades to plain HTTP on another origin.
          if (next.origin !== target.origin) delete headers.authorization;
          target = next;
          redirects++;
          attempt--;
          continue;
        }
        if (res.statusCode >= 500 && attempt < this.retries) {
          await delay(200 * 2 ** attempt);
          continue;
        }
        // TUF spec 5.3.3: a 403/404 for the next root ends the root chain; tuf-js checks this class.
        throw named(new DownloadHTTPError(`HTTP ${res.statusCode} for ${redactUrl(url)}`, res.statusCode), 'DownloadHTTPError');
      }
      const lengthHeader = res.headers['content-length'];
      const contentLength = typeof lengthHeader === 'string' && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      const record: FetchRecord = { url: redactUrl(target.href), status: 200, bytes: 0 };
      this.log.push(record);
      if (contentLength !== undefined && contentLength > maxLength) {
        discard(res.body);
        throw named(
          new DownloadLengthMismatchError(`${redactUrl(url)} is ${contentLength} bytes, more than the ${maxLength} bytes signed metadata allows`),
          'DownloadLengthMismatchError',
        );
      }
      return { body: res.body, contentLength, record };
    }
  }

  /** Where a 3xx answer sends us, if it may be followed (at most 5; https, or the same origin). */
  private redirectTarget(from: URL, res: Dispatcher.ResponseData, redirects: number): URL | undefined {
    if (![301, 302, 303, 307, 308].includes(res.statusCode) || redirects >= 5) return undefined;
    const location = res.headers.location;
    if (typeof location !== 'string') return undefined;
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      return undefined; // not a URL: reported as the HTTP status it came with
    }
    if (next.username || next.password) return undefined;
    return next.protocol === 'https:' || next.origin === from.origin ? next : undefined;
  }
}

/** Stops reading a response body; the abort error that destroying it emits is expected. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
