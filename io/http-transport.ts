// The HTTP GET both sides download with (no tuf-js here: the tuf-js fetchers over it are
// tuf/fetcher.ts), closing three tuf-js 5.0.1 gaps (DESIGN.md "Runtime and dependencies"):
// - proxies: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY are honoured (Node 20's fetch ignores them);
// - timeouts: an idle timeout between chunks (and until the response headers), not one deadline for
//   the whole download, so a large wheel on a slow but steady link completes (TUF "slow retrieval");
// - the length limit from signed metadata is enforced as bytes arrive (and from Content-Length)
//   (TUF "endless data", spec 5.7.3).
// Also: a progress callback, redirects (at most 5; to https or the same origin), retries of
// connection errors and 5xx before any byte, and credentials sent only to their own origin, never
// shown; a 401/403 says whether credentials were sent and how to give them.
// Transport: node:http / node:https with keep-alive agents; through a proxy, http-proxy-agent
// (absolute-URI requests) and https-proxy-agent (CONNECT tunnels), loaded only when a proxy is
// configured. (undici took ~90 ms to load and several times more CPU per request: `tufpip fetch`
// runs this while pip starts on the same cores, issue 3 "Speed".)
//
// Failures are made by a TransportErrors factory, so that a caller gets its own error classes
// (tuf/fetcher.ts: tuf-js's DownloadError family, which tuf-js's Updater checks for).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { TufpipError } from '../metadata/errors.js';
import { redactUrl } from '../metadata/redact.js';
import { proxyEnvFrom, proxyFor, type ProxyEnv } from './proxy-env.js';
import { authorizationHeader, credentialFromUrl } from './http-auth.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from './idle-timeout.js';

/**
 * Whether an HTTP status means "no such object" for a metadata version: 404, or 403 from an
 * object store anyone may read but not list (it answers 403 for a missing key). tuf-js's Updater
 * takes both as absent for a newer root version (TUF spec 5.3.3).
 */
export function isAbsentStatus(status: number | undefined): boolean {
  return status === 404 || status === 403;
}

/** How each failure of a download is reported (the classes are the caller's). */
export interface TransportErrors {
  /** No byte arrived for longer than the idle timeout (TUF "slow retrieval"). */
  slowRetrieval(message: string): Error;
  /** The server could not be reached, or the connection broke. */
  network(message: string, cause?: unknown): Error;
  /** A final HTTP status other than 200. */
  httpStatus(message: string, status: number): Error;
  /** More bytes than allowed (TUF "endless data"). */
  tooLong(message: string): Error;
}

/** A failure of an HttpTransport without a TransportErrors of its own; `name` tells which. */
export class TransportError extends Error {
  constructor(
    name: 'SlowRetrievalError' | 'NetworkError' | 'DownloadHTTPError' | 'DownloadLengthMismatchError',
    message: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = name;
  }
}

const PLAIN_ERRORS: TransportErrors = {
  slowRetrieval: (m) => new TransportError('SlowRetrievalError', m),
  network: (m, cause) => new TransportError('NetworkError', m, undefined, { cause }),
  httpStatus: (m, status) => new TransportError('DownloadHTTPError', m, status),
  tooLong: (m) => new TransportError('DownloadLengthMismatchError', m),
};

export interface FetchRecord {
  url: string;
  status: number;
  bytes: number;
}

/** Credentials for one origin (scheme://host:port): sent there and nowhere else. */
export interface OriginAuth {
  origin: string;
  /** Authorization header value, when credentials were found. */
  authorization?: string;
  /** Where they came from ("from $VAR"), for a 401/403 message: never the secret. */
  source?: string;
  /** How to give credentials, for a 401/403 message. */
  hint?: string;
}

export interface HttpTransportOptions {
  idleTimeoutMs?: number;
  userAgent?: string;
  /** Progress of one URL: bytes received and the expected total. */
  onProgress?: (url: string, received: number, total: number) => void;
  /** Proxy settings; default from process.env. */
  proxyEnv?: ProxyEnv;
  /** Retries after a connection error or HTTP 5xx before any byte was received (default 2). */
  retries?: number;
  /** Index credentials, per origin. */
  auth?: OriginAuth[];
  /** The error classes of failures; default TransportError. */
  errors?: TransportErrors;
}

export interface Opened {
  body: Readable;
  contentLength?: number;
  record: FetchRecord;
}

export class HttpTransport {
  /** Every request made, in order (tests and the benchmark count metadata requests with it). */
  readonly log: FetchRecord[] = [];
  private readonly idleTimeoutMs: number;
  private readonly userAgent: string;
  private readonly onProgress?: HttpTransportOptions['onProgress'];
  private readonly proxyEnv: ProxyEnv;
  private readonly retries: number;
  private readonly auth: OriginAuth[];
  private readonly agents = new Map<string, http.Agent>();
  private scratch?: Promise<string>;
  private scratchCount = 0;
  private readonly errors: TransportErrors;
  /** The failures this transport made (passed through unchanged, never wrapped again). */
  private readonly own = new WeakSet<object>();

  constructor(opts: HttpTransportOptions = {}) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? 'tufpip';
    this.onProgress = opts.onProgress;
    this.proxyEnv = opts.proxyEnv ?? proxyEnvFrom(process.env);
    this.retries = opts.retries ?? 2;
    this.auth = opts.auth ?? [];
    this.errors = opts.errors ?? PLAIN_ERRORS;
  }

  /**
   * Downloads `url` into a temporary file, at most `maxLength` bytes (TUF spec: the length from
   * signed metadata, or the configured maximum for files whose length is not signed), and hands
   * the file to `handler`, which verifies it. The temporary file is removed afterwards.
   */
  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const file = await this.scratchFile();
    try {
      const { body, contentLength, record } = await this.open(url, maxLength);
      const total = contentLength ?? maxLength;
      const out = fs.createWriteStream(file);
      // A failed write (no space, the scratch directory gone) rejects this download; it must
      // never be an unhandled 'error' event, which would end the process.
      let writeError: Error | undefined;
      out.on('error', (err) => (writeError ??= err));
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
            throw this.fail(this.errors.tooLong(`${redactUrl(url)} sent more than the ${maxLength} bytes signed metadata allows`));
          }
          if (!out.write(next.value)) await once(out, 'drain');
          this.onProgress?.(url, received, total);
        }
      } catch (err) {
        throw writeError ? writeFailed(file, writeError) : this.streamError(err, url);
      } finally {
        await new Promise<void>((resolve) => out.end(() => resolve()));
        record.bytes = received;
      }
      if (writeError) throw writeFailed(file, writeError);
      return await handler(file);
    } finally {
      await fsp.rm(file, { force: true });
    }
  }

  /**
   * A new file name in this fetcher's private temporary directory (made on first use, mode 0700,
   * removed by close()): one directory per fetcher rather than one per download.
   */
  async scratchFile(): Promise<string> {
    this.scratch ??= fsp
      .realpath(os.tmpdir())
      .then((tmp) => fsp.mkdtemp(path.join(tmp, 'tufpip-dl-')))
      .catch((err: unknown) => {
        this.scratch = undefined;
        throw err;
      });
    return path.join(await this.scratch, `${++this.scratchCount}`);
  }

  /** Closes idle connections (keep-alive sockets and proxy tunnels) and removes temporary files. */
  async close(): Promise<void> {
    const scratch = this.scratch;
    this.scratch = undefined;
    if (scratch) await fsp.rm(await scratch.catch(() => ''), { recursive: true, force: true }).catch(() => undefined);
    const all = [...this.agents.values()];
    this.agents.clear();
    for (const a of all) a.destroy();
  }

  /** Resolves with `p`, or rejects with a slow-retrieval error when it takes longer than the idle timeout. */
  private idle<V>(p: Promise<V>, url: string, onTimeout: () => void): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const timer = setTimeout(() => {
        onTimeout();
        reject(this.fail(this.errors.slowRetrieval(`no data from ${redactUrl(url)} for ${this.idleTimeoutMs} ms`)));
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

  /** Marks `err` as made here (see `own`). */
  private fail(err: Error): Error {
    this.own.add(err);
    return err;
  }

  private streamError(err: unknown, url: string): Error {
    if (typeof err === 'object' && err !== null && this.own.has(err)) return err as Error;
    const code = (err as { code?: string } | null)?.code;
    return this.fail(this.errors.network(`connection to ${redactUrl(url)} broke: ${code ?? (err as Error)?.message ?? String(err)}`, err));
  }

  private async agentFor(target: URL): Promise<http.Agent> {
    const proxy = proxyFor(target, this.proxyEnv);
    const key = proxy ? `${target.protocol}${proxy}` : target.protocol;
    let a = this.agents.get(key);
    if (!a) {
      const opts = { keepAlive: true };
      if (!proxy) {
        a = target.protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
      } else if (target.protocol === 'https:') {
        // HTTPS targets through a CONNECT tunnel: the proxy sees only host and port.
        const { HttpsProxyAgent } = await import('https-proxy-agent');
        a = new HttpsProxyAgent(proxy, opts);
      } else {
        // Plain-HTTP targets as absolute-URI requests (what squid and most corporate proxies allow).
        const { HttpProxyAgent } = await import('http-proxy-agent');
        a = new HttpProxyAgent(proxy, opts);
      }
      // A concurrent call may have made one meanwhile: keep one per key.
      const other = this.agents.get(key);
      if (other) {
        a.destroy();
        a = other;
      } else {
        this.agents.set(key, a);
      }
    }
    return a;
  }

  /** Sends a GET (or a POST of `body`); resolves with the response head (the body is still to be read). */
  private async send(target: URL, headers: Record<string, string>, body?: string): Promise<{ response: Promise<http.IncomingMessage>; abort: () => void }> {
    const agent = await this.agentFor(target);
    const options: https.RequestOptions = { method: body === undefined ? 'GET' : 'POST', headers, agent };
    if (target.protocol === 'https:') {
      // The certificate is checked against the URL's host, also through a CONNECT tunnel
      // (https-proxy-agent leaves the TLS servername unset for an IP address, and Node then
      // checks the certificate against "localhost").
      const host = target.hostname.replace(/^\[|\]$/g, '');
      options.checkServerIdentity = (_servername, cert) => tls.checkServerIdentity(host, cert);
    }
    const req = (target.protocol === 'https:' ? https : http).request(target, options);
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      // Kept after the response too: a socket error then surfaces on the body stream instead.
      req.on('error', reject);
    });
    req.end(body);
    return { response, abort: () => req.destroy() };
  }

  /**
   * One POST of `body` (a webhook): through the same proxies, agents and certificate checks as a
   * download, credentials in the URL sent as Basic auth and never shown; no redirect is followed
   * and nothing is retried (the caller retries). Resolves with the status once the answer has
   * been read (and dropped), each step within the idle timeout.
   */
  async post(url: string, body: string, contentType: string): Promise<number> {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw this.fail(this.errors.network(`cannot reach ${redactUrl(url)}: unsupported protocol ${target.protocol}`));
    const headers: Record<string, string> = { 'user-agent': this.userAgent, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) };
    const inUrl = credentialFromUrl(url);
    if (inUrl) {
      headers.authorization = authorizationHeader(inUrl);
      target.username = '';
      target.password = '';
    }
    try {
      const sent = await this.send(target, headers, body);
      const res = await this.idle(sent.response, url, sent.abort);
      res.resume();
      await this.idle(once(res, 'end'), url, () => res.destroy());
      return res.statusCode ?? 0;
    } catch (err) {
      throw this.streamError(err, url);
    }
  }

  /** Sends a GET for `url` (credentials, redirects, retries) and resolves with its 200 response. */
  async open(url: string, maxLength: number): Promise<Opened> {
    let target = new URL(url);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: '*/*' };
    const auth: OriginAuth = { ...this.auth.find((a) => a.origin === target.origin), origin: target.origin };
    const inUrl = credentialFromUrl(url);
    if (inUrl) {
      auth.authorization = authorizationHeader(inUrl);
      auth.source = 'from the URL';
      target.username = '';
      target.password = '';
    }
    if (auth.authorization) headers.authorization = auth.authorization;
    let redirects = 0;
    for (let attempt = 0; ; attempt++) {
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw this.fail(this.errors.network(`cannot reach ${redactUrl(url)}: unsupported protocol ${target.protocol}`));
      let res: http.IncomingMessage;
      try {
        const sent = await this.send(target, headers);
        // TUF "slow retrieval": the response head is also subject to the idle timeout.
        res = await this.idle(sent.response, url, sent.abort);
      } catch (err) {
        if (typeof err === 'object' && err !== null && this.own.has(err)) throw err; // slow retrieval
        if (attempt < this.retries) {
          await delay(200 * 2 ** attempt);
          continue;
        }
        const code = (err as { code?: string }).code;
        throw this.fail(this.errors.network(`cannot reach ${redactUrl(url)}: ${code ?? (err as Error).message}`, err));
      }
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        this.log.push({ url: redactUrl(target.href), status, bytes: 0 });
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
        if (status >= 500 && attempt < this.retries) {
          await delay(200 * 2 ** attempt);
          continue;
        }
        // TUF spec 5.3.3: a 403/404 for the next root ends the root chain (the caller's class).
        throw this.fail(this.errors.httpStatus(`HTTP ${status} for ${redactUrl(url)}${authDetail(status, auth, !!headers.authorization)}`, status));
      }
      const lengthHeader = res.headers['content-length'];
      const contentLength = typeof lengthHeader === 'string' && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      const record: FetchRecord = { url: redactUrl(target.href), status: 200, bytes: 0 };
      this.log.push(record);
      if (contentLength !== undefined && contentLength > maxLength) {
        discard(res);
        throw this.fail(this.errors.tooLong(`${redactUrl(url)} is ${contentLength} bytes, more than the ${maxLength} bytes signed metadata allows`));
      }
      return { body: res, contentLength, record };
    }
  }

  /** Where a 3xx answer sends us, if it may be followed (at most 5; https, or the same origin). */
  private redirectTarget(from: URL, res: http.IncomingMessage, redirects: number): URL | undefined {
    if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || redirects >= 5) return undefined;
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

function writeFailed(file: string, err: Error): TufpipError {
  return new TufpipError('IO', `cannot write the download to ${file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err });
}

/**
 * What a 401/403 means for credentials (the client's error classifier reads "HTTP 401/403 for" as
 * 'credentials'): whether any were sent (and from where), and how to give them.
 */
function authDetail(status: number, auth: OriginAuth, sent: boolean): string {
  if (status !== 401 && status !== 403) return '';
  const what = sent
    ? `the index refused the credentials ${auth.source ?? 'given'}`
    : status === 401
      ? 'the index asks for credentials and none were given'
      : 'access denied, and no credentials were given';
  return `: ${what}${auth.hint ? `; ${auth.hint}` : ''}`;
}

/** Stops reading a response body; the abort error that destroying it emits is expected. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
