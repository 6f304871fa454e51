// `tufpip-repo sync` of a folder holding files of a developer-signed project (PEP 480), with the
// real commands: files already published with the same bytes are no-ops; new files the
// maintainers did not sign are left out, one line each, everything else is published in one
// transaction and the exit code is 5 ("partial"); `--strict` refuses the whole folder (exit 1).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tufpipRepo } from './helpers/cli.js';
import { claim, maintainers, signRelease } from './helpers/pep480-fixture.js';
import { copyRepo, expectOk, makeRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { sha256 } from './helpers/hash.js';

const timestamp = (repo: string) => fs.readFileSync(path.join(repo, 'site', 'metadata', 'timestamp.json'));

/** Targets of every bin and every project role the repository publishes (path -> sha256). */
function publishedTargets(repo: string): Map<string, string> {
  const md = path.join(repo, 'site', 'metadata');
  const ts = JSON.parse(timestamp(repo).toString()) as { signed: { meta: Record<string, { version: number }> } };
  const snap = JSON.parse(fs.readFileSync(path.join(md, `${ts.signed.meta['snapshot.json'].version}.snapshot.json`), 'utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const out = new Map<string, string>();
  for (const [file, { version }] of Object.entries(snap.signed.meta)) {
    const role = JSON.parse(fs.readFileSync(path.join(md, `${version}.${file}`), 'utf8')) as { signed: { targets: Record<string, { hashes: { sha256: string } }> } };
    for (const [p, info] of Object.entries(role.signed.targets)) out.set(p, info.hashes.sha256);
  }
  return out;
}

/** sha256 of the project's maintainer-signed metadata files. */
function maintainerBytes(repo: string): Record<string, string> {
  const md = path.join(repo, 'site', 'metadata');
  return Object.fromEntries(fs.readdirSync(md).filter((n) => n.includes('.project-dev')).map((n) => [n, sha256(fs.readFileSync(path.join(md, n)))]));
}

describe('repo: sync of a folder with files of a developer-signed project (partial sync)', function () {
  this.timeout(300_000);
  let template: string;
  let folder: string;
  const newFiles = ['dev-2.0-py3-none-any.whl', 'dev-2.0.tar.gz'];

  before(async () => {
    const base = tmpDir('tufpip-partial-');
    template = path.join(base, 'repo');
    const dists = path.join(base, 'dists');
    await makeRepo({ dir: template, bins: 16 });
    const m = await maintainers(['m1']);
    expectOk(await claim(template, 'dev', m, 1), 'claim');
    const signed = await writeWheel(dists, { name: 'dev', version: '1.0' });
    const bundle = await signRelease({ project: 'dev', files: [signed], signers: m, keys: m, threshold: 1, out: path.join(base, 'dev.release.json') });
    expectOk(await tufpipRepo(['add', template, '--signed', bundle, signed]), 'add --signed');
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
    const repo = copyRepo(template);
    const before = JSON.parse(timestamp(repo).toString()).signed.version as number;
    const signedBytes = maintainerBytes(repo);
    const r = await tufpipRepo(['sync', repo, folder]);
    expect(r.code, r.stderr).to.equal(5);
    for (const f of newFiles) {
      expect(r.stderr).to.contain(`left out ${f}: project dev is developer-signed (PEP 480); publish it with a release its maintainers signed (add --signed RELEASE.json)`);
    }
    expect(r.stderr.split('\n').filter((l) => l.startsWith('left out '))).to.have.length(2);
    expect(r.stderr).to.match(/sync was partial: 2 files of developer-signed projects left out/);
    expect(r.stdout).to.contain('1 added, 1 unchanged, 0 other files skipped, 2 left out (developer-signed projects)');
    expect(JSON.parse(timestamp(repo).toString()).signed.version, 'one transaction').to.equal(before + 1);

    const targets = publishedTargets(repo);
    expect(targets.get('packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal(sha256(fs.readFileSync(path.join(folder, 'alpha-1.0-py3-none-any.whl'))));
    for (const f of newFiles) {
      expect(targets.has(`packages/dev/${f}`), f).to.equal(false);
      expect(fs.existsSync(path.join(repo, 'site', 'packages', 'dev', f)), `${f} not under site/`).to.equal(false);
    }
    const page = fs.readFileSync(path.join(repo, 'site', 'simple', 'dev', 'index.html'), 'utf8');
    expect(page).to.contain('dev-1.0-py3-none-any.whl').and.not.contain('dev-2.0');
    expect(maintainerBytes(repo)).to.deep.equal(signedBytes);
    expectOk(await tufpipRepo(['verify', repo]), 'verify');
  });

  it('--json lists what was left out and why, and still exits 5', async () => {
    const repo = copyRepo(template);
    const r = await tufpipRepo(['sync', repo, folder, '--json']);
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
    const repo = copyRepo(template);
    const before = timestamp(repo);
    const r = await tufpipRepo(['sync', repo, folder, '--strict']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/dev-2\.0[^:]*: project dev is developer-signed \(PEP 480\)/);
    expect(timestamp(repo).equals(before), 'nothing published').to.equal(true);
    expect(publishedTargets(repo).has('packages/alpha/alpha-1.0-py3-none-any.whl')).to.equal(false);
  });

  it("a signed file already published with the same bytes is a no-op, with --strict too (exit 0); other bytes are left out", async () => {
    const repo = copyRepo(template);
    const only = path.join(tmpDir('tufpip-partial-'), 'signed-only');
    fs.mkdirSync(only);
    fs.copyFileSync(path.join(folder, 'dev-1.0-py3-none-any.whl'), path.join(only, 'dev-1.0-py3-none-any.whl'));
    const before = timestamp(repo);
    for (const args of [[], ['--strict']]) {
      const r = expectOk(await tufpipRepo(['sync', repo, only, ...args]), `sync ${args.join(' ')}`);
      expect(r.stdout).to.contain('0 added, 1 unchanged').and.contain('nothing to publish');
    }
    expect(timestamp(repo).equals(before)).to.equal(true);
    // The same name with other bytes is not "already published": left out (exit 5), nothing else.
    await writeWheel(only, { name: 'dev', version: '1.0', body: 'VERSION = "other bytes"\n' });
    const r = await tufpipRepo(['sync', repo, only]);
    expect(r.code, r.stderr).to.equal(5);
    expect(r.stderr).to.contain('left out dev-1.0-py3-none-any.whl');
    expect(r.stdout).to.contain('nothing to publish');
    expect(timestamp(repo).equals(before)).to.equal(true);
  });
});
