// The verifying proxy against an in-memory source (STYLE.md: a test double implementing the
// library interface; counting calls shows nothing extra was fetched). End-to-end behaviour with
// real tuf-js, a real index and real pip is in client-e2e.test.ts and client-attacks.test.ts.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { VerifiedTarget, Vouch } from '../client/lib/api.js';
import { ClientError, SignatureGapError } from '../client/errors.js';
import { VerifyingProxy, type ProxySource } from '../client/proxy/verifying-proxy.js';
import { ownersOf } from '../client/proxy/peer-uid.js';
import { checkPolicy, type Policy } from '../client/lib/policy.js';
import { until } from './helpers/wait.js';
import { tmpDir } from './helpers/tmp.js';
import { projectListHtml, projectPageHtml } from '../metadata/simple-html.js';

const INDEX_VOUCH: Vouch = { kind: 'index', role: 'bin-3', keyids: ['ab'.repeat(32)], threshold: 1, signedBy: ['ab'.repeat(32)] };
const WHEEL = 'packages/alpha/alpha-1.0-py3-none-any.whl';
const K = '0'.repeat(64);

const waitFor = (cond: () => boolean) => until(cond, 'the condition', 2500);

/** Counts the requests the proxy's HTTP server has received (the event a test waits for). */
function arrivals(proxy: VerifyingProxy): () => number {
  let n = 0;
  (proxy as unknown as { server: http.Server }).server.on('request', () => n++);
  return () => n;
}

class FakeSource implements ProxySource {
  files = new Map<string, Buffer>();
  calls: string[] = [];
  failWith = new Map<string, ClientError>();
  refreshError?: ClientError;
  refreshes = 0;
  /** Resolves pending downloads (to hold them in flight). */
  gate?: Promise<void>;

  target(p: string): VerifiedTarget {
    const bytes = this.files.get(p);
    if (!bytes) throw new ClientError('not-signed', `refused (not-signed) [${p}]: no role of the index lists this file`, { path: p });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { path: p, length: bytes.length, sha256, hashes: { sha256 }, vouchedBy: INDEX_VOUCH };
  }
  async lookup(p: string): Promise<VerifiedTarget> {
    this.calls.push(`lookup ${p}`);
    return this.target(p);
  }
  async refresh(): Promise<void> {
    this.refreshes++;
    if (this.refreshError) throw this.refreshError;
  }
  async fetchBytes(p: string) {
    this.calls.push(`fetchBytes ${p}`);
    const f = this.failWith.get(p);
    if (f) throw f;
    return { bytes: this.files.get(p) ?? new Uint8Array(), target: this.target(p) };
  }
  /** Downloads started and not yet finished. */
  inFlight = 0;
  /** Like IndexClient.download: a valid copy already at `file` is kept (counted as a re-check). */
  async download(p: string, file: string) {
    this.inFlight++;
    try {
      return await this.downloadGated(p, file);
    } finally {
      this.inFlight--;
    }
  }
  private async downloadGated(p: string, file: string) {
    await this.gate;
    const f = this.failWith.get(p);
    if (f) throw f;
    const t = this.target(p);
    const valid = fs.existsSync(file) && createHash('sha256').update(fs.readFileSync(file)).digest('hex') === t.sha256;
    this.calls.push(`${valid ? 'recheck' : 'download'} ${p}`);
    if (!valid) fs.writeFileSync(file, this.files.get(p)!);
    return t;
  }
}

function request(url: string, method = 'GET', agent?: http.Agent): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('verifying proxy (in-memory source)', () => {
  let source: FakeSource;
  let proxy: VerifyingProxy;
  const start = async (extra: Partial<Parameters<typeof VerifyingProxy.start>[0]> = {}) => {
    proxy = await VerifyingProxy.start({ source, cacheDir: path.join(tmpDir('tufpip-proxy-'), 'cache'), ...extra });
  };

  beforeEach(() => {
    source = new FakeSource();
    source.files.set('simple/index.html', Buffer.from('<a href="alpha/">alpha</a>'));
    source.files.set('simple/alpha/index.html', Buffer.from(`<a href="../../${WHEEL}#sha256=00">alpha-1.0-py3-none-any.whl</a>`));
    source.files.set(WHEEL, Buffer.alloc(100_000, 9));
  });
  afterEach(async () => {
    await proxy?.close();
  });

  it('serves the project list and project pages with verified bytes only', async () => {
    await start();
    const list = await request(`${proxy.url}simple/`);
    expect(list.status).to.equal(200);
    expect(list.body.toString()).to.equal('<a href="alpha/">alpha</a>');
    const page = await request(`${proxy.indexUrl}alpha/`);
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.body.equals(source.files.get('simple/alpha/index.html')!)).to.equal(true);
    expect([...proxy.pages.keys()]).to.deep.equal(['simple/index.html', 'simple/alpha/index.html']);
  });

  it('redirects names that are not PEP 503-normalised, and directory URLs without a slash', async () => {
    await start();
    const r1 = await request(`${proxy.url}simple/Alpha_Pkg.X/`);
    expect(r1.status).to.equal(301);
    expect(r1.headers.location).to.equal(`${new URL(proxy.url).pathname}simple/alpha-pkg-x/`);
    const r2 = await request(`${proxy.url}simple/alpha`);
    expect(r2.headers.location).to.equal(`${new URL(proxy.url).pathname}simple/alpha/`);
    expect(source.calls).to.deep.equal([]);
  });

  it('serves a package from the verified cache and records who vouched for it', async () => {
    await start();
    const r = await request(`${proxy.url}${WHEEL}`);
    expect(r.status).to.equal(200);
    expect(r.headers['content-length']).to.equal('100000');
    expect(r.body.equals(source.files.get(WHEEL)!)).to.equal(true);
    const served = proxy.served.get(WHEEL)!;
    expect(served.target.vouchedBy).to.deep.equal(INDEX_VOUCH);
    expect(fs.readFileSync(served.file).equals(source.files.get(WHEEL)!)).to.equal(true);
    // A second request is served from the cache verified in this update cycle.
    await request(`${proxy.url}${WHEEL}`);
    expect(source.calls).to.deep.equal([`download ${WHEEL}`]);
  });

  it('answers HEAD with the signed length and no body', async () => {
    await start();
    const r = await request(`${proxy.url}${WHEEL}`, 'HEAD');
    expect(r.status).to.equal(200);
    expect(r.headers['content-length']).to.equal('100000');
    expect(r.body.length).to.equal(0);
  });

  it('answers 404 "no project NAME on the index" for a project page no role lists, and records the refusal', async () => {
    await start();
    const r = await request(`${proxy.url}simple/evil/`);
    expect(r.status).to.equal(404);
    expect(proxy.refusals).to.have.length(1);
    expect(proxy.refusals[0]).to.include({ target: 'simple/evil/index.html', kind: 'not-on-index' });
    expect(proxy.refusals[0].message).to.contain('no project evil on the index').and.not.contain('did you mean');
    expect(r.body.toString()).to.contain('no project evil on the index');
  });

  it('suggests the closest project of the verified project list for a likely typo', async () => {
    source.files.set('simple/index.html', Buffer.from(projectListHtml(['alpha', 'requests'])));
    await start();
    const r = await request(`${proxy.url}simple/reqeusts/`);
    expect(r.status).to.equal(404);
    expect(proxy.refusals[0].message).to.contain('no project reqeusts on the index; did you mean requests?');
    // Not close to anything: no hint.
    await request(`${proxy.url}simple/zzzzzzzz/`);
    expect(proxy.refusals[1].message).to.not.contain('did you mean');
  });

  describe('a package file TUF finds no target for', () => {
    const LISTED = 'packages/alpha/alpha-2.0-py3-none-any.whl';
    const gap = (p: string, listedBy?: string) =>
      new SignatureGapError(`refused (missing-developer-signature) [${p}]: project alpha is developer-signed and its maintainers did not sign this file: the index may be compromised`, { path: p, listedBy });
    beforeEach(() => {
      // The verified page offers 1.0 and 2.0; the index has no target for 2.0.
      source.files.set('simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: 'alpha-1.0-py3-none-any.whl', sha256: K }, { filename: 'alpha-2.0-py3-none-any.whl', sha256: K }])));
    });

    it('is "not on the index" (404) when the verified page does not list it, even in a developer-signed project', async () => {
      const absent = 'packages/alpha/alpha-9.9-py3-none-any.whl';
      source.failWith.set(absent, gap(absent));
      await start();
      const r = await request(`${proxy.url}${absent}`);
      expect(r.status).to.equal(404);
      expect(proxy.refusals[0]).to.include({ kind: 'not-on-index', target: absent });
      expect(proxy.refusals[0].message).to.contain('project alpha has no file alpha-9.9-py3-none-any.whl on the index').and.not.contain('compromised');
    });

    it('keeps the alarm (403 missing-developer-signature) when the verified page lists it: a real signature gap', async () => {
      source.failWith.set(LISTED, gap(LISTED));
      await start();
      const r = await request(`${proxy.url}${LISTED}`);
      expect(r.status).to.equal(403);
      expect(proxy.refusals[0].kind).to.equal('missing-developer-signature');
      expect(proxy.refusals[0].message).to.contain('the index may be compromised');
    });

    it('keeps the alarm when an index-signed bin lists it, whatever the page says', async () => {
      const sneaked = 'packages/alpha/alpha-6.6-py3-none-any.whl';
      source.failWith.set(sneaked, gap(sneaked, 'bin-3'));
      await start();
      expect((await request(`${proxy.url}${sneaked}`)).status).to.equal(403);
      expect(proxy.refusals[0].kind).to.equal('missing-developer-signature');
    });

    it('is "no project NAME on the index" when the project has no page at all', async () => {
      await start();
      const r = await request(`${proxy.url}packages/nosuch/nosuch-1.0-py3-none-any.whl`);
      expect(r.status).to.equal(404);
      expect(proxy.refusals[0].kind).to.equal('not-on-index');
      expect(proxy.refusals[0].message).to.contain('no project nosuch on the index');
    });

    it('stays not-signed (the index page and its targets disagree) when the page of a project without developer keys lists it', async () => {
      await start();
      const r = await request(`${proxy.url}${LISTED}`);
      expect(r.status).to.equal(404);
      expect(proxy.refusals[0].kind).to.equal('not-signed');
    });
  });

  describe('per-run secret', () => {
    const origin = () => new URL(proxy.url).origin;

    it('is in the URL it gives out: 32 random bytes as one path segment, different every run', async () => {
      await start();
      const first = new URL(proxy.url).pathname;
      expect(first).to.match(/^\/[A-Za-z0-9_-]{43}\/$/);
      expect(proxy.indexUrl).to.equal(`${proxy.url}simple/`);
      await proxy.close();
      await start();
      expect(new URL(proxy.url).pathname).to.not.equal(first);
    });

    it('answers 403 saying why to a request without it, and never reaches the source', async () => {
      await start();
      for (const p of ['/simple/', `/${WHEEL}`, '/simple/alpha/', '/', '']) {
        const r = await request(`${origin()}${p}`);
        expect(r.status, p).to.equal(403);
        expect(r.body.toString(), p).to.contain('missing proxy secret').and.to.contain('serves only the user who started it');
      }
      expect(source.calls).to.deep.equal([]);
      expect(proxy.refusals).to.deep.equal([]);
    });

    it('answers 403 to a wrong secret, even one differing in a single character or only in length', async () => {
      await start();
      const good = new URL(proxy.url).pathname.slice(1, -1);
      const flipped = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
      for (const bad of [flipped, good.slice(0, -1), `${good}x`, 'x']) {
        const r = await request(`${origin()}/${bad}/simple/`);
        expect(r.status, bad).to.equal(403);
        expect(r.body.toString()).to.contain('wrong proxy secret');
      }
      expect(source.calls).to.deep.equal([]);
      expect((await request(`${proxy.url}simple/`)).status).to.equal(200);
    });

    it("answers 403 to another local user's connection even with the right secret (Linux: /proc/net/tcp owner)", async function () {
      if (process.getuid?.() !== 0 || !fs.existsSync('/proc/net/tcp')) this.skip(); // needs root to act as another user
      await start();
      const script = `require('http').get(process.argv[1], (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(r.statusCode + ' ' + b)); })`;
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, `${proxy.url}simple/`], { uid: 65534, gid: 65534, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('error', reject);
        child.on('close', () => resolve(stdout));
      });
      expect(out).to.match(/^403 /);
      expect(out).to.contain('connection from another local user (uid 65534)');
      expect(source.calls).to.deep.equal([]);
      // The user who started it, same URL: served.
      expect((await request(`${proxy.url}simple/`)).status).to.equal(200);
    });

    it('reads the owner of the client end of a connection from a /proc/net/tcp table', () => {
      const table = [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:A000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 20 4 30 10 -1',
        '   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1',
        '   2: 0100007F:A001 0100007F:1F90 06 00000000:00000000 00:00000000 00000000  1001        0 0 1 0 20 4 30 10 -1',
      ].join('\n');
      expect(ownersOf(table, 0xa000, 8080)).to.deep.equal([1000]); // the client's end, not ours
      expect(ownersOf(table, 0xa001, 8080)).to.deep.equal([]); // TIME_WAIT: no longer a connection
    });

    it('leaves the secret out of its request log', async () => {
      const lines: string[] = [];
      await start({ log: (l) => lines.push(l) });
      await request(`${proxy.url}simple/`);
      await request(`${proxy.url}${WHEEL}`);
      const secret = new URL(proxy.url).pathname.slice(1, -1);
      expect(lines.join('\n')).to.contain('GET /simple/ 200').and.not.contain(secret);
    });
  });

  const refusals: Record<string, { kind: ClientError['kind']; status: number }> = {
    'tampered file': { kind: 'hash-mismatch', status: 403 },
    'expired metadata': { kind: 'freeze', status: 403 },
    'unreachable index': { kind: 'network', status: 502 },
  };
  for (const [name, c] of Object.entries(refusals)) {
    it(`refuses a package on ${name} (${c.kind} -> ${c.status}) and forwards no byte of it`, async () => {
      source.failWith.set(WHEEL, new ClientError(c.kind, `refused (${c.kind}) [${WHEEL}]: test`));
      await start();
      const r = await request(`${proxy.url}${WHEEL}`);
      expect(r.status).to.equal(c.status);
      expect(r.body.toString()).to.match(new RegExp(`\\[${c.kind}\\]`));
      expect(r.body.includes(Buffer.alloc(16, 9))).to.equal(false);
      expect(proxy.refusals.map((x) => x.kind)).to.deep.equal([c.kind]);
      expect(proxy.served.size).to.equal(0);
    });
  }

  it('downloads a package once when pip asks for it concurrently', async () => {
    let open!: () => void;
    source.gate = new Promise((r) => (open = r));
    await start();
    const arrived = arrivals(proxy);
    const all = Promise.all([1, 2, 3, 4].map(() => request(`${proxy.url}${WHEEL}`)));
    await waitFor(() => arrived() === 4 && source.inFlight === 1); // all four asked while the download is held
    open();
    const rs = await all;
    for (const r of rs) expect(r.body.equals(source.files.get(WHEEL)!)).to.equal(true);
    expect(source.calls).to.deep.equal([`download ${WHEEL}`]);
  });

  it('refuses a signed page whose links would take pip outside the index', async () => {
    source.files.set('simple/alpha/index.html', Buffer.from('<a href="https://elsewhere.example/alpha-1.0-py3-none-any.whl">x</a>'));
    await start();
    const r = await request(`${proxy.indexUrl}alpha/`);
    expect(r.status).to.equal(404);
    expect(proxy.refusals[0].message).to.match(/links outside the index/);
  });

  it('applies the developer-signed policy before serving a byte', async () => {
    const policy: Policy = { requireDeveloperSigned: new Set(['alpha']), source: 'test' };
    await start({ check: (project, t) => checkPolicy(policy, project, t) });
    const r = await request(`${proxy.url}${WHEEL}`);
    expect(r.status).to.equal(403);
    expect(proxy.refusals[0].kind).to.equal('missing-developer-signature');
    expect(proxy.served.size).to.equal(0);
  });

  it('never reaches the source for paths outside the served tree', async () => {
    await start();
    for (const p of ['metadata/timestamp.json', 'packages/../metadata/1.root.json', 'packages/alpha/%2e%2e%2fx', 'packages/Alpha/a.whl', 'x']) {
      const r = await request(`${proxy.url}${p}`);
      expect(r.status, p).to.equal(404);
    }
    expect((await request(`${proxy.url}simple/`, 'POST')).status).to.equal(405);
    expect(source.calls).to.deep.equal([]);
  });

  it('re-runs the update cycle when asked to, and refuses everything while it fails', async () => {
    await start({ refreshIntervalMs: 0 });
    expect((await request(`${proxy.url}${WHEEL}`)).status).to.equal(200);
    source.refreshError = new ClientError('freeze', 'refused (freeze) [role timestamp]: timestamp.json is expired');
    const r = await request(`${proxy.url}${WHEEL}`);
    expect(r.status).to.equal(403);
    expect(proxy.refusals.at(-1)!.kind).to.equal('freeze');
    source.refreshError = undefined;
    expect((await request(`${proxy.url}${WHEEL}`)).status).to.equal(200);
    // After a new cycle the cached copy is checked against the new metadata, not downloaded again.
    expect(source.calls.filter((c) => c.startsWith('download'))).to.have.length(1);
    expect(source.calls).to.include(`recheck ${WHEEL}`);
  });

  it('prefetches pages and the file pip will most likely pick, but records only what pip asked for', async () => {
    const page = projectPageHtml('alpha', [
      { filename: 'alpha-0.9-py3-none-any.whl', sha256: K },
      { filename: 'alpha-1.0-py3-none-any.whl', sha256: K },
      { filename: 'alpha-1.1rc1-py3-none-any.whl', sha256: K },
      { filename: 'alpha-1.0.tar.gz', sha256: K },
    ]);
    source.files.set('simple/alpha/index.html', Buffer.from(page));
    await start({ prefetch: { maxBytes: 1_000_000 } });
    proxy.prefetchProjects(['alpha', 'nosuch']);
    await waitFor(() => source.calls.includes(`download ${WHEEL}`));
    expect(proxy.served.size).to.equal(0);
    expect(proxy.refusals).to.deep.equal([]); // a failed prefetch is not a refusal (pip may never ask)
    const r = await request(`${proxy.url}${WHEEL}`);
    expect(r.body.equals(source.files.get(WHEEL)!)).to.equal(true);
    expect([...proxy.served.keys()]).to.deep.equal([WHEEL]);
    expect(source.calls.filter((c) => c.startsWith('download'))).to.deep.equal([`download ${WHEEL}`]);
  });

  it('close() waits for a background download in flight before it returns', async () => {
    source.files.set('simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: 'alpha-1.0-py3-none-any.whl', sha256: K }])));
    let release!: () => void;
    source.gate = new Promise<void>((r) => (release = r));
    await start({ prefetch: { maxBytes: 1_000_000 } });
    proxy.prefetchProjects(['alpha']);
    await waitFor(() => source.inFlight === 1);
    // The download is released only once the server has stopped (the moment a close() that did
    // not wait for background work would return): close() must return after it finished.
    (proxy as unknown as { server: http.Server }).server.once('close', () => setImmediate(release));
    let inFlightWhenClosed = -1;
    const closing = proxy.close().then(() => (inFlightWhenClosed = source.inFlight));
    await closing;
    expect(inFlightWhenClosed, 'close() returned while a download was writing into the cache').to.equal(0);
  });

  it('close() starts no new background work: a page being verified when it is called prefetches nothing', async () => {
    source.files.set('simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: 'alpha-1.0-py3-none-any.whl', sha256: K }])));
    await start({ prefetch: { maxBytes: 1_000_000 } });
    proxy.prefetchProjects(['alpha']);
    await proxy.close();
    expect(source.calls.filter((c) => c.includes(WHEEL))).to.deep.equal([]);
    expect(source.inFlight).to.equal(0);
  });

  it('does not prefetch a file larger than the limit', async () => {
    source.files.set('simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: 'alpha-1.0-py3-none-any.whl', sha256: K }])));
    await start({ prefetch: { maxBytes: 1000 } });
    await request(`${proxy.indexUrl}alpha/`);
    await waitFor(() => source.calls.includes(`lookup ${WHEEL}`));
    await proxy.close(); // the event: close() returns once the background work (the size check) is done
    expect(source.calls.some((c) => c.startsWith('download'))).to.equal(false);
  });

  it('waits for the first update cycle, and refuses everything when it fails', async () => {
    let fail!: (e: Error) => void;
    const ready = new Promise<void>((_, reject) => (fail = reject));
    ready.catch(() => undefined);
    await start({ ready });
    const arrived = arrivals(proxy);
    const pending = request(`${proxy.indexUrl}alpha/`);
    await waitFor(() => arrived() === 1); // the request waits for the first cycle
    fail(new ClientError('rollback', 'refused (rollback) [role timestamp]: New timestamp version 2 is less than current version 3'));
    const r = await pending;
    expect(r.status).to.equal(403);
    expect(proxy.refusals[0]).to.include({ kind: 'rollback', target: 'simple/alpha/index.html' });
    expect(source.calls).to.deep.equal([]);
  });

  it('closes kept-alive connections when it stops', async () => {
    await start();
    const agent = new http.Agent({ keepAlive: true });
    await request(`${proxy.url}simple/`, 'GET', agent);
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets.length).to.equal(1);
    const closed = new Promise<void>((r) => sockets[0]!.once('close', () => r()));
    await proxy.close();
    await closed;
    agent.destroy();
  });
});
