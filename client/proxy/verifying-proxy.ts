// The verifying proxy pip uses as its index (DESIGN.md "Client"): an HTTP server on loopback
// that answers `/simple/...` only with bytes the client library verified against signed TUF
// metadata (length and hashes, TUF spec 5.7.3), and `/packages/...` only from a local file that
// was downloaded and verified into a private cache, and only to requests that carry its per-run
// secret (proxy-secret.ts). Nothing else is ever forwarded: anything that
// cannot be verified gets an error status, and the refusal is recorded with its kind so that the
// CLI can name the attack class. Every file served is recorded with who vouched for it.
import http from 'node:http';
import type net from 'node:net';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { TufpipError } from '../../metadata/errors.js';
import { SIMPLE_INDEX, projectPagePath } from '../../metadata/target-paths.js';
import type { DownloadOptions, VerifiedTarget } from '../lib/api.js';
import { CallQueue } from './call-queue.js';
import { SignatureGapError } from '../lib/client-error.js';
import { closeProjectName, noFileMessage, noProjectMessage, pageListsFile } from './not-on-index.js';
import { otherUserReason } from './peer-uid.js';
import { likelyChoice } from './prefetch-guess.js';
import { offIndexLinks, routeRequest } from './proxy-routes.js';
import { checkProxySecret, newProxySecret } from './proxy-secret.js';
import { scratchWriteError } from './scratch-error.js';
import { httpStatusFor, refusalOf, type Refusal } from '../lib/refusal.js';

/** What the proxy needs of the client library (IndexClient, client/lib/api.ts). */
export interface ProxySource {
  /** Runs the TUF update cycle (TUF spec 5.3-5.6). */
  refresh(): Promise<void>;
  /** The signed target info (length, hashes, who vouched) without downloading it. */
  lookup(targetPath: string): Promise<VerifiedTarget>;
  /** Downloads and verifies a target's bytes (for small targets: simple pages). */
  fetchBytes(targetPath: string): Promise<{ bytes: Uint8Array; target: VerifiedTarget }>;
  /**
   * Downloads a target to `file`, verified (length and hashes) before it is there; a valid copy
   * already at `file` is re-verified against the current metadata and kept.
   */
  download(targetPath: string, file: string, opts?: DownloadOptions): Promise<VerifiedTarget>;
}

/**
 * A source that is still being opened (the client library loading and running its first update
 * cycle): calls wait for it. Lets the proxy, and pip, start first.
 */
export function deferredSource(source: Promise<ProxySource>): ProxySource {
  return {
    refresh: async () => (await source).refresh(),
    lookup: async (p) => (await source).lookup(p),
    fetchBytes: async (p) => (await source).fetchBytes(p),
    download: async (p, f, o) => (await source).download(p, f, o),
  };
}

/** An extra check on a verified package before it is served (the developer-signed policy). */
export type PackageCheck = (project: string, target: VerifiedTarget) => Refusal | undefined;

export interface VerifyingProxyOptions {
  source: ProxySource;
  /** Private directory for verified downloads (created; only verified files ever land here). */
  cacheDir: string;
  /** Loopback host (default 127.0.0.1) and port (default 0: any free port). */
  host?: string;
  port?: number;
  check?: PackageCheck;
  /**
   * Re-run the update cycle when the last one is older than this (a long-running proxy must see
   * new releases and notice a freeze, TUF spec 5.3.10 / 5.4.4). Default: never (one cycle, run
   * by the caller before pip starts).
   */
  refreshIntervalMs?: number;
  log?: (line: string) => void;
  /** Called for each refusal as it happens (pip itself only shows an HTTP status). */
  onRefusal?: (r: Refusal) => void;
  /** Called when the private cache cannot be written (not a refusal: see `localErrors`). */
  onLocalError?: (err: TufpipError) => void;
  /**
   * The first update cycle, when it is still running: requests wait for it, and are all refused
   * if it fails. Lets pip start while the metadata is refreshed. Default: already done.
   */
  ready?: Promise<void>;
  /**
   * Verify in the background the file pip will most likely download from each page it reads
   * (prefetch-guess.ts), when its signed length is at most `maxBytes`. Default: off.
   */
  prefetch?: { maxBytes: number };
  /**
   * The per-run secret every request path must start with (`/<secret>/simple/...`): the proxy
   * fetches with the index's credentials, so only the user who started it (who got its URL) may
   * use it (proxy-secret.ts). Default: a new random one.
   */
  secret?: string;
}

export interface ServedFile {
  project: string;
  filename: string;
  /** The verified local copy in the cache. */
  file: string;
  target: VerifiedTarget;
}

const CONTENT_TYPES: Record<string, string> = { '.whl': 'application/zip', '.zip': 'application/zip', '.gz': 'application/gzip' };

export class VerifyingProxy {
  readonly url: string;
  /** Package files served to pip, by target path. */
  readonly served = new Map<string, ServedFile>();
  /** Simple pages served, by target path. */
  readonly pages = new Map<string, VerifiedTarget>();
  readonly refusals: Refusal[] = [];
  /**
   * Security refusals met while prefetching files pip did not then ask for: nothing refused was
   * served, but the index offered something that failed verification (worth a warning).
   */
  readonly prefetchRefusals: Refusal[] = [];
  /**
   * Local failures (the private cache could not be written, e.g. removed while in use): not
   * refusals of the index; the request is answered 507 and the caller reports the first one.
   */
  readonly localErrors: TufpipError[] = [];

  private readonly opts: VerifyingProxyOptions;
  private readonly server: http.Server;
  /** Calls into the client library, one at a time, pip's requests before prefetching. */
  private readonly calls = new CallQueue();
  private cycle = 0;
  private lastRefresh = Date.now();
  private readonly pageCache = new Map<string, { page: Promise<{ bytes: Uint8Array; target: VerifiedTarget }>; cycle: number }>();
  /** Verified copies in the cache (served or prefetched), by target path, with their cycle. */
  private readonly verified = new Map<string, { file: Promise<ServedFile>; cycle: number }>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly secret: string;
  /** Per connection: why it is refused (another user's), or undefined (peer-uid.ts). */
  private readonly peerChecks = new WeakMap<net.Socket, Promise<string | undefined>>();
  /** Set by close(): no new background work starts. */
  private closing = false;

  private constructor(opts: VerifyingProxyOptions, server: http.Server, origin: string, secret: string) {
    this.opts = opts;
    this.server = server;
    this.secret = secret;
    this.url = `${origin}${secret}/`;
  }

  /** Starts the proxy; the first update cycle is done, or is `opts.ready`. */
  static async start(opts: VerifyingProxyOptions): Promise<VerifyingProxy> {
    // Its failure is reported by each request that waits for it; none may come.
    opts.ready?.catch(() => undefined);
    await fsp.mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });
    let proxy: VerifyingProxy | undefined;
    const server = http.createServer((req, res) => {
      const p = proxy!.handle(req, res).catch((err: unknown) => {
        // A bug, not a refusal: answer 500 and keep serving.
        opts.log?.(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end();
      });
      proxy!.track(p);
    });
    // The owner check (~20 ms of reading /proc/net/tcp here) starts as soon as a client connects,
    // alongside the parsing of its first request.
    server.on('connection', (socket) => proxy?.peerCheck(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as { address: string; port: number };
    const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    proxy = new VerifyingProxy(opts, server, `http://${host}:${addr.port}/`, opts.secret ?? newProxySecret());
    return proxy;
  }

  /** The URL to give pip as --index-url. */
  get indexUrl(): string {
    return `${this.url}simple/`;
  }

  /**
   * Stops accepting, closes every connection and waits until no work is left: background work
   * (prefetching) that started meanwhile is waited for too, and none starts once closing, so the
   * caller may then remove the cache folder without a download still writing into it.
   */
  async close(): Promise<void> {
    this.closing = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /**
   * Verifies the simple pages of projects pip is about to ask for (its top-level requirements) in the
   * background, while pip starts. Only verified bytes are kept; a failure is not a refusal here
   * (pip's own request for the page meets it again and records it).
   */
  prefetchProjects(projects: readonly string[]): void {
    if (this.closing) return;
    for (const project of projects) {
      const t = projectPagePath(project);
      const p = (async () => {
        await this.opts.ready;
        this.prefetchPackageOf(project, await this.verifiedPage(t, true));
      })().catch((err: unknown) => this.notePrefetchRefusal(err, t));
      this.track(p);
    }
  }

  /** Starts verifying the file pip will most likely ask for next from `project`'s page (if enabled). */
  private prefetchPackageOf(project: string, page: { bytes: Uint8Array }): void {
    const max = this.opts.prefetch?.maxBytes;
    if (max === undefined || this.closing) return;
    const filename = likelyChoice(Buffer.from(page.bytes).toString('utf8'));
    const route = filename ? routeRequest(`/packages/${project}/${encodeURIComponent(filename)}`) : undefined;
    if (route?.kind !== 'package' || this.verified.has(route.target)) return;
    const p = (async () => {
      const t = await this.calls.run(() => this.opts.source.lookup(route.target), { background: true });
      if (t.length <= max) await this.verifiedPackage(route.project, route.filename, route.target, true);
    })().catch((err: unknown) => this.notePrefetchRefusal(err, route.target));
    this.track(p);
  }

  /** pip's own request meets (and records) the same refusal; kept apart in case it never asks. */
  private notePrefetchRefusal(err: unknown, target: string): void {
    const local = scratchWriteError(err, this.opts.cacheDir);
    if (local) return void this.localErrors.push(local);
    const r = refusalOf(err, target);
    const quiet = ['not-signed', 'not-on-index', 'network', 'credentials', 'slow-retrieval'];
    if (!quiet.includes(r.kind)) this.prefetchRefusals.push(r);
  }

  private async maybeRefresh(): Promise<void> {
    await this.opts.ready;
    const every = this.opts.refreshIntervalMs;
    if (every === undefined || Date.now() - this.lastRefresh < every) return;
    await this.calls.run(async () => {
      if (Date.now() - this.lastRefresh < every) return;
      // TUF spec 5.3: a new update cycle; its failure (freeze, rollback...) refuses every request.
      await this.opts.source.refresh();
      this.lastRefresh = Date.now();
      this.cycle += 1;
    });
  }

  private refuse(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal): void {
    this.refusals.push(r);
    this.opts.onRefusal?.(r);
    const status = httpStatusFor(r.kind);
    this.opts.log?.(`${req.method} ${shown(req)} ${status} [${r.kind}] ${r.message}`);
    const body = `tufpip refused ${r.target} [${r.kind}]: ${r.message}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private plain(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
    this.opts.log?.(`${req.method} ${shown(req)} ${status}`);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Checked first: without the secret nothing is answered, not even whether a path exists.
    const secret = checkProxySecret(req.url ?? '/', this.secret);
    if (!secret.ok) {
      const why = `${secret.reason}: this tufpip proxy serves only the user who started it (use the index URL it printed)`;
      return this.plain(req, res, 403, `tufpip refused the request: ${why}\n`);
    }
    const other = await this.peerCheck(req.socket);
    if (other) return this.plain(req, res, 403, `tufpip refused the request: ${other}: this tufpip proxy serves only the user who started it\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.plain(req, res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    const route = routeRequest(secret.rest);
    if (route.kind === 'not-found') return this.plain(req, res, 404, `not found (${route.reason})\n`);
    if (route.kind === 'redirect') {
      const location = `/${this.secret}${route.location}`;
      return this.plain(req, res, 301, `moved to ${route.location}\n`, { location });
    }
    try {
      await this.maybeRefresh();
    } catch (err) {
      return this.refuse(req, res, refusalOf(err, route.target));
    }
    if (route.kind === 'package') return this.servePackage(req, res, route.project, route.filename, route.target);
    return this.servePage(req, res, route.target, route.kind === 'project-page' ? route.project : undefined);
  }

  /** The owner check of a connection (once per connection: pip keeps it alive). */
  private peerCheck(socket: net.Socket): Promise<string | undefined> {
    let check = this.peerChecks.get(socket);
    if (!check) {
      check = otherUserReason(socket.remotePort, socket.localPort);
      this.peerChecks.set(socket, check);
    }
    return check;
  }

  private async servePage(req: http.IncomingMessage, res: http.ServerResponse, targetPath: string, project?: string): Promise<void> {
    let page: { bytes: Uint8Array; target: VerifiedTarget };
    try {
      page = await this.verifiedPage(targetPath);
    } catch (err) {
      const r = refusalOf(err, targetPath);
      return this.refuse(req, res, project && r.kind === 'not-signed' ? await this.noProject(project, targetPath) : r);
    }
    const outside = offIndexLinks(Buffer.from(page.bytes).toString('utf8'));
    if (outside.length) {
      return this.refuse(req, res, {
        target: targetPath,
        kind: 'not-signed',
        message: `the signed page links outside the index (${outside[0]}): pip would fetch that file unverified`,
      });
    }
    this.pages.set(targetPath, page.target);
    if (project) this.prefetchPackageOf(project, page);
    this.opts.log?.(`${req.method} ${shown(req)} 200 (verified ${targetPath})`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.bytes.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : page.bytes);
  }

  private verifiedPage(targetPath: string, background = false): Promise<{ bytes: Uint8Array; target: VerifiedTarget }> {
    const key = `page ${targetPath}`;
    const cached = this.pageCache.get(targetPath);
    if (cached && cached.cycle === this.cycle) {
      if (!background) this.calls.promote(key);
      return cached.page;
    }
    const cycle = this.cycle;
    const page = this.calls.run(() => this.opts.source.fetchBytes(targetPath), { background, key });
    // Cached as a promise, so a prefetch and pip's request share one download; a failure is
    // forgotten (the next request tries again and records the refusal).
    this.pageCache.set(targetPath, { page, cycle });
    page.catch(() => {
      if (this.pageCache.get(targetPath)?.page === page) this.pageCache.delete(targetPath);
    });
    return page;
  }

  private async servePackage(req: http.IncomingMessage, res: http.ServerResponse, project: string, filename: string, targetPath: string): Promise<void> {
    let served: ServedFile;
    try {
      served = await this.verifiedPackage(project, filename, targetPath);
    } catch (err) {
      const local = scratchWriteError(err, this.opts.cacheDir);
      if (local) {
        this.localErrors.push(local);
        this.opts.onLocalError?.(local);
        // 507 (cannot store): not in pip's retry list, so pip stops at once.
        return this.plain(req, res, 507, `tufpip could not store the verified file: ${local.message}\n`);
      }
      return this.refuse(req, res, await this.absentFile(err, project, filename, targetPath));
    }
    const denied = this.opts.check?.(project, served.target);
    if (denied) return this.refuse(req, res, denied);
    this.served.set(targetPath, served);
    this.opts.log?.(`${req.method} ${shown(req)} 200 (verified ${targetPath})`);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(filename)] ?? 'application/octet-stream',
      'content-length': served.target.length,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    // Streamed from the verified file in the private cache, never from the network.
    await new Promise<void>((resolve) => {
      const stream = fs.createReadStream(served.file);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }

  /**
   * "No project P on the index", with the closest name of the verified project list as a hint
   * (when that list cannot be verified, no hint: its own refusal is met where pip asks for it).
   */
  private async noProject(project: string, targetPath: string): Promise<Refusal> {
    const list = await this.verifiedPage(SIMPLE_INDEX).catch(() => undefined);
    const close = list ? closeProjectName(project, Buffer.from(list.bytes).toString('utf8')) : undefined;
    return { target: targetPath, kind: 'not-on-index', message: noProjectMessage(targetPath, project, close) };
  }

  /**
   * The refusal for a package TUF found no (developer-signed) target for. PEP 480 signature gap
   * vs "not on the index": the alarm (missing-developer-signature) stays when the project's
   * verified page links the file or an index-signed bin lists it (the index offers a file its
   * maintainers did not sign); a file the index does not offer at all is only "not on the index".
   */
  private async absentFile(err: unknown, project: string, filename: string, targetPath: string): Promise<Refusal> {
    const r = refusalOf(err, targetPath);
    const unlisted = r.kind === 'not-signed' || (err instanceof SignatureGapError && err.listedBy === undefined);
    if (!unlisted) return r;
    const pageTarget = projectPagePath(project);
    let page: { bytes: Uint8Array };
    try {
      page = await this.verifiedPage(pageTarget);
    } catch (pageErr) {
      const pr = refusalOf(pageErr, pageTarget);
      // No page at all: no such project. A page that fails verification is the bigger news.
      if (pr.kind === 'not-signed') return this.noProject(project, targetPath);
      return pr.kind === 'network' || pr.kind === 'slow-retrieval' ? r : pr;
    }
    if (pageListsFile(Buffer.from(page.bytes).toString('utf8'), filename)) return r;
    return { target: targetPath, kind: 'not-on-index', message: noFileMessage(targetPath, project, filename) };
  }

  /** The verified cached copy of a package, verified once per update cycle. */
  private verifiedPackage(project: string, filename: string, targetPath: string, background = false): Promise<ServedFile> {
    const key = `package ${targetPath}`;
    const known = this.verified.get(targetPath);
    if (known && known.cycle === this.cycle) {
      if (!background) this.calls.promote(key);
      return known.file;
    }
    const file = this.calls.run(async (): Promise<ServedFile> => {
      const local = path.join(this.opts.cacheDir, project, filename);
      // Not recursive: a cache folder removed while in use is an error, not silently re-created.
      await fsp.mkdir(path.dirname(local), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      // TUF spec 5.7.3: download() verifies length and hashes before the file is in place (and
      // re-verifies a copy already there against the current metadata instead of downloading).
      // Not fsynced: the cache is private and every copy in it is verified again before use.
      const target = await this.opts.source.download(targetPath, local, { durable: false });
      return { project, filename, file: local, target };
    }, { background, key });
    // A failure is forgotten: the next request tries again (and records the refusal).
    this.verified.set(targetPath, { file, cycle: this.cycle });
    file.catch(() => {
      if (this.verified.get(targetPath)?.file === file) this.verified.delete(targetPath);
    });
    return file;
  }
}

/** The request path without the secret (for logs: the secret is not printed). */
function shown(req: http.IncomingMessage): string {
  return (req.url ?? '/').replace(/^\/[^/?#]*/, '') || '/';
}
