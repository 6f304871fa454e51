// Key rotation without alarms (DESIGN.md "Installer memory", metadata/key-transition.ts): a lock
// pins gamma to its maintainers' keys A (2 of 3); the maintainers move to new keys with
// `tufpip-repo release rotate-keys` (signed by a threshold of the old AND of the new keys), the
// transition is published as a target of project-gamma, and `claimed` delegates gamma to the new
// keys. `lock --check` then reports kind `rotation` and passes, `lock --upgrade` records the new
// pin without --accept-signer-change, and `install --locked` of the new lock installs (real pip).
// A transition signed by too few old keys, too few new keys, or for another project does not
// count: the change stays a `substitution` alarm that says why.
import './setup.js';
import { expect } from 'chai';
import fs from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { transitionPath } from '../metadata/key-transition.js';
import { projectListHtml, projectPageHtml } from '../metadata/simple-html.js';
import { sha256Hex } from '../metadata/hash.js';
import { tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import { claim, maintainers, signRelease, type Maintainer } from './helpers/pep480-fixture.js';
import { MaliciousMirror } from './helpers/malicious-mirror.js';
import { freshVenv } from './helpers/python.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { readLock, validatePylock } from './helpers/pylock.js';
import { jsonOf } from './helpers/trusted-index.js';
import { TufFixture, delegation, delegationsOf, newKey, type TestKey } from './helpers/tuf-fixture.js';
import { wheelBytes, wheelFilename, type WheelSpec } from './helpers/wheels.js';

const GAMMA: WheelSpec = { name: 'gamma', version: '1.0', deps: ['alpha'] };
const ALPHA: WheelSpec = { name: 'alpha', version: '1.0' };

/** A maintainer's key files as the fixture signs with them. */
const testKey = (m: Maintainer): TestKey => ({ keyid: m.keyid, pub: JSON.parse(fs.readFileSync(m.pub, 'utf8')), priv: createPrivateKey(fs.readFileSync(m.pem)) });

interface Ix {
  f: TufFixture;
  claimedKey: TestKey;
  run(args: string[]): Promise<RunResult>;
  claimedVersion: number;
}

/** targets -> claimed -> project-gamma (KEYS, THRESHOLD, terminating); targets -> index (alpha, pages). */
async function pep480Index(keys: Maintainer[], threshold: number): Promise<Ix> {
  const f = new TufFixture();
  const claimedKey = newKey();
  const indexKey = newKey();
  f.setRole('targets', [f.targetsKey], delegationsOf([
    { role: delegation('claimed', [claimedKey], ['packages/*/*'], { threshold: 1 }), keys: [claimedKey] },
    { role: delegation('index', [indexKey], ['simple/*', 'simple/*/*', 'packages/*/*'], { threshold: 1 }), keys: [indexKey] },
  ]));
  const ix: Ix = { f, claimedKey, claimedVersion: 0, run: async () => ({}) as RunResult };
  delegateGamma(ix, keys, threshold);
  f.setRole('project-gamma', keys.slice(0, threshold).map(testKey));
  f.setRole('index', [indexKey]);
  const gamma = await wheelBytes(GAMMA);
  const alpha = await wheelBytes(ALPHA);
  f.addTarget('project-gamma', `packages/gamma/${wheelFilename(GAMMA)}`, gamma);
  f.addTarget('index', `packages/alpha/${wheelFilename(ALPHA)}`, alpha);
  f.addTarget('index', 'simple/index.html', Buffer.from(projectListHtml(['alpha', 'gamma'])));
  f.addTarget('index', 'simple/gamma/index.html', Buffer.from(projectPageHtml('gamma', [{ filename: wheelFilename(GAMMA), sha256: sha256Hex(gamma) }])));
  f.addTarget('index', 'simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: wheelFilename(ALPHA), sha256: sha256Hex(alpha) }])));
  f.publish();
  await f.serve();
  const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
  ix.run = (args: string[]) => tufpip(['--data-dir', dataDir, ...args]);
  expectOk(await ix.run(['trust', 'add', f.url, '--root', f.rootFile(1)]), 'trust add');
  return ix;
}

/** `claimed` (offline key) delegates project-gamma to KEYS with THRESHOLD (next version). */
function delegateGamma(ix: Ix, keys: Maintainer[], threshold: number): void {
  const tk = keys.map(testKey);
  ix.f.setRole('claimed', [ix.claimedKey], delegationsOf([{ role: delegation('project-gamma', tk, ['packages/gamma/*'], { threshold, terminating: true }), keys: tk }]), ++ix.claimedVersion);
}

/** The maintainers' side after rotating: the index delegates gamma to NEW, which re-sign project-gamma. */
function moveGammaTo(ix: Ix, keys: Maintainer[], threshold: number): void {
  delegateGamma(ix, keys, threshold);
  const r = ix.f.role('project-gamma');
  r.signers = keys.slice(0, threshold).map(testKey);
  r.signed.version++;
}

const pubs = (flag: string, keys: Maintainer[]) => keys.flatMap((k) => [flag, k.pub]);

/** `release rotate-keys` by each of SIGNERS in turn (the first writes the transition). */
async function rotateKeys(file: string, first: string[], signers: Maintainer[]): Promise<RunResult> {
  let last: RunResult | undefined;
  for (const [i, m] of signers.entries()) {
    last = expectOk(await tufpipRepo(['release', 'rotate-keys', '--key', m.pem, '--out', file, ...(i === 0 ? first : []), '--json']), `rotate-keys (${m.name})`);
  }
  return last!;
}

/** Publishes transition N as a target of project-gamma (TUF protects it like the project's files). */
function publishTransition(ix: Ix, n: number, file: string): void {
  ix.f.addTarget('project-gamma', transitionPath('gamma', n), fs.readFileSync(file));
}

async function lockGamma(ix: Ix): Promise<string> {
  const lockFile = path.join(tmpDir('tufpip-lock-'), 'pylock.toml');
  expectOk(await ix.run(['lock', 'gamma', '-o', lockFile]), 'lock gamma');
  return lockFile;
}

type Check = { ok: boolean; changes: { kind: string; name: string; detail?: string }[] };

describe('tufpip lock: maintainers rotating their keys (release rotate-keys, kind rotation)', function () {
  let ix: Ix | undefined;
  afterEach(async () => {
    await ix?.f.close();
    ix = undefined;
  });

  it('a covered rotation: --check passes naming kind rotation, --upgrade records the new pin, install --locked of the new lock installs', async () => {
    const [a1, a2, a3, b1, b2] = await maintainers(['a1', 'a2', 'a3', 'b1', 'b2']);
    ix = await pep480Index([a1, a2, a3], 2);
    const lockFile = await lockGamma(ix);
    const t1 = path.join(tmpDir('tufpip-rotate-'), 'gamma.transition-1.json');
    const done = await rotateKeys(t1, ['--project', 'gamma', ...pubs('--old-key', [a1, a2, a3]), '--old-threshold', '2', ...pubs('--new-key', [b1, b2]), '--new-threshold', '2'], [a1, b1, a3, b2]);
    expect(jsonOf(done)).to.deep.include({ project: 'gamma', sequence: 1, old: { signed: 2, threshold: 2 }, new: { signed: 2, threshold: 2 }, complete: true });
    publishTransition(ix, 1, t1);
    moveGammaTo(ix, [b1, b2], 2);
    ix.f.publish();

    const check = expectOk(await ix.run(['lock', '--check', '-o', lockFile, '--json']), 'check');
    const report = jsonOf<Check>(check);
    expect(report.ok).to.equal(true);
    expect(report.changes.map((c) => [c.kind, c.name, c.detail])).to.deep.equal([['rotation', 'gamma', 'key transition 1']]);
    const human = expectOk(await ix.run(['lock', '--check', '-o', lockFile]), 'check (text)');
    expect(human.stderr).to.contain('rotation: gamma: developer keys');
    expect(human.stdout).to.contain('lock check passed');

    const upgrade = expectOk(await ix.run(['lock', '--upgrade', '-o', lockFile]), 'upgrade without --accept-signer-change');
    expect(upgrade.stdout).to.contain('recorded: rotation: gamma');
    validatePylock(lockFile);
    const pin = readLock(lockFile).packages.find((p) => p.name === 'gamma')!.tool.tufpip;
    expect(pin.keyids).to.deep.equal([b1.keyid, b2.keyid].sort());
    expect(pin.threshold).to.equal(2);
    const again = jsonOf<Check>(expectOk(await ix.run(['lock', '--check', '-o', lockFile, '--json']), 'check after upgrade'));
    expect(again.changes).to.deep.equal([]);

    const venv = freshVenv();
    expectOk(await ix.run(['install', '--locked', lockFile, '--python', venv.python]), 'install --locked (new lock)');
    expect(venv.installed()).to.include.members(['alpha', 'gamma']);
  });

  it('a chain A -> B -> C (transition 2 names transition 1) is a rotation too', async () => {
    const [a1, a2, b1, b2, c1] = await maintainers(['a1', 'a2', 'b1', 'b2', 'c1']);
    ix = await pep480Index([a1, a2], 2);
    const lockFile = await lockGamma(ix);
    const dir = tmpDir('tufpip-rotate-');
    const t1 = path.join(dir, 't1.json');
    const t2 = path.join(dir, 't2.json');
    await rotateKeys(t1, ['--project', 'gamma', ...pubs('--old-key', [a1, a2]), '--old-threshold', '2', ...pubs('--new-key', [b1, b2]), '--new-threshold', '2'], [a1, a2, b1, b2]);
    await rotateKeys(t2, ['--project', 'gamma', '--previous', t1, ...pubs('--new-key', [c1]), '--new-threshold', '1'], [b1, b2, c1]);
    publishTransition(ix, 1, t1);
    publishTransition(ix, 2, t2);
    moveGammaTo(ix, [c1], 1);
    ix.f.publish();
    const report = jsonOf<Check>(expectOk(await ix.run(['lock', '--check', '-o', lockFile, '--json']), 'check'));
    expect(report.changes.map((c) => [c.kind, c.detail])).to.deep.equal([['rotation', 'key transitions 1 -> 2']]);
    expectOk(await ix.run(['lock', '--upgrade', '-o', lockFile]), 'upgrade');
    expect(readLock(lockFile).packages.find((p) => p.name === 'gamma')!.tool.tufpip.keyids).to.deep.equal([c1.keyid]);
  });

  const WEAK: Record<string, { project?: string; signers: (a: Maintainer[], b: Maintainer[]) => Maintainer[]; why: string }> = {
    'signed by too few old keys': { signers: (a, b) => [a[0], ...b], why: 'transition 1 is signed by 1/2 of the old keys' },
    'signed by too few new keys': { signers: (a, b) => [...a, b[0]], why: 'transition 1 is signed by 1/2 of the new keys' },
    'for another project': { project: 'alpha', signers: (a, b) => [...a, ...b], why: 'transition 1 is for project alpha, not gamma' },
  };
  for (const [name, w] of Object.entries(WEAK)) {
    it(`a transition ${name} does not count: --check alarms (substitution, saying why), --upgrade refuses`, async () => {
      const [a1, a2, b1, b2] = await maintainers(['a1', 'a2', 'b1', 'b2']);
      ix = await pep480Index([a1, a2], 2);
      const lockFile = await lockGamma(ix);
      const before = fs.readFileSync(lockFile, 'utf8');
      const t1 = path.join(tmpDir('tufpip-rotate-'), 't1.json');
      const r = await rotateKeys(t1, ['--project', w.project ?? 'gamma', ...pubs('--old-key', [a1, a2]), '--old-threshold', '2', ...pubs('--new-key', [b1, b2]), '--new-threshold', '2'], w.signers([a1, a2], [b1, b2]));
      expect(jsonOf<{ complete: boolean }>(r).complete).to.equal(w.project !== undefined);
      publishTransition(ix, 1, t1);
      moveGammaTo(ix, [b1, b2], 2);
      ix.f.publish();

      const check = await ix.run(['lock', '--check', '-o', lockFile, '--json']);
      expect(check.code, check.stderr).to.equal(1);
      const report = jsonOf<Check>(check);
      expect(report.ok).to.equal(false);
      expect(report.changes.map((c) => [c.kind, c.detail])).to.deep.equal([['substitution', `no key transition covers it: ${w.why}`]]);
      expect(check.stderr).to.contain('substitution: gamma').and.contain(w.why);
      const upgrade = await ix.run(['lock', '--upgrade', '-o', lockFile]);
      expect(upgrade.code).to.equal(1);
      expect(upgrade.stderr).to.contain('refused: 1 signer change').and.contain(w.why);
      expect(fs.readFileSync(lockFile, 'utf8')).to.equal(before);
    });
  }

  it('no transition at all: the key change stays a substitution alarm saying so', async () => {
    const [a1, b1] = await maintainers(['a1', 'b1']);
    ix = await pep480Index([a1], 1);
    const lockFile = await lockGamma(ix);
    moveGammaTo(ix, [b1], 1);
    ix.f.publish();
    const check = await ix.run(['lock', '--check', '-o', lockFile, '--json']);
    expect(check.code).to.equal(1);
    expect(jsonOf<Check>(check).changes.map((c) => [c.kind, c.detail])).to.deep.equal([['substitution', 'no key transition covers it: the project publishes no key transition']]);
  });
});

describe('a real repository: release rotate-keys, release sign --transition, add --signed', function () {
  let mirror: MaliciousMirror | undefined;
  afterEach(async () => {
    await mirror?.close();
    mirror = undefined;
  });

  it('publishes the transition as a target of project-gamma; a lock made under the old keys sees kind rotation and records it; install --locked installs', async () => {
    const repo = await makeRepo({ bins: 16, wheels: [ALPHA, GAMMA] });
    const wheel = path.join(repo.wheelsDir, wheelFilename(GAMMA));
    const [a1, a2, b1, b2] = await maintainers(['a1', 'a2', 'b1', 'b2']);
    const work = tmpDir('tufpip-rotate-');
    expectOk(await claim(repo.dir, 'gamma', [a1, a2], 2), 'claim gamma (a1, a2)');
    const first = await signRelease({ project: 'gamma', files: [wheel], signers: [a1, a2], keys: [a1, a2], threshold: 2, out: path.join(work, 'r1.json') });
    expectOk(await tufpipRepo(['add', repo.dir, '--signed', first, wheel]), 'add --signed (old keys)');
    mirror = await MaliciousMirror.start(path.join(repo.dir, 'site'));
    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    const run = (args: string[]) => tufpip(['--data-dir', dataDir, ...args]);
    expectOk(await run(['trust', 'add', mirror.url, '--root', repo.root1]), 'trust add');
    const lockFile = path.join(tmpDir('tufpip-lock-'), 'pylock.toml');
    expectOk(await run(['lock', 'gamma', '-o', lockFile]), 'lock gamma');

    // The maintainers rotate: the transition (a1, a2 and b1, b2 sign), the index registers b1, b2,
    // the new keys sign the release again (--fresh: nothing built on the old keys' metadata) with the transition.
    const t1 = path.join(work, 't1.json');
    await rotateKeys(t1, ['--project', 'gamma', ...pubs('--old-key', [a1, a2]), '--old-threshold', '2', ...pubs('--new-key', [b1, b2]), '--new-threshold', '2'], [a1, a2, b1, b2]);
    expectOk(await claim(repo.dir, 'gamma', [b1, b2], 2), 'claim gamma (b1, b2)');
    const metadata = path.join(repo.dir, 'site', 'metadata');
    const second = path.join(work, 'r2.json');
    const incomplete = path.join(work, 'weak.json');
    await rotateKeys(incomplete, ['--project', 'gamma', ...pubs('--old-key', [a1, a2]), '--old-threshold', '2', ...pubs('--new-key', [b1, b2]), '--new-threshold', '2'], [a1, b1, b2]);
    const weak = await tufpipRepo(['release', 'sign', wheel, '--project', 'gamma', '--key', b1.pem, '--out', second, ...pubs('--maintainer-key', [b1, b2]), '--threshold', '2', '--from', metadata, '--fresh', '--transition', incomplete]);
    expect(weak.code).to.equal(1);
    expect(weak.stderr).to.contain('does not count: transition 1 is signed by 1/2 of the old keys');
    expectOk(await tufpipRepo(['release', 'sign', wheel, '--project', 'gamma', '--key', b1.pem, '--out', second, ...pubs('--maintainer-key', [b1, b2]), '--threshold', '2', '--from', metadata, '--fresh', '--transition', t1]), 'release sign --transition');
    expectOk(await tufpipRepo(['release', 'sign', '--add-signature', second, '--key', b2.pem]), 'add-signature b2');
    const weakAdd = await tufpipRepo(['add', repo.dir, '--signed', second, wheel, incomplete]);
    expect(weakAdd.code).to.equal(1);
    expect(weakAdd.stderr).to.contain('does not count: transition 1 is signed by 1/2 of the old keys');
    const notGiven = await tufpipRepo(['add', repo.dir, '--signed', second, wheel]);
    expect(notGiven.code).to.equal(1);
    expect(notGiven.stderr).to.contain('lists key transition packages/gamma/tufpip-key-transition-1.json, which was not given and is not on the index');
    expectOk(await tufpipRepo(['add', repo.dir, '--signed', second, wheel, t1]), 'add --signed with the transition');
    expect(fs.readdirSync(path.join(repo.dir, 'site', 'packages', 'gamma')).some((f) => f.endsWith('.tufpip-key-transition-1.json'))).to.equal(true);
    expectOk(await tufpipRepo(['verify', repo.dir]), 'verify');

    const report = jsonOf<Check>(expectOk(await run(['lock', '--check', '-o', lockFile, '--json']), 'check'));
    expect(report.changes.map((c) => [c.kind, c.name, c.detail])).to.deep.equal([['rotation', 'gamma', 'key transition 1']]);
    expectOk(await run(['lock', '--upgrade', '-o', lockFile]), 'upgrade');
    expect(readLock(lockFile).packages.find((p) => p.name === 'gamma')!.tool.tufpip.keyids).to.deep.equal([b1.keyid, b2.keyid].sort());
    const venv = freshVenv();
    expectOk(await run(['install', '--locked', lockFile, '--python', venv.python]), 'install --locked');
    expect(venv.installed()).to.include.members(['alpha', 'gamma']);
  });
});

describe('tufpip-repo release rotate-keys: refusals', () => {
  it('refuses a key that is neither old nor new, and a transition changed after it was signed', async () => {
    const [a1, b1, x] = await maintainers(['a1', 'b1', 'x']);
    const t1 = path.join(tmpDir('tufpip-rotate-'), 't1.json');
    const stranger = await tufpipRepo(['release', 'rotate-keys', '--key', x.pem, '--out', t1, '--project', 'gamma', '--old-key', a1.pub, '--new-key', b1.pub]);
    expect(stranger.code).to.equal(1);
    expect(stranger.stderr).to.match(/your key [0-9a-f]{8} is neither an old key/);
    expect(fs.existsSync(t1)).to.equal(false);
    expectOk(await tufpipRepo(['release', 'rotate-keys', '--key', a1.pem, '--out', t1, '--project', 'gamma', '--old-key', a1.pub, '--new-key', b1.pub]), 'rotate-keys');
    const reopened = await tufpipRepo(['release', 'rotate-keys', '--key', b1.pem, '--out', t1, '--new-key', x.pub]);
    expect(reopened.code).to.equal(2);
    expect(reopened.stderr).to.contain('exists: to add your signature give only --out and --key');
    const doc = JSON.parse(fs.readFileSync(t1, 'utf8'));
    doc.signed.new.threshold = 1;
    doc.signed.project = 'other';
    fs.writeFileSync(t1, JSON.stringify(doc));
    const changed = await tufpipRepo(['release', 'rotate-keys', '--key', b1.pem, '--out', t1]);
    expect(changed.code).to.equal(1);
    expect(changed.stderr).to.contain('does not verify: the transition was changed after it was signed');
  });
});
