// PEP 592 yank / unyank with the real commands: `tufpip-repo yank|unyank`, served by the real
// `tufpip-repo serve`, used by plain pip (--index-url) and by `tufpip install` in real venvs. A
// yanked version is skipped unless pinned with `==`, where pip installs it with its yank warning.
// For a developer-signed project (PEP 480) the yank re-signs only the page's bin: the maintainers'
// roles and the package files stay byte for byte as they were.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { binForPath } from '../metadata/hash-bins.js';
import { tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import { claim, maintainers, signRelease, type Maintainer } from './helpers/pep480-fixture.js';
import { freshVenv, pipEnv, type Venv } from './helpers/python.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { startServeCli, type ServeProcess } from './helpers/serve-cli.js';
import { tmpDir } from './helpers/tmp.js';
import { wheelFilename, writeSdist, writeWheel, type WheelSpec } from './helpers/wheels.js';
import { sha256 } from './helpers/hash.js';
import { BACKENDS, makeBackendRepo, publishedSnapshot, publishedTarget, startIndexReader, useBackends, type BackendRepo, type IndexReader } from './helpers/backends.js';

const BINS = 16;
const run = promisify(execFile);
const REASON = 'broken <build> & "quotes"';
const ESCAPED = 'broken &lt;build&gt; &amp; &quot;quotes&quot;';

async function pip(venv: Venv, indexUrl: string, req: string): Promise<string> {
  const { stdout, stderr } = await run(venv.python, ['-m', 'pip', 'install', '--index-url', indexUrl, req], { env: pipEnv(), maxBuffer: 16 << 20 }).catch(
    (err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`pip install ${req} failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
    },
  );
  return stdout + stderr;
}

const versionIn = (venv: Venv, module: string) => venv.run(`import ${module}; print(${module}.VERSION)`).trim();
const timestamp = (repo: string) => fs.readFileSync(path.join(repo, 'site', 'metadata', 'timestamp.json'));
const page = (repo: string, project: string) => fs.readFileSync(path.join(repo, 'site', 'simple', project, 'index.html'), 'utf8');

/** Every `<a ...>` of a page whose file name starts with `prefix`, as HTML text. */
function links(html: string, prefix: string): string[] {
  return [...html.matchAll(/<a href="[^"]*"[^>]*>([^<]+)<\/a>/g)].filter((m) => m[1].startsWith(prefix)).map((m) => m[0]);
}

/** A tufpip data directory that trusts the served repository, and an install runner. */
async function trustingClient(repo: string, url: string, root = path.join(repo, 'site', 'metadata', '1.root.json')) {
  const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
  expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', url, '--root', root]), 'trust add');
  return async (req: string): Promise<{ r: RunResult; venv: Venv }> => {
    const venv = freshVenv();
    const r = expectOk(await tufpip(['--data-dir', dataDir, 'install', req, '--python', venv.python]), `tufpip install ${req}`);
    return { r, venv };
  };
}

describe('repo: yank and unyank (PEP 592) through plain pip and tufpip install', function () {
  this.timeout(300_000);
  let repo: string;
  let dists: string;
  let server: ServeProcess;
  let install: Awaited<ReturnType<typeof trustingClient>>;
  const yy = (version: string): WheelSpec => ({ name: 'yy', version, body: `VERSION = "${version}"\n` });

  before(async () => {
    const base = tmpDir('tufpip-yank-');
    repo = path.join(base, 'repo');
    dists = path.join(base, 'dists');
    await makeRepo({ dir: repo, bins: BINS });
    const files = [await writeWheel(dists, yy('1.0')), await writeWheel(dists, yy('2.0')), writeSdist(dists, 'yy', '2.0')];
    expectOk(await tufpipRepo(['add', repo, ...files]), 'add');
    server = await startServeCli(repo);
    install = await trustingClient(repo, server.url);
  });

  after(async () => {
    if (server) expect(await server.stop()).to.equal(0);
  });

  it("yank marks every file of the version with data-yanked=REASON (HTML-escaped), re-signing only the page's bin", async () => {
    const r = expectOk(await tufpipRepo(['yank', repo, 'yy', '--version', '2.0', '--reason', REASON, '--json']));
    const out = JSON.parse(r.stdout) as { changed: string[]; unchanged: string[]; commit: { roles: { role: string }[] } };
    expect(out.changed).to.have.members(['yy-2.0-py3-none-any.whl', 'yy-2.0.tar.gz']);
    expect(out.commit.roles.map((x) => x.role)).to.deep.equal([binForPath('simple/yy/index.html', BINS), 'snapshot', 'timestamp']);
    const html = page(repo, 'yy');
    for (const l of links(html, 'yy-2.0')) expect(l).to.contain(` data-yanked="${ESCAPED}">`);
    expect(links(html, 'yy-2.0')).to.have.length(2);
    expect(links(html, 'yy-1.0')[0]).to.not.contain('data-yanked');
    expectOk(await tufpipRepo(['verify', repo]), 'verify');
  });

  it('plain pip skips the yanked version, and installs it when pinned with == with its yank warning', async () => {
    const venv = freshVenv();
    await pip(venv, `${server.url}simple/`, 'yy');
    expect(versionIn(venv, 'yy')).to.equal('1.0');
    const pinned = freshVenv();
    const out = await pip(pinned, `${server.url}simple/`, 'yy==2.0');
    expect(versionIn(pinned, 'yy')).to.equal('2.0');
    expect(out).to.contain(`Reason for being yanked: ${REASON}`);
  });

  it('tufpip install picks the newest version not yanked; NAME==V installs V and passes on the yank warning', async () => {
    const a = await install('yy');
    expect(versionIn(a.venv, 'yy')).to.equal('1.0');
    expect(a.r.stderr).to.not.contain('yanked');
    const b = await install('yy==2.0');
    expect(versionIn(b.venv, 'yy')).to.equal('2.0');
    expect(b.r.stdout).to.match(/yy-2\.0-py3-none-any\.whl +sha256:[0-9a-f]{64} +index-signed/);
    expect(b.r.stderr).to.contain(`warning: 'yy' 2.0 is yanked (PEP 592), pip selected it because it was pinned: reason for being yanked: ${REASON}`);
  });

  it('the yank is kept by a later add and a later remove (the published page is the catalogue)', async () => {
    expectOk(await tufpipRepo(['add', repo, await writeWheel(dists, yy('3.0'))]), 'add 3.0');
    expect(links(page(repo, 'yy'), 'yy-2.0').every((l) => l.includes(`data-yanked="${ESCAPED}"`))).to.equal(true);
    expect(links(page(repo, 'yy'), 'yy-3.0')[0]).to.not.contain('data-yanked');
    expectOk(await tufpipRepo(['remove', repo, 'yy', '--version', '3.0']), 'remove 3.0');
    const html = page(repo, 'yy');
    expect(links(html, 'yy-3.0')).to.have.length(0);
    expect(links(html, 'yy-2.0').every((l) => l.includes(`data-yanked="${ESCAPED}"`))).to.equal(true);
  });

  it('refuses an unknown version or project and a reason that is not one line, publishing nothing', async () => {
    const before = timestamp(repo);
    const cases: [string[], number, RegExp][] = [
      [['yank', repo, 'yy', '--version', '9.9'], 1, /project yy has no files of version 9\.9 \(it has 1\.0, 2\.0\); nothing was published/],
      [['yank', repo, 'nope', '--version', '1.0'], 1, /project nope is not on this index/],
      [['unyank', repo, 'yy', '--version', '9.9'], 1, /no files of version 9\.9/],
      [['yank', repo, 'yy', '--version', '2.0', '--reason', 'two\nlines'], 2, /--reason must be one line/],
      [['yank', repo, 'yy'], 2, /Missing required argument: version/],
    ];
    for (const [args, code, why] of cases) {
      const r = await tufpipRepo(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(code);
      expect(r.stderr).to.match(why);
    }
    expect(timestamp(repo).equals(before), 'nothing published').to.equal(true);
  });

  it('yanking again with the same reason publishes nothing; unyank restores the version for pip and tufpip', async () => {
    const before = timestamp(repo);
    const again = expectOk(await tufpipRepo(['yank', repo, 'yy', '--version', '2.0', '--reason', REASON]));
    expect(again.stdout).to.contain('already yanked yy-2.0-py3-none-any.whl');
    expect(again.stdout).to.contain('nothing to publish');
    expect(timestamp(repo).equals(before)).to.equal(true);

    // PEP 440: 2.0.0 is the same version as 2.0.
    const r = expectOk(await tufpipRepo(['unyank', repo, 'yy', '--version', '2.0.0']));
    expect(r.stdout).to.contain('unyanked yy-2.0-py3-none-any.whl');
    expect(page(repo, 'yy')).to.not.contain('data-yanked');
    const venv = freshVenv();
    await pip(venv, `${server.url}simple/`, 'yy');
    expect(versionIn(venv, 'yy')).to.equal('2.0');
    const t = await install('yy');
    expect(versionIn(t.venv, 'yy')).to.equal('2.0');
    expect(t.r.stderr).to.not.contain('yanked');
    expectOk(await tufpipRepo(['verify', repo]), 'verify');
  });

  it('a yank without --reason is data-yanked="" (pip: "<none given>"); versions compare as PEP 440 versions (1 == 1.0)', async () => {
    expectOk(await tufpipRepo(['yank', repo, 'yy', '--version', '1']));
    expect(links(page(repo, 'yy'), 'yy-1.0')[0]).to.contain(' data-yanked="">');
    const b = await install('yy==1.0');
    expect(versionIn(b.venv, 'yy')).to.equal('1.0');
    expect(b.r.stderr).to.contain("'yy' 1.0 is yanked (PEP 592), pip selected it because it was pinned: reason for being yanked: <none given>");
  });
});

useBackends();

for (const kind of BACKENDS) {
  describe(`repo (${kind}): yank of a developer-signed project (PEP 480) leaves the maintainers\' bytes alone`, function () {
    this.timeout(300_000);
    let ix: BackendRepo;
    let repo: string;
    let dists: string;
    let m: Maintainer[];
    let server: IndexReader;
    let install: Awaited<ReturnType<typeof trustingClient>>;
    let lastBundle: string;
    const dev = (version: string): WheelSpec => ({ name: 'devpkg', version, body: `VERSION = "${version}"\n` });

    /** Maintainer m1 signs a release building on the previous bundle; the operator publishes it. */
    async function release(version: string): Promise<void> {
      const file = await writeWheel(dists, dev(version));
      const out = path.join(tmpDir('tufpip-release-'), 'devpkg.release.json');
      await signRelease({ project: 'devpkg', files: [file], signers: [m[0]], keys: [m[0]], threshold: 1, out, from: lastBundle });
      expectOk(await ix.run(['add', repo, '--signed', out, file]), `add --signed ${version}`);
      lastBundle = out;
    }

    /** sha256 of every maintainer-signed metadata file and every served copy of the project's package files. */
    async function maintainerBytes(): Promise<Record<string, string>> {
      const names = [...(await ix.list('metadata/')).filter((n) => /\.project-devpkg(--[^.]+(\.[^.]+)*)?\.json$/.test(n)), ...(await ix.list('packages/devpkg/'))];
      return Object.fromEntries(await Promise.all(names.map(async (n) => [n, sha256((await ix.read(n))!)] as const)));
    }

    /** The snapshot's versions of the project's roles. */
    async function projectRoleVersions(): Promise<Record<string, number>> {
      const snap = await publishedSnapshot(ix);
      return Object.fromEntries(Object.entries(snap.signed.meta).filter(([k]) => k.startsWith('project-devpkg')).map(([k, v]) => [k, v.version]));
    }

    /** The published project page (its hash-named copy, as the bin lists it). */
    const page = async () => (await publishedTarget(ix, 'simple/devpkg/index.html'))!.toString('utf8');

    before(async () => {
      const base = tmpDir('tufpip-yank480-');
      dists = path.join(base, 'dists');
      ix = await makeBackendRepo(kind, { bins: BINS });
      repo = ix.dir;
      m = await maintainers(['m1']);
      expectOk(await claim(repo, 'devpkg', m, 1, ix.env), 'claim');
      const first = await writeWheel(dists, dev('1.0'));
      lastBundle = path.join(tmpDir('tufpip-release-'), 'devpkg.release.json');
      await signRelease({ project: 'devpkg', files: [first], signers: [m[0]], keys: m, threshold: 1, out: lastBundle });
      expectOk(await ix.run(['add', repo, '--signed', lastBundle, first]), 'add --signed 1.0');
      await release('2.0');
      server = await startIndexReader(ix);
      install = await trustingClient(repo, server.url, ix.root1);
    });

    after(async () => {
      if (server) await server.stop();
    });

    it('yank re-signs only the bin of the page: maintainer roles and package files unchanged byte for byte', async () => {
      const bytes = await maintainerBytes();
      expect(Object.keys(bytes).filter((k) => k.startsWith('packages/devpkg/'))).to.not.deep.equal([]);
      const versions = await projectRoleVersions();
      expect(Object.keys(versions)).to.have.members(['project-devpkg.json', 'project-devpkg--1.0.json', 'project-devpkg--2.0.json']);
      const r = expectOk(await ix.run(['yank', repo, 'devpkg', '--version', '2.0', '--reason', 'regression', '--json']));
      const roles = (JSON.parse(r.stdout) as { commit: { roles: { role: string }[] } }).commit.roles.map((x) => x.role);
      expect(roles).to.deep.equal([binForPath('simple/devpkg/index.html', BINS), 'snapshot', 'timestamp']);
      expect(await maintainerBytes()).to.deep.equal(bytes);
      expect(await projectRoleVersions()).to.deep.equal(versions);
      expect(links(await page(), 'devpkg-2.0')[0]).to.contain(' data-yanked="regression">');
      expectOk(await ix.run(['verify', repo]), 'verify');
    });

    it('tufpip install skips the yanked release, installs it (developer-signed) when pinned, and the yank outlives the next signed release', async () => {
      const a = await install('devpkg');
      expect(versionIn(a.venv, 'devpkg')).to.equal('1.0');
      expect(a.r.stdout).to.match(/devpkg-1\.0-py3-none-any\.whl +sha256:[0-9a-f]{64} +developer-signed: project-devpkg/);
      const b = await install('devpkg==2.0');
      expect(versionIn(b.venv, 'devpkg')).to.equal('2.0');
      expect(b.r.stdout).to.match(/devpkg-2\.0-py3-none-any\.whl +sha256:[0-9a-f]{64} +developer-signed: project-devpkg/);
      expect(b.r.stderr).to.contain("'devpkg' 2.0 is yanked (PEP 592), pip selected it because it was pinned: reason for being yanked: regression");

      await release('3.0');
      const html = await page();
      expect(links(html, 'devpkg-2.0')[0]).to.contain(' data-yanked="regression">');
      expect(links(html, 'devpkg-3.0')[0]).to.not.contain('data-yanked');
      expectOk(await ix.run(['unyank', repo, 'devpkg', '--version', '2.0']));
      expect(await page()).to.not.contain('data-yanked');
      const c = await install('devpkg==2.0');
      expect(c.r.stderr).to.not.contain('yanked');
    });
  });
}
