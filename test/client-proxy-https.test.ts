// Proxies end to end: the real `tufpip` CLI (a child process, as users run it) refreshes and
// downloads from an HTTPS index through a CONNECT proxy named by HTTPS_PROXY, and an IndexClient
// refreshes a plain-HTTP loopback index through HTTP_PROXY. The proxy counts what went through it.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { IndexClient } from '../client/index.js';
import { createSiteServer } from '../repo-tools/commands/serve.js';
import { TufFixture } from './helpers/tuf-fixture.js';
import { selfSignedCert, startHttp, startProxy, type CountingProxy, type Loopback } from './helpers/loopback.js';
import { tufpip } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

describe('client: proxies end to end', () => {
  let fx: TufFixture;
  let proxy: CountingProxy;
  let site: Loopback | undefined;

  beforeEach(async () => {
    fx = new TufFixture();
    fx.addTarget('targets', 'files/a.txt', Buffer.from('hello through a proxy\n'));
    fx.publish();
    proxy = await startProxy();
  });
  afterEach(async () => {
    await site?.close();
    site = undefined;
    await proxy.close();
    await fx.close();
  });

  it('tufpip tuf refresh/download reach an HTTPS index through HTTPS_PROXY (CONNECT tunnel)', async function () {
    const dir = tmpDir('tufpip-tls-');
    const tls = selfSignedCert(dir);
    if (!tls) return this.skip(); // no openssl to make a certificate
    const listener = createSiteServer(fx.site).listeners('request')[0] as http.RequestListener;
    site = await startHttp(listener, { key: tls.key, cert: tls.cert });
    const md = path.join(dir, 'md');
    const env = { ...process.env, HTTPS_PROXY: proxy.url, NO_PROXY: '', no_proxy: '', NODE_EXTRA_CA_CERTS: tls.certFile };
    const init = await tufpip(['tuf', '--metadata-dir', md, 'init', fx.rootFile(1)], { env });
    expect(init.code, init.stderr).to.equal(0);
    const dl = await tufpip(
      ['tuf', '--metadata-dir', md, '--metadata-url', `${site.url}metadata/`, 'download', '--target-name', 'files/a.txt', '--target-base-url', site.url, '--target-dir', path.join(dir, 't')],
      { env },
    );
    expect(dl.code, dl.stderr).to.equal(0);
    expect(fs.readFileSync(path.join(dir, 't', 'files%2Fa.txt'), 'utf8')).to.equal('hello through a proxy\n');
    expect(proxy.tunnels.length).to.be.greaterThan(0);
    expect(new Set(proxy.tunnels)).to.deep.equal(new Set([`127.0.0.1:${site.port}`]));
  });

  it('IndexClient refreshes a plain-HTTP index through HTTP_PROXY; NO_PROXY=127.0.0.1 goes direct', async () => {
    const url = await fx.serve();
    const saved = { http: process.env.HTTP_PROXY, no: process.env.NO_PROXY, noLower: process.env.no_proxy };
    try {
      process.env.HTTP_PROXY = proxy.url;
      delete process.env.no_proxy;
      delete process.env.NO_PROXY;
      const c = await IndexClient.open({ indexUrl: url, dataDir: tmpDir(), trustedRoot: fs.readFileSync(fx.rootFile(1)) });
      await c.refresh();
      await c.close();
      expect(proxy.forwarded).to.include(`${url}metadata/timestamp.json`);
      const before = proxy.forwarded.length;
      process.env.NO_PROXY = '127.0.0.1';
      const d = await IndexClient.open({ indexUrl: url, dataDir: tmpDir(), trustedRoot: fs.readFileSync(fx.rootFile(1)) });
      await d.refresh();
      await d.close();
      expect(proxy.forwarded.length).to.equal(before);
    } finally {
      for (const [k, v] of [['HTTP_PROXY', saved.http], ['NO_PROXY', saved.no], ['no_proxy', saved.noLower]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('through HTTPS_PROXY the certificate must still name the index host (a trusted certificate for another host is refused)', async function () {
    const dir = tmpDir('tufpip-tls-');
    // Trusted by the client (NODE_EXTRA_CA_CERTS) but issued for 127.0.0.2, not the 127.0.0.1 we ask for.
    const tls = selfSignedCert(dir, 'IP:127.0.0.2');
    if (!tls) return this.skip();
    const listener = createSiteServer(fx.site).listeners('request')[0] as http.RequestListener;
    site = await startHttp(listener, { key: tls.key, cert: tls.cert });
    const env = { ...process.env, HTTPS_PROXY: proxy.url, NO_PROXY: '', no_proxy: '', NODE_EXTRA_CA_CERTS: tls.certFile };
    const md = path.join(dir, 'md');
    expect((await tufpip(['tuf', '--metadata-dir', md, 'init', fx.rootFile(1)], { env })).code).to.equal(0);
    const r = await tufpip(['tuf', '--metadata-dir', md, '--metadata-url', `${site.url}metadata/`, 'refresh'], { env });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(proxy.tunnels.length).to.be.greaterThan(0);
  });
});
