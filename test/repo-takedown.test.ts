// Emergency takedown of a developer-signed project (PEP 480), with the real commands on both
// sides: `tufpip-repo takedown` (one transaction signed with the offline claimed key) served by
// the real `tufpip-repo serve`, what `tufpip install` and plain pip then see in real venvs, and
// how the maintainers re-establish the project (claim, release sign --fresh, add --signed).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { binForPath } from '../metadata/hash-bins.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { claim, maintainers, signRelease, type Maintainer } from './helpers/pep480-fixture.js';
import { freshVenv, pipEnv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { startServeCli, type ServeProcess } from './helpers/serve-cli.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel, type WheelSpec } from './helpers/wheels.js';

const BINS = 16;
const run = promisify(execFile);
const dev = (version: string): WheelSpec => ({ name: 'dev', version, body: `VERSION = "${version}"\n` });

interface Signed {
  signed: { version: number; delegations?: { roles: { name: string }[] }; meta?: Record<string, { version: number }> };
  signatures: { keyid: string }[];
}

describe('repo: emergency takedown of a developer-signed project, and its re-establishment', function () {
  this.timeout(300_000);
  let repo: string;
  let dists: string;
  let m: Maintainer[];
  let server: ServeProcess;
  let dataDir: string;
  const md = (...p: string[]) => path.join(repo, 'site', 'metadata', ...p);
  const timestamp = () => fs.readFileSync(md('timestamp.json'));
  const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Signed;
  const snapshot = () => readJson(md(`${readJson(md('timestamp.json')).signed.meta!['snapshot.json'].version}.snapshot.json`));
  const latest = (role: string) => readJson(md(`${snapshot().signed.meta![`${role}.json`].version}.${role}.json`));
  const install = async (req: string) => {
    const venv = freshVenv();
    const before = venv.fingerprint();
    const r = await tufpip(['--data-dir', dataDir, 'install', req, '--python', venv.python]);
    return { r, venv, before };
  };

  before(async () => {
    const base = tmpDir('tufpip-takedown-');
    repo = path.join(base, 'repo');
    dists = path.join(base, 'dists');
    expectOk(await tufpipRepo(['init', repo, '--url', 'http://127.0.0.1:8080/', '--bins', String(BINS)]), 'init');
    // dev 0.9 was published by the index before the claim (index-signed, in its bin); 1.0 is signed by m1.
    expectOk(await tufpipRepo(['add', repo, await writeWheel(dists, { name: 'alpha', version: '1.0' }), await writeWheel(dists, dev('0.9'))]), 'add');
    m = await maintainers(['m1', 'm2']);
    expectOk(await claim(repo, 'dev', [m[0]], 1), 'claim');
    const file = await writeWheel(dists, dev('1.0'));
    const bundle = await signRelease({ project: 'dev', files: [file], signers: [m[0]], keys: [m[0]], threshold: 1, out: path.join(base, 'dev.release.json') });
    expectOk(await tufpipRepo(['add', repo, '--signed', bundle, file]), 'add --signed');
    server = await startServeCli(repo);
    dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', server.url, '--root', md('1.root.json')]), 'trust add');
    // An installer has the project already (its client holds metadata delegating to the maintainers).
    const { r, venv } = await install('dev');
    expectOk(r, 'install dev before the takedown');
    expect(r.stdout).to.match(/dev-1\.0-py3-none-any\.whl +sha256:[0-9a-f]{64} +developer-signed: project-dev/);
    expect(venv.run('import dev; print(dev.VERSION)').trim()).to.equal('1.0');
  });

  after(async () => {
    if (server) expect(await server.stop()).to.equal(0);
  });

  it('refuses without the claimed key, with another key, and for a project that is not developer-signed; nothing published', async () => {
    const before = timestamp();
    const cases: [string[], number, RegExp][] = [
      [['takedown', repo, 'dev'], 2, /signing claimed needs its offline key: --offline-key FILE/],
      [['takedown', repo, 'dev', '--offline-key', path.join(repo, 'keys', 'online.pem')], 1, /is not a key of the claimed role/],
      [['takedown', repo, 'alpha', '--offline-key', path.join(repo, 'keys', 'claimed.pem')], 1, /project alpha is not developer-signed .*tufpip-repo remove; nothing was published/],
    ];
    for (const [args, code, why] of cases) {
      const r = await tufpipRepo(args);
      expect(r.code, r.stderr).to.equal(code);
      expect(r.stderr).to.match(why);
    }
    expect(timestamp().equals(before), 'nothing published').to.equal(true);
  });

  it('one transaction signed with the claimed key: delegation revoked, files (plain and hash-named) and page gone, verify passes', async () => {
    const rolesBefore = snapshot().signed.meta!;
    const r = expectOk(await tufpipRepo(['takedown', repo, 'dev', '--offline-key', path.join(repo, 'keys', 'claimed.pem'), '--json']), 'takedown');
    const out = JSON.parse(r.stdout) as { revokedFrom: string; removed: string[]; orphanedRoles: string[]; commit: { roles: { role: string }[] } };
    expect(out.revokedFrom).to.equal('claimed');
    expect(out.removed).to.deep.equal(['dev-0.9-py3-none-any.whl', 'dev-1.0-py3-none-any.whl']);
    expect(out.orphanedRoles).to.have.members(['project-dev', 'project-dev--1.0']);
    const bins = new Set([binForPath('simple/dev/index.html', BINS), binForPath('simple/index.html', BINS), binForPath('packages/dev/dev-0.9-py3-none-any.whl', BINS)]);
    expect(out.commit.roles.map((x) => x.role)).to.have.members(['claimed', ...bins, 'snapshot', 'timestamp']);

    // claimed: the next version, without project-dev, signed by the offline claimed key.
    const claimedKey = privateKeyFromPem(fs.readFileSync(path.join(repo, 'keys', 'claimed.pem'), 'utf8'), 'claimed').keyid;
    const claimed = latest('claimed');
    expect(claimed.signed.version).to.equal(rolesBefore['claimed.json'].version + 1);
    expect(claimed.signed.delegations?.roles.map((d) => d.name) ?? []).to.not.include('project-dev');
    expect(claimed.signatures.map((s) => s.keyid)).to.deep.equal([claimedKey]);
    // The maintainers' roles keep their snapshot entries (TUF spec 5.5.5), unchanged.
    const after = snapshot().signed.meta!;
    for (const role of ['project-dev.json', 'project-dev--1.0.json']) expect(after[role], role).to.deep.equal(rolesBefore[role]);
    // The bytes are gone from the served tree now, not at the next gc.
    expect(fs.readdirSync(path.join(repo, 'site', 'packages', 'dev'))).to.deep.equal([]);
    expect(fs.existsSync(path.join(repo, 'site', 'simple', 'dev', 'index.html'))).to.equal(false);
    expect(fs.readFileSync(path.join(repo, 'site', 'simple', 'index.html'), 'utf8')).to.contain('alpha/').and.not.contain('dev/');
    const v = expectOk(await tufpipRepo(['verify', repo]), 'verify');
    expect(v.stdout).to.contain('role project-dev is in the snapshot but no longer delegated');
  });

  it('installers then get a clear refusal and nothing installed; plain pip finds no such project; other projects install', async () => {
    for (const req of ['dev', 'dev==1.0']) {
      const { r, venv, before } = await install(req);
      expect(r.code, r.stderr).to.equal(1);
      // No role lists its page any more: for the verified index there is no such project.
      expect(r.stderr).to.match(/^tufpip: error: not-on-index \[simple\/dev\/index\.html\]: no project dev on the index; nothing was installed$/m);
      expect(venv.fingerprint()).to.equal(before);
    }
    const venv = freshVenv();
    const err = await run(venv.python, ['-m', 'pip', 'install', '--index-url', `${server.url}simple/`, 'dev'], { env: pipEnv() }).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(err).to.match(/No matching distribution found for dev/);
    expect(server.requests).to.include('GET /simple/dev/ 404');
    expectOk((await install('alpha')).r, 'install alpha');
  });

  it('until it is claimed again the name is unprotected: the online key can publish it, and --require-developer-signed refuses that', async () => {
    expectOk(await tufpipRepo(['add', repo, await writeWheel(dists, dev('0.5'))]), 'add dev 0.5 with the online key');
    const venv = freshVenv();
    const before = venv.fingerprint();
    const refused = await tufpip(['--data-dir', dataDir, 'install', 'dev', '--require-developer-signed', '--python', venv.python]);
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/dev\/dev-0\.5-py3-none-any\.whl\]: policy .* requires project dev to be signed by its developers/);
    expect(venv.fingerprint()).to.equal(before);
    const plain = await install('dev');
    expectOk(plain.r, 'install dev (index-signed)');
    expect(plain.r.stdout).to.match(/dev-0\.5-py3-none-any\.whl +sha256:[0-9a-f]{64} +index-signed/);
  });

  it('the maintainers re-establish it: claim with new keys (the old ones would revive the old roles: a warning), release sign --fresh --index, add --signed; the taken-down release stays gone', async () => {
    // Claiming with the old key would put the taken-down roles back in force: the claim says so.
    const same = expectOk(await claim(repo, 'dev', [m[0]], 1), 'claim again with m1');
    expect(same.stderr).to.contain('warning: project-dev, project-dev--1.0 (left in the snapshot by a takedown) verify with these keys and are delegated again');
    const renewed = expectOk(await claim(repo, 'dev', [m[1]], 1), 'claim again with m2');
    expect(renewed.stderr).to.not.contain('left in the snapshot');
    const file = await writeWheel(dists, dev('1.1'));
    const out = path.join(tmpDir('tufpip-release-'), 'dev.release.json');
    const sign = (extra: string[]) => tufpipRepo(['release', 'sign', file, '--project', 'dev', '--key', m[1].pem, '--out', out, '--maintainer-key', m[1].pub, '--threshold', '1', ...extra]);
    const noIndex = await sign(['--fresh']);
    expect(noIndex.code).to.equal(2);
    expect(noIndex.stderr).to.match(/--fresh needs --index URL/);
    // Building on the published project role is refused: m2 never signed it.
    const onOld = await sign(['--index', server.url]);
    expect(onOld.code).to.equal(1);
    expect(onOld.stderr).to.match(/current project-dev metadata is not signed by 1 of the given maintainer keys/);

    const projectBefore = snapshot().signed.meta!['project-dev.json'].version;
    expectOk(await sign(['--fresh', '--index', server.url]), 'release sign --fresh');
    const bundle = JSON.parse(fs.readFileSync(out, 'utf8')) as { roles: Record<string, Signed> };
    expect(Object.keys(bundle.roles)).to.have.members(['project-dev', 'project-dev--1.1']);
    expect(bundle.roles['project-dev'].signed.version).to.equal(projectBefore + 1);
    expect(bundle.roles['project-dev'].signed.delegations?.roles.map((d) => d.name)).to.deep.equal(['project-dev--1.1']);
    expectOk(await tufpipRepo(['add', repo, '--signed', out, file]), 'add --signed');
    const v = expectOk(await tufpipRepo(['verify', repo]), 'verify');
    expect(v.stdout).to.contain('role project-dev--1.0 is in the snapshot but project-dev no longer delegates to it');

    const ok = await install('dev');
    expectOk(ok.r, 'install dev after re-establishing');
    expect(ok.r.stdout, ok.r.stdout).to.match(new RegExp(`dev-1\\.1-py3-none-any\\.whl +sha256:[0-9a-f]{64} +developer-signed: project-dev, key ${m[1].keyid.slice(0, 8)} \\(1 of 1; release role project-dev--1\\.1\\)`));
    expect(ok.venv.run('import dev; print(dev.VERSION)').trim()).to.equal('1.1');
    const gone = await install('dev==1.0');
    expect(gone.r.code).to.equal(1);
    expect(gone.r.stderr).to.match(/No matching distribution found for dev==1\.0/);
    expect(gone.venv.fingerprint()).to.equal(gone.before);
  });

  it('a recently-claimed project is taken down with the online key alone', async () => {
    expectOk(await tufpipRepo(['claim', repo, 'newbie', '--recent', '--key', m[0].pub, '--threshold', '1']), 'claim --recent');
    const r = expectOk(await tufpipRepo(['takedown', repo, 'newbie', '--json']), 'takedown newbie');
    expect((JSON.parse(r.stdout) as { revokedFrom: string }).revokedFrom).to.equal('recently-claimed');
    expect(latest('recently-claimed').signed.delegations?.roles.map((d) => d.name) ?? []).to.not.include('project-newbie');
    expectOk(await tufpipRepo(['verify', repo]), 'verify');
  });
});
