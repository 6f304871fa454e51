// IndexClient against a real `tufpip-repo` repository served on loopback: the honest path
// (refresh, lookup with who vouched, download, fetchBytes, verifyLocalFile), the warm refresh
// downloading only timestamp.json, and refusals (not signed, tampered file, untrusted index,
// plain HTTP off loopback).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { IndexClient, ClientError, TrustStore } from '../client/index.js';
import { makeRepo, serve, type TestRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';
import { sha256 } from './helpers/hash.js';


describe('IndexClient (library API)', () => {
  let repo: TestRepo;
  let server: RunningServer;
  let dataDir: string;
  const wheel = 'packages/alpha/alpha-1.0-py3-none-any.whl';

  before(async () => {
    repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }, { name: 'beta', version: '2.0' }] });
    server = await serve(repo.dir);
    dataDir = tmpDir('tufpip-data-');
    await new TrustStore(dataDir).add(server.url, fs.readFileSync(repo.root1));
  });
  after(async () => {
    await server.close();
  });

  async function open(): Promise<IndexClient> {
    return IndexClient.open({ indexUrl: server.url, dataDir });
  }

  it('refreshes, looks up a target and names the role and key that vouched for it', async () => {
    const c = await open();
    try {
      await c.refresh();
      const t = await c.lookup(wheel);
      expect(t.path).to.equal(wheel);
      expect(t.sha256).to.match(/^[0-9a-f]{64}$/);
      expect(t.vouchedBy.kind).to.equal('index');
      expect(t.vouchedBy.role).to.match(/^bin-[0-9a-f]$/);
      expect(t.vouchedBy.threshold).to.equal(1);
      expect(t.vouchedBy.signedBy).to.deep.equal(t.vouchedBy.keyids);
      expect(t.vouchedBy.keyids).to.have.length(1);
    } finally {
      await c.close();
    }
  });

  it('downloads a verified target atomically and reuses a valid copy', async () => {
    const c = await open();
    const dest = path.join(tmpDir(), 'out', 'alpha.whl');
    try {
      const t = await c.download(wheel, dest);
      const bytes = fs.readFileSync(dest);
      expect(sha256(bytes)).to.equal(t.sha256);
      expect(bytes.length).to.equal(t.length);
      const before = c.requests.length;
      await c.download(wheel, dest);
      expect(c.requests.length, 'no request for a valid cached copy').to.equal(before);
      expect(fs.readdirSync(path.dirname(dest))).to.deep.equal(['alpha.whl']);
    } finally {
      await c.close();
    }
  });

  it('fetches a simple page into memory and verifies a local file', async () => {
    const c = await open();
    try {
      const { bytes, target } = await c.fetchBytes('simple/alpha/index.html');
      expect(bytes.toString()).to.contain('alpha-1.0-py3-none-any.whl');
      expect(sha256(bytes)).to.equal(target.sha256);
      const local = path.join(tmpDir(), 'a.whl');
      await c.download(wheel, local);
      expect((await c.verifyLocalFile(wheel, local)).path).to.equal(wheel);
      fs.appendFileSync(local, 'x');
      const err = await c.verifyLocalFile(wheel, local).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ClientError);
      expect((err as ClientError).kind).to.equal('hash-mismatch');
    } finally {
      await c.close();
    }
  });

  it('a second refresh with nothing changed downloads only timestamp.json (and probes the next root)', async () => {
    const first = await open();
    await first.refresh();
    await first.lookup(wheel);
    await first.close();
    const c = await open();
    try {
      await c.refresh();
      await c.lookup(wheel);
      const downloaded = c.requests.filter((r) => r.status === 200).map((r) => path.basename(new URL(r.url).pathname));
      const probes = c.requests.filter((r) => r.status !== 200).map((r) => `${path.basename(new URL(r.url).pathname)} ${r.status}`);
      expect(downloaded).to.deep.equal(['timestamp.json']);
      expect(probes).to.deep.equal(['2.root.json 404']);
    } finally {
      await c.close();
    }
  });

  it('refuses a target no role lists (not-signed)', async () => {
    const c = await open();
    try {
      const err = await c.lookup('packages/alpha/alpha-9.9-py3-none-any.whl').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ClientError);
      expect((err as ClientError).kind).to.equal('not-signed');
      expect((err as ClientError).message).to.contain(server.url);
    } finally {
      await c.close();
    }
  });

  it('refuses an index that is not in the trust store (untrusted-index)', async () => {
    const err = await IndexClient.open({ indexUrl: 'http://127.0.0.1:9/', dataDir }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ClientError);
    expect((err as ClientError).kind).to.equal('untrusted-index');
  });

  it('refuses plain HTTP to a non-loopback host unless allowHttp (insecure-transport)', async () => {
    const root = fs.readFileSync(repo.root1);
    const err = await IndexClient.open({ indexUrl: 'http://pypi.example.org/', dataDir, trustedRoot: root }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ClientError);
    expect((err as ClientError).kind).to.equal('insecure-transport');
    const ok = await IndexClient.open({ indexUrl: 'http://pypi.example.org/', dataDir, trustedRoot: root, allowHttp: true });
    await ok.close();
  });

  it("is the package's main entry: import { IndexClient, ClientError } from 'tufpip'", async () => {
    const name = 'tufpip';
    const mod = (await import(name)) as Record<string, unknown>;
    expect(mod.IndexClient).to.equal(IndexClient);
    expect(mod.ClientError).to.equal(ClientError);
    expect(mod.TrustStore).to.equal(TrustStore);
  });

  it('works with an embedded trusted root instead of the trust store', async () => {
    const c = await IndexClient.open({ indexUrl: server.url, dataDir: tmpDir(), trustedRoot: fs.readFileSync(repo.root1) });
    try {
      await c.refresh();
      expect((await c.lookup(wheel)).path).to.equal(wheel);
    } finally {
      await c.close();
    }
  });
});
