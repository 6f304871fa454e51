// Issue 4 "Tested end to end": PEP 480 with the real commands on both sides (tufpip-repo claim,
// release sign, release sign --add-signature, add --signed; tufpip install), real HTTP on loopback
// (test/helpers/malicious-mirror.ts, honest unless told otherwise), real pip into fresh venvs.
// The index: `alpha` (index-signed, online key) and `beta` (depends on alpha), claimed by three
// maintainers m1, m2, m3 with threshold 2. beta 1.0 was published before the claim.
// Every refusal: exit 1, the class of problem in the message, nothing installed (venv unchanged).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { RefusalKind } from '../client/lib/api.js';
import type { FetchReport } from '../client/lib/fetch-report.js';
import { serializeEnvelope } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { binForPath } from '../metadata/hash-bins.js';
import { shortKeyId } from '../metadata/keys.js';
import { projectPageHtml } from '../metadata/simple-html.js';
import type { ReleaseBundle } from '../repo-tools/commands/release.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import { MaliciousMirror, PublishedSite, forgeChain, metadataUrls, targetInfoOf, type MirrorRule } from './helpers/malicious-mirror.js';
import { claim, indexOnlyAdd, maintainers, signRelease, type Maintainer } from './helpers/pep480-fixture.js';
import { freshVenv } from './helpers/python.js';
import { copyRepo, makeRepo, expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { jsonOf } from './helpers/trusted-index.js';
import { wheelFilename, writeWheel, type WheelSpec } from './helpers/wheels.js';

const BINS = 16;
const ALPHA: WheelSpec = { name: 'alpha', version: '1.0' };
const BETA_1_0: WheelSpec = { name: 'beta', version: '1.0', deps: ['alpha'] };
const beta = (version: string, body?: string): WheelSpec => ({ ...BETA_1_0, version, body });
const target = (w: WheelSpec) => `packages/${w.name}/${wheelFilename(w)}`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const tally = { tried: 0, refused: 0 };

/** A repository change that must be refused: non-zero exit, the reason, nothing published. */
async function expectRepoRefuses(repoDir: string, args: string[], why: RegExp): Promise<void> {
  tally.tried += 1;
  const ts = path.join(repoDir, 'site', 'metadata', 'timestamp.json');
  const before = fs.readFileSync(ts);
  const r = await tufpipRepo(args);
  expect(r.code, r.stdout).to.equal(1);
  expect(r.stderr).to.match(why);
  expect(r.stderr).to.match(/nothing was published/);
  expect(fs.readFileSync(ts).equals(before), 'timestamp.json must not change').to.equal(true);
  tally.refused += 1;
}

describe('PEP 480 end to end: maintainer-signed releases through tufpip install, real pip', function () {
  this.timeout(600_000);
  let m: Maintainer[];
  let wheels: string;
  /** Templates: beta claimed (2 of m1, m2, m3) with no signed release; the same plus release 1.0 signed by m1 and m2. */
  let claimedOnly: string;
  let released: string;
  let servers: MaliciousMirror[] = [];

  /** Serves a copy of a template repository; a data directory that trusts it; install/fetch runners. */
  async function index(template: string) {
    const dir = copyRepo(template);
    const mirror = await MaliciousMirror.start(path.join(dir, 'site'));
    servers.push(mirror);
    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', mirror.url, '--root', path.join(dir, 'site', 'metadata', '1.root.json')]), 'trust add');
    const run = (args: string[], cwd?: string) => tufpip(['--data-dir', dataDir, ...args], { cwd });
    return {
      dir,
      mirror,
      run,
      /** Installs into a fresh venv; returns the result and the venv. */
      async install(req: string, args: string[] = [], cwd?: string) {
        const venv = freshVenv();
        return { r: await run(['install', req, '--python', venv.python, ...args], cwd), venv };
      },
      /** One refused install: exit 1, the class and `names` in the message, nothing installed. */
      async refused(req: string, kind: RefusalKind, names: RegExp, o: { args?: string[]; cwd?: string } = {}): Promise<RunResult> {
        tally.tried += 1;
        const venv = freshVenv();
        const before = venv.fingerprint();
        const r = await run(['install', req, '--python', venv.python, '--json', ...(o.args ?? [])], o.cwd);
        expect(r.code, `${r.stderr}\n${r.stdout}`).to.equal(1);
        expect(jsonOf<{ error: { kind: string } }>(r).error.kind, r.stderr).to.equal(kind);
        expect(r.stderr).to.match(new RegExp(`^tufpip: error: refused \\(${kind}\\)`, 'm'));
        expect(r.stderr).to.match(names);
        expect(r.stderr).to.match(/nothing was installed/);
        expect(venv.fingerprint(), 'the venv must be unchanged').to.equal(before);
        tally.refused += 1;
        return r;
      },
    };
  }

  before(async function () {
    this.timeout(300_000);
    const repo = await makeRepo({ bins: BINS, wheels: [ALPHA, BETA_1_0] });
    wheels = repo.wheelsDir;
    m = await maintainers(['m1', 'm2', 'm3']);
    const claimed = expectOk(await claim(repo.dir, 'beta', m, 2), 'claim beta');
    // issue 4: files published before the claim are served to TUF clients only once signed.
    expect(claimed.stdout).to.match(/beta-1\.0-py3-none-any\.whl/);
    expect(claimed.stdout).to.match(/only once a maintainer signs them/);
    claimedOnly = copyRepo(repo.dir);
    const bundle = await signRelease({ project: 'beta', files: [path.join(wheels, wheelFilename(BETA_1_0))], signers: [m[0], m[1]], keys: m, threshold: 2, out: path.join(tmpDir('tufpip-release-'), 'beta.release.json') });
    expectOk(await tufpipRepo(['add', repo.dir, '--signed', bundle, path.join(wheels, wheelFilename(BETA_1_0))]), 'add --signed');
    released = repo.dir;
  });

  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  after(() => {
    console.log(`PEP 480 end to end: ${tally.tried} attacks and bad releases tried, ${tally.refused} refused`);
  });

  it('threshold 2: one signature is refused by the repository, two publish, and tufpip install names both keys', async () => {
    const ix = await index(claimedOnly);
    const file = path.join(wheels, wheelFilename(BETA_1_0));
    const bundle = path.join(tmpDir('tufpip-release-'), 'beta.release.json');
    await signRelease({ project: 'beta', files: [file], signers: [m[0]], keys: m, threshold: 2, out: bundle });
    const status = JSON.parse(expectOk(await tufpipRepo(['release', 'status', bundle, '--json'])).stdout) as { role: string; signedBy: string[]; complete: boolean }[];
    expect(status.map((s) => [s.role, s.signedBy.length, s.complete])).to.have.deep.members([['project-beta', 1, false], ['project-beta--1.0', 1, false]]);
    // PEP 480 upload check: a threshold of the project's registered keys.
    await expectRepoRefuses(ix.dir, ['add', ix.dir, '--signed', bundle, file], /project-beta: project-beta was signed by 1\/2 keys/);

    expectOk(await tufpipRepo(['release', 'sign', '--add-signature', bundle, '--key', m[1].pem]), 'add-signature m2');
    const added = expectOk(await tufpipRepo(['add', ix.dir, '--signed', bundle, file]), 'add --signed');
    expect(added.stdout).to.match(/verified project-beta v1: 2 of 2 maintainer signatures/);

    // The keys whose signatures verified, in the delegation's (sorted key ID) order, of the 3 registered.
    const signers = [m[0].keyid, m[1].keyid].sort();
    const online = privateKeyFromPem(fs.readFileSync(path.join(ix.dir, 'keys', 'online.pem'), 'utf8'), 'online').keyid;
    const { r, venv } = await ix.install('beta');
    expectOk(r, 'tufpip install beta');
    expect(r.stdout).to.match(new RegExp(`beta-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +developer-signed: project-beta, keys ${signers.map(shortKeyId).join(', ')} \\(2 of 3; release role project-beta--1\\.0\\)`));
    expect(r.stdout).to.match(new RegExp(`alpha-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +index-signed \\(online key ${shortKeyId(online)}\\)`));
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    expect(venv.run('import beta; print(beta.VERSION)').trim()).to.equal('1.0');

    // The machine-readable report says the same.
    const fetched = jsonOf<FetchReport>(expectOk(await ix.run(['fetch', 'beta', '-d', path.join(tmpDir('tufpip-dest-'), 'out'), '--json']), 'fetch --json'));
    const b = fetched.files.find((f) => f.project === 'beta')!;
    expect(b.vouchedBy).to.deep.equal({ kind: 'developer', role: 'project-beta--1.0', keyids: m.map((k) => k.keyid).sort(), threshold: 2, signedBy: signers });
    expect(fetched.files.find((f) => f.project === 'alpha')!.vouchedBy).to.include({ kind: 'index', threshold: 1 });
  });

  it("a simulated index compromise (the online key adds beta 1.1 to the bins and simple page) is refused: the signature gap, nothing installed", async () => {
    const ix = await index(released);
    const evil = await writeWheel(path.join(tmpDir('tufpip-evil-'), 'dist'), beta('1.1', 'import os  # planted by whoever holds the online key\n'));
    await indexOnlyAdd(ix.dir, evil);
    // PEP 458 alone cannot tell: the repository's own verification accepts the compromised state.
    expectOk(await tufpipRepo(['verify', ix.dir]), 'verify');
    await ix.refused('beta', 'missing-developer-signature', new RegExp(
      `\\[${esc(target(beta('1.1')))}, index [^\\]]+\\]: project beta is developer-signed \\(project-beta, delegated by claimed, 2 of 3 keys: [0-9a-f]{8}, [0-9a-f]{8}, [0-9a-f]{8}\\) ` +
        `and its maintainers did not sign this file, yet the index's ${binForPath(target(beta('1.1')), BINS)} lists it: the index may be compromised`,
    ));
    expect(ix.mirror.requestsFor(new RegExp(`${esc(wheelFilename(beta('1.1')))}$`)), 'the planted wheel is never downloaded').to.deep.equal([]);
    // The maintainers' release is still there for whoever pins it.
    const { r, venv } = await ix.install('beta==1.0');
    expectOk(r, 'install beta==1.0');
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
  });

  it('a claimed project with no signed release yet: its pre-claim file is refused as missing-developer-signature', async () => {
    const ix = await index(claimedOnly);
    // TUF walk: claimed delegates packages/beta/* to project-beta (terminating), which the snapshot
    // does not list yet: the signature gap, not a broken index (client/lib/index-client.ts find()).
    await ix.refused('beta', 'missing-developer-signature', new RegExp(
      `\\[${esc(target(BETA_1_0))}, index [^\\]]+\\]: project beta is developer-signed \\(project-beta, delegated by claimed, 2 of 3 keys.*yet the index's bin-[0-9a-f] lists it: the index may be compromised`,
    ));
    // Unclaimed projects are unaffected.
    const { r, venv } = await ix.install('alpha');
    expectOk(r, 'install alpha');
    expect(venv.installed()).to.include('alpha');
  });

  it('a maintainer key removed by a new claim: a release it signed is refused by the repository, and by a client given it directly', async () => {
    const ix = await index(released);
    // m3 leaves the project: the operator claims beta again with m1 and m2 only.
    expectOk(await claim(ix.dir, 'beta', [m[0], m[1]], 2), 'claim beta again without m3');
    // Release 1.0, signed by m1 and m2 who both remain, still installs.
    const { r, venv } = await ix.install('beta');
    expectOk(r, 'install beta after the key change');
    expect(venv.run('import beta; print(beta.VERSION)').trim()).to.equal('1.0');

    const file = await writeWheel(path.join(tmpDir('tufpip-dist-'), 'dist'), beta('2.0'));
    const bundle = await signRelease({
      project: 'beta', files: [file], signers: [m[0], m[2]], keys: m, threshold: 2,
      from: path.join(ix.dir, 'site', 'metadata'), out: path.join(tmpDir('tufpip-release-'), 'beta.release.json'),
    });
    await expectRepoRefuses(ix.dir, ['add', ix.dir, '--signed', bundle, file], /project-beta: project-beta was signed by 1\/2 keys/);

    // The same release published anyway, as a compromised index (online key) would: the client
    // verifies project-beta against the keys claimed now names (TUF spec 5.6.3) and refuses it.
    const b = JSON.parse(fs.readFileSync(bundle, 'utf8')) as ReleaseBundle;
    const presigned = Object.fromEntries(Object.entries(b.roles).map(([role, env]) => [role, Buffer.from(serializeEnvelope(canonicalize(env.signed), env.signatures), 'utf8')]));
    const pub = new PublishedSite(path.join(ix.dir, 'site'));
    const wheel = fs.readFileSync(file);
    const oldPage = 'simple/beta/index.html';
    const page = Buffer.from(projectPageHtml('beta', [
      { filename: wheelFilename(BETA_1_0), sha256: targetInfoOf(fs.readFileSync(path.join(wheels, wheelFilename(BETA_1_0)))).hashes.sha256 },
      { filename: wheelFilename(beta('2.0')), sha256: targetInfoOf(wheel).hashes.sha256 },
    ]));
    const pageBin = binForPath(oldPage, BINS);
    const online = privateKeyFromPem(fs.readFileSync(path.join(ix.dir, 'keys', 'online.pem'), 'utf8'), 'online');
    const forged = await forgeChain(pub.site, online, {
      presigned,
      roles: { [pageBin]: (t) => void (t.targets[oldPage] = targetInfoOf(page)) },
      content: { [oldPage]: page, [target(beta('2.0'))]: wheel },
    });
    const rule: MirrorRule = ix.mirror.serveFiles(forged, 'release signed with a removed key');
    await ix.refused('beta', 'bad-signature', /\[packages\/beta\/beta-2\.0-py3-none-any\.whl, role project-beta, index [^\]]+\]: project-beta was signed by 1\/2 keys/);
    expect(ix.mirror.requestsFor(metadataUrls('project-beta')).some((q) => q.rule === rule.label), 'the forged project-beta was served').to.equal(true);

  });

  it('--require-developer-signed refuses the index-signed dependency; a tufpip.toml policy names projects', async () => {
    const ix = await index(released);
    await ix.refused('beta', 'missing-developer-signature', new RegExp(`\\[${esc(target(ALPHA))}\\]: policy \\(--require-developer-signed\\) requires project alpha to be signed by its developers`), { args: ['--require-developer-signed'] });

    const cwd = tmpDir('tufpip-policy-');
    const policy = path.join(cwd, 'tufpip.toml');
    fs.writeFileSync(policy, '[policy]\nrequire-developer-signed = ["Beta"]\n');
    const ok = await ix.install('beta', [], cwd);
    expectOk(ok.r, 'install beta under a policy requiring beta to be developer-signed');
    expect(ok.venv.installed()).to.include.members(['alpha', 'beta']);

    fs.writeFileSync(policy, '[policy]\nrequire-developer-signed = ["beta", "alpha"]\n');
    await ix.refused('beta', 'missing-developer-signature', new RegExp(`\\[${esc(target(ALPHA))}\\]: policy \\(${esc(policy)}\\) requires project alpha`), { cwd });
  });

  it('recently claimed (online key), then promoted to claimed: the release installs developer-signed before and after', async () => {
    const repo = await makeRepo({ bins: BINS, wheels: [ALPHA] });
    const [dev] = await maintainers(['dev']);
    expectOk(await tufpipRepo(['claim', repo.dir, 'beta', '--recent', '--threshold', '1', '--key', dev.pub]), 'claim --recent');
    const file = await writeWheel(path.join(tmpDir('tufpip-dist-'), 'dist'), BETA_1_0);
    const bundle = await signRelease({ project: 'beta', files: [file], signers: [dev], keys: [dev], threshold: 1, out: path.join(tmpDir('tufpip-release-'), 'beta.release.json') });
    expectOk(await tufpipRepo(['add', repo.dir, '--signed', bundle, file]), 'add --signed');
    const line = new RegExp(`beta-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +developer-signed: project-beta, key ${shortKeyId(dev.keyid)} \\(1 of 1; release role project-beta--1\\.0\\)`);
    let ix = await index(repo.dir);
    let { r } = await ix.install('beta');
    expect(expectOk(r, 'install (recently-claimed)').stdout).to.match(line);

    expectOk(await tufpipRepo(['promote', repo.dir, '--offline-key', path.join(repo.dir, 'keys', 'claimed.pem')]), 'promote');
    ix = await index(repo.dir);
    ({ r } = await ix.install('beta'));
    expect(expectOk(r, 'install (claimed)').stdout).to.match(line);
  });
});
