// Emergency takedown of a developer-signed project (PEP 480), with the real commands on both
// sides: `tufpip-repo takedown` (one transaction signed with the offline claimed key) served by
// the real `tufpip-repo serve`, what `tufpip install` and plain pip then see in real venvs, and
// how the maintainers re-establish the project (claim, release sign --fresh, add --signed).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { binForPath } from '../metadata/hash-bins.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { tufpip, tufpipRepo } from './helpers/cli.js';
import { claim, indexOnlyAdd, maintainers, signRelease, type Maintainer } from './helpers/pep480-fixture.js';
import { freshVenv, pipEnv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { BACKENDS, makeBackendRepo, publishedRole, publishedSnapshot, publishedTarget, publishedTimestamp, startIndexReader, useBackends, type BackendRepo, type IndexReader } from './helpers/backends.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel, type WheelSpec } from './helpers/wheels.js';

const BINS = 16;
const execp = promisify(execFile);
const dev = (version: string): WheelSpec => ({ name: 'dev', version, body: `VERSION = "${version}"\n` });

interface Signed {
  signed: {
    version: number;
    targets?: Record<string, unknown>;
    delegations?: { keys: Record<string, unknown>; roles: { name: string; keyids: string[]; threshold: number; terminating: boolean; paths: string[] }[] };
    meta?: Record<string, { version: number }>;
  };
  signatures: { keyid: string }[];
}

useBackends();

for (const kind of BACKENDS) {
  describe(`repo (${kind}): emergency takedown of a developer-signed project, and its re-establishment`, function () {
    this.timeout(300_000);
    let ix: BackendRepo;
    let repo: string;
    let dists: string;
    let m: Maintainer[];
    let server: IndexReader;
    let dataDir: string;
    const timestamp = () => publishedTimestamp(ix);
    const snapshot = () => publishedSnapshot(ix) as Promise<Signed>;
    const latest = (role: string) => publishedRole(ix, role) as Promise<Signed>;
    const run = (args: string[]) => ix.run(args);
    const install = async (req: string) => {
      const venv = freshVenv();
      const before = venv.fingerprint();
      const r = await tufpip(['--data-dir', dataDir, 'install', req, '--python', venv.python]);
      return { r, venv, before };
    };

    before(async () => {
      const base = tmpDir('tufpip-takedown-');
      dists = path.join(base, 'dists');
      ix = await makeBackendRepo(kind, { bins: BINS });
      repo = ix.dir;
      // dev 0.9 was published by the index before the claim (index-signed, in its bin); 1.0 is signed by m1.
      expectOk(await run(['add', repo, await writeWheel(dists, { name: 'alpha', version: '1.0' }), await writeWheel(dists, dev('0.9'))]), 'add');
      m = await maintainers(['m1', 'm2']);
      expectOk(await claim(repo, 'dev', [m[0]], 1, ix.env), 'claim');
      const file = await writeWheel(dists, dev('1.0'));
      const bundle = await signRelease({ project: 'dev', files: [file], signers: [m[0]], keys: [m[0]], threshold: 1, out: path.join(base, 'dev.release.json') });
      expectOk(await run(['add', repo, '--signed', bundle, file]), 'add --signed');
      server = await startIndexReader(ix);
      dataDir = path.join(tmpDir('tufpip-data-'), 'data');
      expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', server.url, '--root', ix.root1]), 'trust add');
      // An installer has the project already (its client holds metadata delegating to the maintainers).
      const { r, venv } = await install('dev');
      expectOk(r, 'install dev before the takedown');
      expect(r.stdout).to.match(/dev-1\.0-py3-none-any\.whl +sha256:[0-9a-f]{64} +developer-signed: project-dev/);
      expect(venv.run('import dev; print(dev.VERSION)').trim()).to.equal('1.0');
    });

    after(async () => {
      if (server) await server.stop();
    });

    it('refuses without the claimed key, with another key, and for a project that is not developer-signed; nothing published', async () => {
      const before = await timestamp();
      const claimedPem = path.join(repo, 'keys', 'claimed.pem');
      const cases: [string[], number, RegExp][] = [
        [['takedown', repo, 'dev'], 2, /signing claimed needs its offline key: --offline-key FILE/],
        [['takedown', repo, 'dev', '--offline-key', path.join(repo, 'keys', 'online.pem')], 1, /is not a key of the claimed role/],
        [['takedown', repo, 'alpha', '--offline-key', claimedPem], 1, /project alpha is not developer-signed .*tufpip-repo remove; nothing was published/],
      ];
      for (const [args, code, why] of cases) {
        const r = await run(args);
        expect(r.code, r.stderr).to.equal(code);
        expect(r.stderr).to.match(why);
      }
      expect((await timestamp()).equals(before), 'nothing published').to.equal(true);
    });

    it("one transaction signed with the claimed key: project-dev re-delegated to that key, its next version empty, the page kept, the files' bytes gone; verify passes", async () => {
      const rolesBefore = (await snapshot()).signed.meta!;
      const claimedKey = privateKeyFromPem(fs.readFileSync(path.join(repo, 'keys', 'claimed.pem'), 'utf8'), 'claimed').keyid;
      const r = expectOk(await run(['takedown', repo, 'dev', '--offline-key', path.join(repo, 'keys', 'claimed.pem'), '--json']), 'takedown');
      const out = JSON.parse(r.stdout) as { revokedFrom: string; keyid: string; projectVersion: number; removed: string[]; orphanedRoles: string[]; commit: { roles: { role: string }[] } };
      expect(out.revokedFrom).to.equal('claimed');
      expect(out.keyid).to.equal(claimedKey);
      expect(out.removed).to.deep.equal(['dev-0.9-py3-none-any.whl', 'dev-1.0-py3-none-any.whl']);
      expect(out.orphanedRoles).to.deep.equal(['project-dev--1.0']);
      const bins = new Set([binForPath('simple/dev/index.html', BINS), binForPath('packages/dev/dev-0.9-py3-none-any.whl', BINS)]);
      expect(out.commit.roles.map((x) => x.role)).to.have.members(['claimed', 'project-dev', ...bins, 'snapshot', 'timestamp']);

      // claimed: the next version; project-dev still delegated (terminating, packages/dev/*), to the claimed key alone.
      const claimed = (await latest('claimed'));
      expect(claimed.signed.version).to.equal(rolesBefore['claimed.json'].version + 1);
      expect(claimed.signatures.map((s) => s.keyid)).to.deep.equal([claimedKey]);
      const d = claimed.signed.delegations!.roles.find((x) => x.name === 'project-dev');
      expect(d).to.deep.equal({ name: 'project-dev', keyids: [claimedKey], threshold: 1, terminating: true, paths: ['packages/dev/*'] });
      expect(Object.keys(claimed.signed.delegations!.keys)).to.not.include(m[0].keyid);
      // project-dev: published version + 1, signed by the claimed key, listing nothing, delegating nothing.
      const project = (await latest('project-dev'));
      expect(project.signed.version).to.equal(rolesBefore['project-dev.json'].version + 1).and.to.equal(out.projectVersion);
      expect(project.signatures.map((s) => s.keyid)).to.deep.equal([claimedKey]);
      expect(project.signed.targets).to.deep.equal({});
      expect(project.signed.delegations).to.equal(undefined);
      // The maintainers' release role keeps its snapshot entry (TUF spec 5.5.5), unchanged.
      expect((await snapshot()).signed.meta!['project-dev--1.0.json']).to.deep.equal(rolesBefore['project-dev--1.0.json']);
      // The bytes are gone from the served tree now (no copy, plain or hash-named), not at the next
      // gc; the page stays, not yanked.
      expect(await ix.list('packages/dev/')).to.deep.equal([]);
      const page = (await publishedTarget(ix, 'simple/dev/index.html'))!.toString('utf8');
      expect(page).to.match(/<a href="\.\.\/\.\.\/packages\/dev\/dev-1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}">/);
      expect(page).to.not.contain('dev-0.9');
      expect((await publishedTarget(ix, 'simple/index.html'))!.toString('utf8')).to.contain('alpha/').and.contain('dev/');
      const v = expectOk(await run(['verify', repo]), 'verify');
      expect(v.stdout).to.contain('role project-dev--1.0 is in the snapshot but project-dev no longer delegates to it');
    });

    it('installers then get the signature-gap alarm (on purpose) for the taken-down files, nothing installed; the bytes are no longer served (plain pip: 404); other projects install', async () => {
      // Pinned or not, pip takes the listed file and asks the verifying proxy for it: the alarm.
      const pinned = await install('dev==1.0');
      expect(pinned.r.code, pinned.r.stderr).to.equal(1);
      expect(pinned.r.stderr, pinned.r.stderr).to.match(
        /refused \(missing-developer-signature\) \[packages\/dev\/dev-1\.0-py3-none-any\.whl, index [^\]]+\]: project dev is developer-signed \(project-dev, delegated by claimed, 1 of 1 keys: [0-9a-f]{8}\) and its maintainers did not sign this file, and no role of the index lists it either: the index may be compromised/,
      );
      expect(pinned.r.stderr).to.not.match(/not-on-index/);
      expect(pinned.venv.fingerprint()).to.equal(pinned.before);
      const unpinned = await install('dev');
      expect(unpinned.r.code, unpinned.r.stderr).to.equal(1);
      expect(unpinned.r.stderr, unpinned.r.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/dev\/dev-1\.0-py3-none-any\.whl, index [^\]]+\]: project dev is developer-signed/);
      expect(unpinned.venv.fingerprint()).to.equal(unpinned.before);
      // The listed file's bytes are gone (`serve`: 404; a bucket that anyone may read but not list
      // answers 403 for a key it does not hold).
      const gone = kind === 'local' ? 404 : 403;
      const plain = await fetch(`${server.url}packages/dev/dev-1.0-py3-none-any.whl`);
      await plain.arrayBuffer();
      expect(plain.status, 'the taken-down file is not served').to.equal(gone);
      expectOk((await install('alpha')).r, 'install alpha');
      // Plain pip (no TUF) reads the plain-named pages (simple/dev/index.html): checked where the
      // index guarantees them, the local tree; this suite relies on no plain-named object on S3.
      if (kind !== 'local') return;
      const venv = freshVenv();
      const before = venv.fingerprint();
      const err = await execp(venv.python, ['-m', 'pip', 'install', '--index-url', `${server.url}simple/`, 'dev==1.0'], { env: pipEnv() }).then(
        () => 'installed',
        (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
      // Plain pip takes the listed file: its bytes are gone.
      expect(err, err).to.match(/HTTP error 404 while getting .*dev-1\.0-py3-none-any\.whl/);
      expect(server.requests).to.include('GET /simple/dev/ 200');
      expect(server.requests).to.include('GET /packages/dev/dev-1.0-py3-none-any.whl 404');
      expect(venv.fingerprint()).to.equal(before);
    });

    it('the name stays protected: add refuses it, and a file the online key alone publishes for it is refused with the alarm', async () => {
      const evil = await writeWheel(dists, dev('0.5'));
      const add = await run(['add', repo, evil]);
      expect(add.code, add.stderr).to.not.equal(0);
      expect(add.stderr).to.match(/project dev is developer-signed \(PEP 480\)/);
      // A compromised index: the online key puts dev 0.5 in its bin and on the page.
      await indexOnlyAdd(repo, evil);
      expectOk(await run(['verify', repo]), 'verify');
      const { r, venv, before } = await install('dev==0.5');
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(
        new RegExp(`refused \\(missing-developer-signature\\) \\[packages/dev/dev-0\\.5-py3-none-any\\.whl, index [^\\]]+\\]: project dev is developer-signed .* yet the index's ${binForPath('packages/dev/dev-0.5-py3-none-any.whl', BINS)} lists it: the index may be compromised`),
      );
      expect(venv.fingerprint()).to.equal(before);
      expect(server.requests.filter((q) => q.includes('dev-0.5')), 'the planted wheel is never downloaded').to.deep.equal([]);
      expect(server.requests, 'the log sees the client').to.include('GET /metadata/timestamp.json 200');
    });

    it('the maintainers re-establish it: claim with new keys replaces the delegation, release sign --fresh --index continues the version numbers, add --signed; the taken-down release stays gone', async () => {
      const taken = (await latest('project-dev')).signed.version;
      const renewed = expectOk(await claim(repo, 'dev', [m[1]], 1, ix.env), 'claim again with m2');
      expect(renewed.stderr).to.not.contain('left in the snapshot');
      expect(renewed.stderr).to.contain('dev was taken down: until its maintainers publish a release signed with these keys (release sign --fresh --index URL, then add --signed), TUF clients refuse its files');
      expect((await latest('claimed')).signed.delegations!.roles.find((x) => x.name === 'project-dev')!.keyids).to.deep.equal([m[1].keyid]);
      // Until the maintainers publish, project-dev is still the takedown's: a warning, not a problem.
      const waiting = expectOk(await run(['verify', repo]), 'verify after the claim');
      expect(waiting.stdout + waiting.stderr).to.contain("project dev was taken down and claimed again: project-dev is still the takedown's (signed by claimed's key)");
      const interim = await install('dev==1.0');
      expect(interim.r.code, interim.r.stderr).to.equal(1);
      // Claimed again, before the maintainers publish: project-dev is still the takedown's.
      expect(interim.r.stderr, interim.r.stderr).to.match(/refused \(bad-signature\) \[packages\/dev\/dev-1\.0-py3-none-any\.whl, role project-dev, index [^\]]+\]: project-dev was signed by 0\/1 keys/);
      expect(interim.venv.fingerprint()).to.equal(interim.before);
      const file = await writeWheel(dists, dev('1.1'));
      const out = path.join(tmpDir('tufpip-release-'), 'dev.release.json');
      const sign = (extra: string[]) => tufpipRepo(['release', 'sign', file, '--project', 'dev', '--key', m[1].pem, '--out', out, '--maintainer-key', m[1].pub, '--threshold', '1', ...extra]);
      const noIndex = await sign(['--fresh']);
      expect(noIndex.code).to.equal(2);
      expect(noIndex.stderr).to.match(/--fresh needs --index URL/);
      // Building on the published project role is refused: the operator, not m2, signed it.
      const onOld = await sign(['--index', server.url]);
      expect(onOld.code).to.equal(1);
      expect(onOld.stderr, onOld.stderr).to.match(/current project-dev metadata is not signed by 1 of the given maintainer keys/);

      expectOk(await sign(['--fresh', '--index', server.url]), 'release sign --fresh');
      const bundle = JSON.parse(fs.readFileSync(out, 'utf8')) as { roles: Record<string, Signed> };
      expect(Object.keys(bundle.roles)).to.have.members(['project-dev', 'project-dev--1.1']);
      // The operator-signed version N+1 is read from the index: the maintainers sign N+2.
      expect(bundle.roles['project-dev'].signed.version).to.equal(taken + 1);
      expect(bundle.roles['project-dev'].signed.delegations?.roles.map((d) => d.name)).to.deep.equal(['project-dev--1.1']);
      expectOk(await run(['add', repo, '--signed', out, file]), 'add --signed');
      expectOk(await run(['verify', repo]), 'verify');

      const ok = await install('dev');
      expectOk(ok.r, 'install dev after re-establishing');
      expect(ok.r.stdout, ok.r.stdout).to.match(new RegExp(`dev-1\\.1-py3-none-any\\.whl +sha256:[0-9a-f]{64} +developer-signed: project-dev, key ${m[1].keyid.slice(0, 8)} \\(1 of 1; release role project-dev--1\\.1\\)`));
      expect(ok.venv.run('import dev; print(dev.VERSION)').trim()).to.equal('1.1');
      const gone = await install('dev==1.0');
      expect(gone.r.code).to.equal(1);
      expect(gone.r.stderr).to.match(/No matching distribution found for dev==1\.0/);
      expect(gone.venv.fingerprint()).to.equal(gone.before);
    });

    it('a recently-claimed project is taken down with the online key alone (re-delegated to it), installers get the alarm, promote moves the takedown to the claimed key, and it can be claimed again', async () => {
      const onlineKey = privateKeyFromPem(fs.readFileSync(path.join(repo, 'keys', 'online.pem'), 'utf8'), 'online').keyid;
      expectOk(await run(['claim', repo, 'newbie', '--recent', '--key', m[0].pub, '--threshold', '1']), 'claim --recent');
      const file = await writeWheel(dists, { name: 'newbie', version: '0.1' });
      const bundle = await signRelease({ project: 'newbie', files: [file], signers: [m[0]], keys: [m[0]], threshold: 1, out: path.join(tmpDir('tufpip-release-'), 'newbie.release.json') });
      expectOk(await run(['add', repo, '--signed', bundle, file]), 'add --signed newbie');
      expectOk((await install('newbie')).r, 'install newbie before the takedown');

      const r = expectOk(await run(['takedown', repo, 'newbie', '--json']), 'takedown newbie');
      const out = JSON.parse(r.stdout) as { revokedFrom: string; keyid: string };
      expect(out.revokedFrom).to.equal('recently-claimed');
      expect(out.keyid).to.equal(onlineKey);
      const d = (await latest('recently-claimed')).signed.delegations!.roles.find((x) => x.name === 'project-newbie');
      expect(d).to.deep.equal({ name: 'project-newbie', keyids: [onlineKey], threshold: 1, terminating: true, paths: ['packages/newbie/*'] });
      expect((await latest('project-newbie')).signatures.map((s) => s.keyid)).to.deep.equal([onlineKey]);
      expectOk(await run(['verify', repo]), 'verify');
      const { r: refused, venv, before } = await install('newbie==0.1');
      expect(refused.code, refused.stderr).to.equal(1);
      expect(refused.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/newbie\/newbie-0\.1-py3-none-any\.whl, index [^\]]+\]: project newbie is developer-signed \(project-newbie, delegated by recently-claimed, 1 of 1 keys/);
      expect(venv.fingerprint()).to.equal(before);

      // Promoted while taken down: claimed must not come to trust the online key.
      const claimedKey = privateKeyFromPem(fs.readFileSync(path.join(repo, 'keys', 'claimed.pem'), 'utf8'), 'claimed').keyid;
      const taken = (await latest('project-newbie')).signed.version;
      expectOk(await run(['promote', repo, '--offline-key', path.join(repo, 'keys', 'claimed.pem')]), 'promote');
      const promoted = (await latest('claimed')).signed.delegations!;
      expect(promoted.roles.find((x) => x.name === 'project-newbie')).to.deep.equal({ name: 'project-newbie', keyids: [claimedKey], threshold: 1, terminating: true, paths: ['packages/newbie/*'] });
      expect(Object.keys(promoted.keys)).to.not.include(onlineKey);
      expect((await latest('project-newbie')).signed.version).to.equal(taken + 1);
      expect((await latest('project-newbie')).signatures.map((s) => s.keyid)).to.deep.equal([claimedKey]);
      expectOk(await run(['verify', repo]), 'verify after promote');
      const again = await install('newbie==0.1');
      expect(again.r.stderr, again.r.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/newbie\/newbie-0\.1-py3-none-any\.whl, index [^\]]+\]: project newbie is developer-signed \(project-newbie, delegated by claimed, 1 of 1 keys/);
      expect(again.venv.fingerprint()).to.equal(again.before);

      const reclaimed = expectOk(await claim(repo, 'newbie', [m[1]], 1, ix.env), 'claim again, new key');
      expect(reclaimed.stderr).to.contain('newbie was taken down');
      expect((await latest('claimed')).signed.delegations!.roles.find((x) => x.name === 'project-newbie')!.keyids).to.deep.equal([m[1].keyid]);
      expectOk(await run(['verify', repo]), 'verify');
    });

    it("verify's allowance is for the takedown's empty role only: a project role the new keys did not sign after an ordinary re-key stays a problem", async () => {
      const o = await makeBackendRepo(kind, { bins: BINS });
      const other = o.dir;
      expectOk(await claim(other, 'dev', [m[0]], 1, o.env), 'claim');
      const file = await writeWheel(dists, dev('2.0'));
      const bundle = await signRelease({ project: 'dev', files: [file], signers: [m[0]], keys: [m[0]], threshold: 1, out: path.join(tmpDir('tufpip-release-'), 'dev.release.json') });
      expectOk(await o.run(['add', other, '--signed', bundle, file]), 'add --signed');
      expectOk(await claim(other, 'dev', [m[1]], 1, o.env), 'claim with another key');
      const v = await o.run(['verify', other]);
      expect(v.code, v.stdout + v.stderr).to.equal(1);
      expect(v.stderr).to.match(/role project-dev: .*project-dev was signed by 0\/1 keys/);
      expect(v.stdout + v.stderr).to.not.contain('taken down');
    });
  });
}
