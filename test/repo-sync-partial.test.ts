// `tufpip-repo sync` on both storage backends. A folder of an index-signed index is published in
// one transaction (what a TUF client then gets); a bad file refuses the whole folder. A folder
// holding files of a developer-signed project (PEP 480): files already published with the same
// bytes are no-ops; new files the maintainers did not sign are left out, one line each,
// everything else is published in one transaction and the exit code is 5 ("partial"); `--strict`
// refuses the whole folder (exit 1).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { claim, maintainers, signRelease } from './helpers/pep480-fixture.js';
import { expectOk } from './helpers/repo.js';
import { BACKENDS, copyBackendRepo, makeBackendRepo, publishedTarget, publishedTargets, publishedTimestamp, startIndexReader, useBackends, type BackendRepo, type IndexReader } from './helpers/backends.js';
import { TufClient } from './helpers/tuf-client.js';
import { tmpDir } from './helpers/tmp.js';
import { writeDistFolder, writeSdist, writeWheel } from './helpers/wheels.js';
import { sha256 } from './helpers/hash.js';

/** sha256 of the project's maintainer-signed metadata files, read through the backend. */
async function maintainerBytes(repo: BackendRepo): Promise<Record<string, string>> {
  const names = (await repo.list('metadata/')).filter((n) => n.includes('.project-dev'));
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, sha256((await repo.read(n))!)] as const)));
}

const version = async (repo: BackendRepo) => (JSON.parse((await publishedTimestamp(repo)).toString()) as { signed: { version: number } }).signed.version;

useBackends();

for (const kind of BACKENDS) {
  describe(`repo (${kind}): sync of a folder of an index-signed index`, function () {
    this.timeout(300_000);
    let repo: BackendRepo;
    let reader: IndexReader;

    before(async () => {
      repo = await makeBackendRepo(kind, { bins: 16 });
      reader = await startIndexReader(repo);
    });

    after(async () => {
      if (reader) await reader.stop();
    });

    it('publishes every distribution under a folder in one transaction, skips other files; a TUF client gets every one', async () => {
      const folder = path.join(tmpDir('tufpip-sync-'), 'pypiserver');
      const { dists, others } = await writeDistFolder(folder);
      const before = await version(repo);
      const r = JSON.parse(expectOk(await repo.run(['sync', repo.dir, folder, '--json'])).stdout) as { files: { status: string }[]; skipped: string[]; commit: { timestampVersion: number } };
      expect(r.files.map((f) => f.status)).to.deep.equal(['added', 'added', 'added', 'added']);
      expect(r.skipped.sort()).to.deep.equal(others.sort());
      expect(r.commit.timestampVersion, 'one transaction').to.equal(before + 1);
      expect(await version(repo)).to.equal(before + 1);
      const paths = dists.map((d) => `packages/${path.basename(d).split('-')[0]}/${path.basename(d)}`);
      const view = await new TufClient(reader.url, repo.root1).view(paths);
      expect(view.missing).to.deep.equal([]);
      for (const [i, d] of dists.entries()) expect(view.resolved.get(paths[i])!.sha256, paths[i]).to.equal(sha256(fs.readFileSync(d)));
      const human = expectOk(await repo.run(['sync', repo.dir, folder]));
      expect(human.stdout).to.include('0 added, 4 unchanged, 3 other files skipped').and.include('nothing to publish');
      expect(await version(repo)).to.equal(before + 1);
      expectOk(await repo.run(['verify', repo.dir]), 'verify');
    });

    it('refuses the whole folder when one distribution in it is bad; nothing published', async () => {
      const folder = path.join(tmpDir('tufpip-sync-'), 'mixed');
      await writeWheel(folder, { name: 'good', version: '1.0' });
      fs.writeFileSync(path.join(folder, 'bad-1.0.tar.gz'), 'not gzip');
      const before = await publishedTimestamp(repo);
      const r = await repo.run(['sync', repo.dir, folder]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/bad-1\.0\.tar\.gz is not a valid sdist/);
      expect((await publishedTimestamp(repo)).equals(before)).to.equal(true);
      expect((await publishedTargets(repo)).has('packages/good/good-1.0-py3-none-any.whl')).to.equal(false);
      expect(await repo.list('packages/good/')).to.deep.equal([]);
    });
  });

  describe(`repo (${kind}): sync of a folder with files of a developer-signed project (partial sync)`, function () {
    this.timeout(300_000);
    let template: BackendRepo;
    let folder: string;
    const newFiles = ['dev-2.0-py3-none-any.whl', 'dev-2.0.tar.gz'];

    before(async () => {
      const base = tmpDir('tufpip-partial-');
      const dists = path.join(base, 'dists');
      template = await makeBackendRepo(kind, { bins: 16 });
      const m = await maintainers(['m1']);
      expectOk(await claim(template.dir, 'dev', m, 1, template.env), 'claim');
      const signed = await writeWheel(dists, { name: 'dev', version: '1.0' });
      const bundle = await signRelease({ project: 'dev', files: [signed], signers: m, keys: m, threshold: 1, out: path.join(base, 'dev.release.json') });
      expectOk(await template.run(['add', template.dir, '--signed', bundle, signed]), 'add --signed');
      // The operator's folder (a pypiserver directory): the signed file (same bytes), two new
      // files of the same project nobody signed, and an index-signed project.
      folder = path.join(base, 'pypiserver');
      fs.mkdirSync(folder, { recursive: true });
      fs.copyFileSync(signed, path.join(folder, path.basename(signed)));
      await writeWheel(folder, { name: 'dev', version: '2.0' });
      writeSdist(folder, 'dev', '2.0');
      await writeWheel(folder, { name: 'alpha', version: '1.0' });
    });

    it('publishes everything else in one transaction, leaves the unsigned files out (one line each) and exits 5', async () => {
      const repo = await copyBackendRepo(template);
      const before = await version(repo);
      const signedBytes = await maintainerBytes(repo);
      expect(Object.keys(signedBytes)).to.include.members(['metadata/1.project-dev.json', 'metadata/1.project-dev--1.0.json']);
      const r = await repo.run(['sync', repo.dir, folder]);
      expect(r.code, r.stderr).to.equal(5);
      for (const f of newFiles) {
        expect(r.stderr).to.contain(`left out ${f}: project dev is developer-signed (PEP 480); publish it with a release its maintainers signed (add --signed RELEASE.json)`);
      }
      expect(r.stderr.split('\n').filter((l) => l.startsWith('left out '))).to.have.length(2);
      expect(r.stderr).to.match(/sync was partial: 2 files of developer-signed projects left out/);
      expect(r.stdout).to.contain('1 added, 1 unchanged, 0 other files skipped, 2 left out (developer-signed projects)');
      expect(await version(repo), 'one transaction').to.equal(before + 1);

      const targets = await publishedTargets(repo);
      expect(targets.get('packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal(sha256(fs.readFileSync(path.join(folder, 'alpha-1.0-py3-none-any.whl'))));
      const served = await repo.list('packages/dev/');
      for (const f of newFiles) {
        expect(targets.has(`packages/dev/${f}`), f).to.equal(false);
        expect(served.filter((k) => k.endsWith(f)), `${f}: no copy in the served tree`).to.deep.equal([]);
      }
      const page = (await publishedTarget(repo, 'simple/dev/index.html'))!.toString('utf8');
      expect(page).to.contain('dev-1.0-py3-none-any.whl').and.not.contain('dev-2.0');
      expect(await maintainerBytes(repo)).to.deep.equal(signedBytes);
      expectOk(await repo.run(['verify', repo.dir]), 'verify');
    });

    it('--json lists what was left out and why, and still exits 5', async () => {
      const repo = await copyBackendRepo(template);
      const r = await repo.run(['sync', repo.dir, folder, '--json']);
      expect(r.code, r.stderr).to.equal(5);
      const out = JSON.parse(r.stdout) as { partial: boolean; leftOut: { file: string; project: string; reason: string }[]; files: { filename: string; status: string }[] };
      expect(out.partial).to.equal(true);
      expect(out.leftOut.map((x) => x.file)).to.have.members(newFiles);
      for (const x of out.leftOut) {
        expect(x.project).to.equal('dev');
        expect(x.reason).to.match(/developer-signed \(PEP 480\)/);
      }
      expect(out.files.map((f) => `${f.filename}:${f.status}`)).to.have.members(['alpha-1.0-py3-none-any.whl:added', 'dev-1.0-py3-none-any.whl:unchanged']);
    });

    it('--strict refuses the whole folder (exit 1) and publishes nothing', async () => {
      const repo = await copyBackendRepo(template);
      const before = await publishedTimestamp(repo);
      const r = await repo.run(['sync', repo.dir, folder, '--strict']);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/dev-2\.0[^:]*: project dev is developer-signed \(PEP 480\)/);
      expect((await publishedTimestamp(repo)).equals(before), 'nothing published').to.equal(true);
      expect((await publishedTargets(repo)).has('packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal(false);
    });

    it("a signed file already published with the same bytes is a no-op, with --strict too (exit 0); other bytes are left out", async () => {
      const repo = await copyBackendRepo(template);
      const only = path.join(tmpDir('tufpip-partial-'), 'signed-only');
      fs.mkdirSync(only);
      fs.copyFileSync(path.join(folder, 'dev-1.0-py3-none-any.whl'), path.join(only, 'dev-1.0-py3-none-any.whl'));
      const before = await publishedTimestamp(repo);
      for (const args of [[], ['--strict']]) {
        const r = expectOk(await repo.run(['sync', repo.dir, only, ...args]), `sync ${args.join(' ')}`);
        expect(r.stdout).to.contain('0 added, 1 unchanged').and.contain('nothing to publish');
      }
      expect((await publishedTimestamp(repo)).equals(before)).to.equal(true);
      // The same name with other bytes is not "already published": left out (exit 5), nothing else.
      await writeWheel(only, { name: 'dev', version: '1.0', body: 'VERSION = "other bytes"\n' });
      const r = await repo.run(['sync', repo.dir, only]);
      expect(r.code, r.stderr).to.equal(5);
      expect(r.stderr).to.contain('left out dev-1.0-py3-none-any.whl');
      expect(r.stdout).to.contain('nothing to publish');
      expect((await publishedTimestamp(repo)).equals(before)).to.equal(true);
    });
  });
}
