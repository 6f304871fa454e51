// sdists end to end: a package published only as an sdist (pyproject.toml naming the setuptools
// backend, PEP 517/518) installs with `tufpip install NAME` when its build dependencies are on the
// same index. pip's build isolation stays on: its build-environment subprocess gets them through
// the verifying proxy during the verified `pip download`, and from the verified folder during
// `pip install --no-index --find-links` (pip/_internal/build_env.py). Real sdists written by the
// test, real setuptools and wheel wheels, real pip in venvs that have no setuptools or wheel.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FetchReport } from '../client/lib/fetch-report.js';
import { hashedPath } from '../metadata/target-paths.js';
import { setuptoolsWheel, wheelWheel } from './helpers/build-backend.js';
import { freshVenv, pipEnv, type Venv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { jsonOf, trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';
import { writeBuildableSdist } from './helpers/wheels.js';
import { sha256File } from './helpers/hash.js';


/** A venv with neither setuptools nor wheel: whatever builds the sdist must come from the index. */
function bareVenv(): Venv {
  const venv = freshVenv();
  execFileSync(venv.python, ['-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools', 'wheel'], { env: pipEnv(), stdio: 'ignore' });
  const installed = venv.installed();
  expect(installed).to.not.include('setuptools');
  expect(installed).to.not.include('wheel');
  return venv;
}

/** One line on stderr, `tufpip: error: ...`, no stack trace; nothing on stdout. */
function expectOneLineError(r: { code: number | null; stdout: string; stderr: string }, code: number): string {
  expect(r.code, r.stderr).to.equal(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^tufpip: error: /);
  expect(r.stdout).to.not.match(/installed from|saved \d/);
  return lines[0];
}

describe('sdists and their build dependencies (tufpip install/fetch, real pip, build isolation on)', function () {
  this.timeout(600_000);
  const dists = path.join(tmpDir('tufpip-sdists-'), 'dists');
  const sdonly = writeBuildableSdist(dists, { name: 'sdonly', version: '1.0', body: 'VERSION = "1.0"\nBUILT_FROM = "sdist"\n' });
  const toonew = writeBuildableSdist(dists, { name: 'toonew', version: '1.0', buildRequires: ['setuptools>=99'] });
  const needsMissing = writeBuildableSdist(dists, { name: 'needsmissing', version: '1.0', buildRequires: ['setuptools>=40', 'notthere>=1'] });
  let full: TrustedIndex;
  before(async () => {
    full = await trustedIndex([], { files: [sdonly, toonew, needsMissing, setuptoolsWheel(), wheelWheel()] });
  });
  after(async () => {
    await full?.close();
  });

  it('install: an sdist-only package builds with setuptools and wheel fetched through verification, and imports', async () => {
    const venv = bareVenv();
    const r = expectOk(await full.run(['install', 'sdonly', '--python', venv.python, '--json']), 'tufpip install sdonly');
    const out = jsonOf<FetchReport & { ok: boolean }>(r);
    expect(out.files.map((f) => f.file)).to.deep.equal(['sdonly-1.0.tar.gz']);
    expect(out.buildDependencies.map((f) => f.file)).to.deep.equal([path.basename(setuptoolsWheel()), path.basename(wheelWheel())]);
    for (const f of [...out.files, ...out.buildDependencies]) {
      // The bytes the index publishes, vouched for by the index's online key (signed bins).
      expect(f.sha256, f.file).to.equal(sha256File(path.join(full.site, f.target)));
      expect(f.vouchedBy).to.deep.include({ kind: 'index', signedBy: [full.onlineKeyId] });
    }
    expect(out.pages.map((p) => p.target).sort()).to.deep.equal(['simple/sdonly/index.html', 'simple/setuptools/index.html', 'simple/wheel/index.html']);
    expect(venv.run('import sdonly; print(sdonly.VERSION, sdonly.BUILT_FROM)').trim()).to.equal('1.0 sdist');
    // Build isolation: setuptools and wheel were in the build environment only.
    const installed = venv.installed();
    expect(installed).to.include('sdonly');
    expect(installed).to.not.include('setuptools');
    expect(installed).to.not.include('wheel');
  });

  it('fetch -d: the folder holds the sdist and its verified build dependencies, and builds with plain pip --no-index', async () => {
    const dest = path.join(tmpDir('tufpip-dest-'), 'out');
    const r = expectOk(await full.run(['fetch', 'sdonly', '-d', dest]), 'tufpip fetch sdonly');
    expect(r.stdout).to.match(/sdonly-1\.0\.tar\.gz +sha256:[0-9a-f]{64} +index-signed/);
    expect(r.stdout).to.match(/build dependencies of sdists[^\n]*\n +setuptools-[^ ]+\.whl +sha256:[0-9a-f]{64} +index-signed[^\n]*\n +wheel-[^ ]+\.whl +sha256:[0-9a-f]{64} +index-signed/);
    expect(r.stdout).to.match(/saved 1 verified file and 2 build dependencies to /);
    const report = JSON.parse(fs.readFileSync(path.join(dest, 'tufpip-report.json'), 'utf8')) as FetchReport;
    const names = [...report.files, ...report.buildDependencies].map((f) => f.file);
    expect(fs.readdirSync(dest).sort()).to.deep.equal([...names, 'tufpip-report.json'].sort());
    for (const f of [...report.files, ...report.buildDependencies]) expect(sha256File(path.join(dest, f.file)), f.file).to.equal(f.sha256);
    // Offline, from the folder only, with plain pip and build isolation on.
    const venv = bareVenv();
    const env = Object.fromEntries(Object.entries(pipEnv()).filter(([k]) => !/^PIP_(FIND_LINKS|INDEX_URL|EXTRA_INDEX_URL)$/i.test(k)));
    const pip = spawnSync(venv.python, ['-m', 'pip', 'install', '--no-index', '--find-links', dest, 'sdonly'], { env });
    expect(pip.status, pip.stderr.toString()).to.equal(0);
    expect(venv.run('import sdonly; print(sdonly.VERSION)').trim()).to.equal('1.0');
  });

  it('a tampered build dependency is refused (hash-mismatch) and nothing is installed', async () => {
    const target = `packages/setuptools/${path.basename(setuptoolsWheel())}`;
    const plain = path.join(full.site, target);
    const original = fs.readFileSync(plain);
    const copies = [plain, path.join(full.site, hashedPath(target, sha256File(plain)))];
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)] ^= 0x01;
    for (const f of copies) fs.writeFileSync(f, changed);
    try {
      const venv = bareVenv();
      const before = venv.fingerprint();
      const r = await full.run(['install', 'sdonly', '--python', venv.python]);
      const line = expectOneLineError(r, 1);
      expect(line).to.include('hash-mismatch').and.include(target);
      expect(venv.fingerprint()).to.equal(before);
    } finally {
      for (const f of copies) fs.writeFileSync(f, original);
    }
  });

  it('the developer-signed policy applies to build dependencies: an index-signed setuptools is refused', async () => {
    const cwd = tmpDir('tufpip-policy-');
    fs.writeFileSync(path.join(cwd, 'tufpip.toml'), '[policy]\nrequire-developer-signed = ["setuptools"]\n');
    const venv = bareVenv();
    const before = venv.fingerprint();
    const r = await full.run(['install', 'sdonly', '--python', venv.python], { cwd });
    const line = expectOneLineError(r, 1);
    expect(line).to.include('missing-developer-signature').and.include('setuptools');
    expect(line).to.not.include('needed to build');
    expect(venv.fingerprint()).to.equal(before);
  });

  describe('a build dependency the index does not have is named, with the sdist that needs it', () => {
    const indexes: TrustedIndex[] = [];
    after(async () => {
      for (const ix of indexes) await ix.close();
    });
    const cases: Record<string, { index: () => Promise<TrustedIndex>; install: string; message: RegExp; fetchToo?: boolean }> = {
      'setuptools (pyproject.toml build-system requires) not on the index': {
        index: async () => trustedIndex([], { files: [sdonly, wheelWheel()] }),
        install: 'sdonly',
        message: /^tufpip: error: setuptools>=40, needed to build sdonly-1\.0\.tar\.gz, is not on the index: .*; nothing was installed$/,
        fetchToo: true,
      },
      'wheel (asked for by the setuptools backend, PEP 517) not on the index': {
        index: async () => trustedIndex([], { files: [sdonly, setuptoolsWheel()] }),
        install: 'sdonly',
        message: /^tufpip: error: wheel, needed to build sdonly-1\.0\.tar\.gz, is not on the index: .*; nothing was installed$/,
      },
      'a build requirement whose project the index does not have': {
        index: async () => full,
        install: 'needsmissing',
        message: /^tufpip: error: notthere>=1, needed to build needsmissing-1\.0\.tar\.gz, is not on the index: /,
      },
      'a build requirement no version on the index satisfies': {
        index: async () => full,
        install: 'toonew',
        message: /^tufpip: error: setuptools>=99, needed to build toonew-1\.0\.tar\.gz, is not on the index \(the index has the project, but no file of it that matches/,
      },
    };
    it('control: a requirement (not a build dependency) that is not on the index is not reported as one', async () => {
      const r = await full.run(['install', 'notthere', '--python', bareVenv().python]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/notthere/);
      expect(r.stderr).to.not.match(/needed to build/);
    });
    for (const [name, c] of Object.entries(cases)) {
      it(name, async () => {
        const ix = await c.index();
        if (ix !== full) indexes.push(ix);
        const venv = bareVenv();
        const before = venv.fingerprint();
        const r = await ix.run(['install', c.install, '--python', venv.python]);
        expect(expectOneLineError(r, 1)).to.match(c.message);
        expect(venv.fingerprint()).to.equal(before);
        if (!c.fetchToo) return;
        const dest = path.join(tmpDir('tufpip-dest-'), 'out');
        const f = await ix.run(['fetch', c.install, '-d', dest, '--json']);
        expect(f.code).to.equal(1);
        const error = jsonOf<{ ok: boolean; error: { code: string; message: string } }>(f).error;
        expect(error.code).to.equal('NOT_FOUND');
        expect(error.message).to.match(/^setuptools>=40, needed to build sdonly-1\.0\.tar\.gz, is not on the index: .*; nothing was fetched$/);
        expect(fs.existsSync(dest), 'nothing fetched').to.equal(false);
      });
    }
  });
});
