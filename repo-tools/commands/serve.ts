// `tufpip-repo serve`: a static file server for site/ (directory URLs serve index.html), so an
// index works with no other software. It serves only what is under site/ and nothing else, with
// the Cache-Control of each object's class (metadata/cache-policy.ts), the same an object-store
// backend sets, so a CDN in front of it caches correctly.
import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { RepoLayout } from '../storage/layout.js';
import { DEFAULT_CACHE_POLICY as cachePolicyDefault, NO_STORE, type CachePolicy } from '../../metadata/cache-policy.js';
import { cacheControlFor } from '../storage/storage.js';
import { cachePolicyOf } from '../storage/layout.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.whl': 'application/zip',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

export interface ServeOptions {
  host?: string;
  port?: number;
  log?: (line: string) => void;
  /** Overrides of the repository's cache policy (config.json `cache`), in seconds. */
  cache?: Partial<CachePolicy>;
}

export interface RunningServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** Maps a URL path to a file under root, or undefined if it would leave root. */
export function resolveUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const p = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  return p === root || p.startsWith(root + path.sep) ? p : undefined;
}

/** The object a served file is (metadata/NAME or a target path), for its cache class. */
function cacheControlOf(root: string, file: string, policy: CachePolicy): string {
  const rel = path.relative(root, file).split(path.sep).join('/');
  return rel.startsWith('metadata/') ? cacheControlFor('metadata', rel.slice('metadata/'.length), policy) : cacheControlFor('targets', rel, policy);
}

export function createSiteServer(site: string, log?: (line: string) => void, policy?: CachePolicy): http.Server {
  const root = path.resolve(site);
  // A symbolic link under site/ is followed only if it resolves inside site/ (found by
  // test/repo-faults-bad-input.test.ts: `ln -s ../keys site/k` served the private keys).
  const realInside = async (file: string): Promise<string | undefined> => {
    const top = await fsp.realpath(root).catch(() => root);
    const real = await fsp.realpath(file).catch(() => undefined);
    return real && (real === top || real.startsWith(top + path.sep)) ? real : undefined;
  };
  return http.createServer((req, res) => {
    const done = (status: number, body?: string) => {
      log?.(`${req.method} ${req.url} ${status}`);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return done(405, 'method not allowed\n');
    const urlPath = (req.url ?? '/').split('?')[0];
    const requested = resolveUnder(root, urlPath);
    if (!requested) return done(404, 'not found\n');
    // Open first, then fstat the open file: its length and its bytes come from the same inode.
    // A stat by name followed by an open by name could mix two files when a publication renames
    // a new timestamp.json or page over the old one in between: a torn response (found by
    // test/repo-faults-concurrency.test.ts: a client refresh failed on truncated JSON).
    const open = async (file: string): Promise<{ fh: fsp.FileHandle; st: fs.Stats } | undefined> => {
      const real = await realInside(file);
      if (!real) return undefined;
      const fh = await fsp.open(real, 'r').catch(() => undefined);
      if (!fh) return undefined;
      const st = await fh.stat().catch(async (err: unknown) => {
        await fh.close();
        throw err;
      });
      return { fh, st };
    };
    void (async () => {
      let served = requested;
      let f = await open(served);
      if (f?.st.isDirectory()) {
        await f.fh.close();
        if (!urlPath.endsWith('/')) {
          log?.(`${req.method} ${req.url} 301`);
          res.writeHead(301, { location: urlPath + '/', 'cache-control': NO_STORE });
          return res.end();
        }
        served = path.join(requested, 'index.html');
        f = await open(served);
      }
      if (!f || !f.st.isFile()) {
        await f?.fh.close();
        return done(404, 'not found\n');
      }
      log?.(`${req.method} ${req.url} 200`);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(served)] ?? 'application/octet-stream',
        'content-length': f.st.size,
        'cache-control': cacheControlOf(root, served, policy ?? cachePolicyDefault),
      });
      if (req.method === 'HEAD') {
        await f.fh.close();
        return res.end();
      }
      const stream = f.fh.createReadStream({ autoClose: true });
      stream.on('error', () => res.destroy());
      res.on('close', () => stream.destroy()); // a client that hangs up: close the file now
      stream.pipe(res);
    })().catch(() => (res.headersSent ? res.destroy() : done(500, 'error\n')));
  });
}

export async function serveRepo(repoDir: string, opts: ServeOptions = {}): Promise<RunningServer> {
  const layout = new RepoLayout(repoDir);
  const config = await layout.loadConfig();
  const server = createSiteServer(layout.site, opts.log, { ...cachePolicyOf(config), ...opts.cache });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as { address: string; port: number };
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
