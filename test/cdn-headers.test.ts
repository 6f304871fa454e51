// Cache-Control of `tufpip-repo serve` per object class (metadata/cache-policy.ts), the same an
// object-store backend stores with each object (storage.ts "Caching"): versioned metadata and
// hash-named targets immutable, timestamp.json and plain names short-lived, errors no-store; the
// repository's config.json `cache` and the serve flags set the short max-ages.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tufpipRepo } from './helpers/cli.js';
import { copyRepo, makeRepo, serve, type TestRepo } from './helpers/repo.js';
import { startServeCli } from './helpers/serve-cli.js';
import { cacheClassOf } from '../metadata/cache-policy.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

async function cacheControl(url: string): Promise<[number, string | null]> {
  const r = await fetch(url);
  await r.arrayBuffer();
  return [r.status, r.headers.get('cache-control')];
}

describe('cache classes and the Cache-Control of tufpip-repo serve', function () {
  this.timeout(120_000);
  let repo: TestRepo;
  before(async () => {
    repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }] });
  });

  it('classifies objects by name: N.role.json and <sha256>.<file> immutable, timestamp.json head, plain names mutable', () => {
    const h = 'a'.repeat(64);
    expect(cacheClassOf('metadata', '3.snapshot.json')).to.equal('immutable');
    expect(cacheClassOf('metadata', '12.bin-00a1.json')).to.equal('immutable');
    expect(cacheClassOf('metadata', 'timestamp.json')).to.equal('head');
    expect(cacheClassOf('targets', `packages/alpha/${h}.alpha-1.0-py3-none-any.whl`)).to.equal('immutable');
    expect(cacheClassOf('targets', `simple/alpha/${h}.index.html`)).to.equal('immutable');
    expect(cacheClassOf('targets', 'packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal('mutable');
    expect(cacheClassOf('targets', 'simple/alpha/index.html')).to.equal('mutable');
    expect(cacheClassOf('targets', `packages/${h}/x.whl`), 'a hash-like folder is not a hash-named file').to.equal('mutable');
  });

  it('serve sends the class of every published object; 404 and redirects are no-store', async () => {
    const s = await serve(repo.dir);
    try {
      const site = path.join(repo.dir, 'site');
      expect(await cacheControl(`${s.url}metadata/timestamp.json`)).to.deep.equal([200, 'public, max-age=60']);
      for (const name of fs.readdirSync(path.join(site, 'metadata'))) {
        if (name === 'timestamp.json') continue;
        expect(await cacheControl(`${s.url}metadata/${name}`), name).to.deep.equal([200, IMMUTABLE]);
      }
      for (const name of fs.readdirSync(path.join(site, 'packages', 'alpha'))) {
        const want = /^[0-9a-f]{64}\./.test(name) ? IMMUTABLE : 'public, max-age=60';
        expect(await cacheControl(`${s.url}packages/alpha/${name}`), name).to.deep.equal([200, want]);
      }
      const hashedPage = fs.readdirSync(path.join(site, 'simple', 'alpha')).find((n) => /^[0-9a-f]{64}\.index\.html$/.test(n))!;
      expect(await cacheControl(`${s.url}simple/alpha/${hashedPage}`)).to.deep.equal([200, IMMUTABLE]);
      expect(await cacheControl(`${s.url}simple/alpha/`)).to.deep.equal([200, 'public, max-age=60']);
      expect(await cacheControl(`${s.url}simple/`)).to.deep.equal([200, 'public, max-age=60']);
      expect(await cacheControl(`${s.url}metadata/99.root.json`)).to.deep.equal([404, 'no-store']);
      const redirect = await fetch(`${s.url}simple/alpha`, { redirect: 'manual' });
      expect([redirect.status, redirect.headers.get('cache-control')]).to.deep.equal([301, 'no-store']);
    } finally {
      await s.close();
    }
  });

  it('config.json `cache` sets the short max-ages; the serve flags override it', async () => {
    const dir = copyRepo(repo.dir);
    const configFile = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(configFile, JSON.stringify({ ...config, cache: { headMaxAge: 30, mutableMaxAge: 120 } }));
    const s = await serve(dir);
    try {
      expect(await cacheControl(`${s.url}metadata/timestamp.json`)).to.deep.equal([200, 'public, max-age=30']);
      expect(await cacheControl(`${s.url}simple/alpha/`)).to.deep.equal([200, 'public, max-age=120']);
    } finally {
      await s.close();
    }
    const cli = await startServeCli(dir, 20_000, ['--timestamp-max-age', '5', '--page-max-age', '7']);
    try {
      expect(await cacheControl(`${cli.url}metadata/timestamp.json`)).to.deep.equal([200, 'public, max-age=5']);
      expect(await cacheControl(`${cli.url}simple/alpha/`)).to.deep.equal([200, 'public, max-age=7']);
    } finally {
      await cli.stop();
    }
  });

  it('refuses a bad cache setting, naming it (config.json and flag)', async () => {
    const dir = copyRepo(repo.dir);
    const configFile = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(configFile, JSON.stringify({ ...config, cache: { headMaxAge: -1 } }));
    const r = await tufpipRepo(['status', dir]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/cache\.headMaxAge must be a whole number of seconds, got -1/);
    const f = await tufpipRepo(['serve', repo.dir, '--port', '0', '--timestamp-max-age', '1.5']);
    expect(f.code).to.equal(2);
    expect(f.stderr).to.match(/--timestamp-max-age takes a whole number of seconds/);
  });
});
