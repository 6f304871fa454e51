// io/http-transport.ts (under tuf/fetcher.ts) closes tuf-js 5.0.1's fetcher gaps. Each gap is shown on stock tuf-js
// (DefaultFetcher: Node's fetch, a whole-download deadline) and then closed, against real loopback
// servers: proxies (HTTP_PROXY / NO_PROXY, a counting forward proxy), the idle timeout between
// chunks (a slow but steady download succeeds, a stalled one is slow-retrieval), the length limit,
// progress, HTTP errors as tuf-js's own DownloadHTTPError, credentials never shown.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import type http from 'node:http';
import { DefaultFetcher } from 'tuf-js/dist/fetcher.js';
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js';
import { HttpFetcher, SlowRetrievalError, NetworkError } from '../tuf/fetcher.js';
import { classifyTufError } from '../client/errors.js';
import { proxyEnvFrom } from '../io/proxy-env.js';
import { startHttp, startProxy, type Loopback } from './helpers/loopback.js';

const BODY = Buffer.alloc(64 * 1024, 7);

function fixed(body: Buffer = BODY): http.RequestListener {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  };
}

/** Sends `chunks` chunks of `size` bytes, one every `everyMs` (steady), no Content-Length. */
function trickle(chunks: number, size: number, everyMs: number): http.RequestListener {
  return (_req, res) => {
    res.writeHead(200);
    let n = 0;
    const t = setInterval(() => {
      if (res.destroyed) return clearInterval(t);
      res.write(Buffer.alloc(size, 1));
      if (++n === chunks) {
        clearInterval(t);
        res.end();
      }
    }, everyMs);
    res.on('close', () => clearInterval(t));
  };
}

describe('client: HTTP fetcher (proxy, idle timeout, length, progress, errors)', () => {
  const servers: Loopback[] = [];
  const saved = { ...process.env };
  async function server(h: http.RequestListener): Promise<Loopback> {
    const s = await startHttp(h);
    servers.push(s);
    return s;
  }
  afterEach(async () => {
    for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('proxies', () => {
    it('stock tuf-js (Node 20 fetch) ignores HTTP_PROXY and connects directly (the gap)', async () => {
      const origin = await server(fixed());
      const proxy = await startProxy();
      servers.push(proxy);
      process.env.HTTP_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      const bytes = await new DefaultFetcher().downloadBytes(`${origin.url}metadata/timestamp.json`, 1e6);
      expect(bytes.length).to.equal(BODY.length);
      expect(proxy.forwarded.length + proxy.tunnels.length).to.equal(0);
    });

    it('sends plain-HTTP requests through HTTP_PROXY from the environment (absolute-URI forward)', async () => {
      const origin = await server(fixed());
      const proxy = await startProxy();
      servers.push(proxy);
      process.env.HTTP_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      const f = new HttpFetcher();
      try {
        const bytes = await f.downloadBytes(`${origin.url}metadata/timestamp.json`, 1e6);
        expect(bytes.length).to.equal(BODY.length);
        expect(proxy.forwarded).to.deep.equal([`${origin.url}metadata/timestamp.json`]);
      } finally {
        await f.close();
      }
    });

    it('NO_PROXY (host, host:port, suffix, *) bypasses the proxy', async () => {
      const origin = await server(fixed());
      const proxy = await startProxy();
      servers.push(proxy);
      for (const noProxy of ['127.0.0.1', `127.0.0.1:${origin.port}`, 'example.org, 127.0.0.1', '*']) {
        const f = new HttpFetcher({ proxyEnv: proxyEnvFrom({ http_proxy: proxy.url, no_proxy: noProxy }) });
        try {
          await f.downloadBytes(`${origin.url}x`, 1e6);
        } finally {
          await f.close();
        }
      }
      const f = new HttpFetcher({ proxyEnv: proxyEnvFrom({ http_proxy: proxy.url, no_proxy: `127.0.0.1:1,localhost` }) });
      try {
        await f.downloadBytes(`${origin.url}y`, 1e6);
      } finally {
        await f.close();
      }
      expect(proxy.forwarded, 'only the request whose NO_PROXY did not match').to.deep.equal([`${origin.url}y`]);
    });

    it('an unreachable proxy is a network error naming no credentials', async () => {
      const origin = await server(fixed());
      const f = new HttpFetcher({ proxyEnv: proxyEnvFrom({ http_proxy: 'http://user:secret@127.0.0.1:1/' }), retries: 0 });
      try {
        const err = await f.downloadBytes(`${origin.url}x`, 1e6).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(NetworkError);
        expect(classifyTufError(err).kind).to.equal('network');
        expect(String((err as Error).message)).to.not.contain('secret');
      } finally {
        await f.close();
      }
    });
  });

  describe('idle timeout between chunks', () => {
    // 24 chunks, one every 40 ms: about a second in all, never 250 ms without data.
    const steady = () => trickle(24, 16 * 1024, 40);

    it('stock tuf-js: fetchTimeout is a deadline for the whole download, so a slow but steady download fails (the gap)', async () => {
      const s = await server(steady());
      const err = await new DefaultFetcher({ timeout: 250 }).downloadBytes(s.url, 1e7).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(Error);
    });

    it('a slow but steady download succeeds with an idle timeout shorter than the whole transfer', async () => {
      const s = await server(steady());
      const f = new HttpFetcher({ idleTimeoutMs: 250 });
      try {
        const bytes = await f.downloadBytes(s.url, 1e7);
        expect(bytes.length).to.equal(24 * 16 * 1024);
      } finally {
        await f.close();
      }
    });

    it('a download that stalls after some bytes is refused as slow-retrieval', async () => {
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(10));
        // ...and nothing more.
      });
      const f = new HttpFetcher({ idleTimeoutMs: 200 });
      try {
        const err = await f.downloadBytes(s.url, 1e6).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(SlowRetrievalError);
        const c = classifyTufError(err, { index: s.url });
        expect(c.kind).to.equal('slow-retrieval');
        expect(c.message).to.contain('no data from');
      } finally {
        await f.close();
      }
    });

    it('a server that never answers is refused as slow-retrieval', async () => {
      const s = await server(() => undefined);
      const f = new HttpFetcher({ idleTimeoutMs: 200 });
      try {
        const err = await f.downloadBytes(s.url, 1e6).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(SlowRetrievalError);
      } finally {
        await f.close();
      }
    });

    it('tuf-js rewraps a stalled snapshot download; it is still classified as slow-retrieval', () => {
      const inner = new SlowRetrievalError('no data from http://127.0.0.1:1/metadata/3.snapshot.json for 200 ms');
      const wrapped = new Error(`Unable to load snapshot metadata error ${inner}`);
      const c = classifyTufError(wrapped, { index: 'http://127.0.0.1:1/' });
      expect(c.kind).to.equal('slow-retrieval');
      expect(c.role).to.equal('snapshot');
    });
  });

  describe('length limit (endless data)', () => {
    it('refuses a Content-Length above the limit without reading the body', async () => {
      const s = await server(fixed());
      const f = new HttpFetcher();
      try {
        const err = await f.downloadBytes(s.url, BODY.length - 1).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(DownloadLengthMismatchError);
        expect(classifyTufError(err).kind).to.equal('endless-data');
      } finally {
        await f.close();
      }
    });

    it('stops reading a chunked body once it passes the limit', async () => {
      const s = await server(trickle(100, 1024, 5));
      const f = new HttpFetcher();
      try {
        const err = await f.downloadBytes(s.url, 10 * 1024).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(DownloadLengthMismatchError);
        expect(f.log[0].bytes).to.be.at.most(11 * 1024);
      } finally {
        await f.close();
      }
    });

    it('accepts a body of exactly the limit', async () => {
      const s = await server(fixed());
      const f = new HttpFetcher();
      try {
        expect((await f.downloadBytes(s.url, BODY.length)).length).to.equal(BODY.length);
      } finally {
        await f.close();
      }
    });
  });

  describe('status codes, retries, progress, credentials', () => {
    it("HTTP 404 and 403 are tuf-js's own DownloadHTTPError (the end of the root chain, TUF spec 5.3.3)", async () => {
      for (const status of [404, 403]) {
        const s = await server((_req, res) => res.writeHead(status).end());
        const f = new HttpFetcher();
        try {
          const err = await f.downloadBytes(`${s.url}metadata/2.root.json`, 1e6).catch((e: unknown) => e);
          expect(err).to.be.instanceOf(DownloadHTTPError);
          expect((err as DownloadHTTPError).statusCode).to.equal(status);
        } finally {
          await f.close();
        }
      }
    });

    it('retries an HTTP 5xx before giving up', async () => {
      let n = 0;
      const s = await server((req, res) => (++n < 3 ? res.writeHead(503).end() : fixed()(req, res)));
      const f = new HttpFetcher({ retries: 2 });
      try {
        expect((await f.downloadBytes(s.url, 1e6)).length).to.equal(BODY.length);
        expect(f.log.map((r) => r.status)).to.deep.equal([503, 503, 200]);
      } finally {
        await f.close();
      }
    });

    it('follows a same-origin redirect, but not one to plain HTTP on another origin', async () => {
      const other = await server(fixed());
      const s = await server((req, res) => {
        if (req.url === '/moved') return res.writeHead(301, { location: '/here' }).end();
        if (req.url === '/away') return res.writeHead(302, { location: `${other.url}x` }).end();
        return fixed()(req, res);
      });
      const f = new HttpFetcher();
      try {
        expect((await f.downloadBytes(`${s.url}moved`, 1e6)).length).to.equal(BODY.length);
        expect(f.log.map((r) => [new URL(r.url).pathname, r.status])).to.deep.equal([['/moved', 301], ['/here', 200]]);
        const err = await f.downloadBytes(`${s.url}away`, 1e6).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(DownloadHTTPError);
        expect((err as DownloadHTTPError).statusCode).to.equal(302);
      } finally {
        await f.close();
      }
    });

    it('reports progress up to the expected total', async () => {
      const s = await server(fixed());
      const seen: Array<[number, number]> = [];
      const f = new HttpFetcher({ onProgress: (_u, r, t) => seen.push([r, t]) });
      try {
        await f.downloadBytes(s.url, 1e6);
        expect(seen.length).to.be.greaterThan(0);
        expect(seen[seen.length - 1]).to.deep.equal([BODY.length, BODY.length]);
        for (let i = 1; i < seen.length; i++) expect(seen[i][0]).to.be.greaterThan(seen[i - 1][0]);
      } finally {
        await f.close();
      }
    });

    it('sends user:password from the URL as Basic auth and never shows it', async () => {
      let auth: string | undefined;
      const s = await server((req, res) => {
        auth = req.headers.authorization;
        res.writeHead(404).end();
      });
      const f = new HttpFetcher();
      try {
        const url = s.url.replace('http://', 'http://alice:s3cret@');
        const err = await f.downloadBytes(`${url}metadata/timestamp.json`, 1e6).catch((e: unknown) => e);
        expect(auth).to.equal(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
        expect((err as Error).message).to.not.contain('s3cret');
        expect(classifyTufError(err, { index: s.url }).message).to.not.contain('s3cret');
        expect(JSON.stringify(f.log)).to.not.contain('s3cret');
      } finally {
        await f.close();
      }
    });
  });
});
