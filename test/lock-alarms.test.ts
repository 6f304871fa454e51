// The alarms of the installer's memory (DESIGN.md "Installer memory"): a lock made on a PEP 480
// index (gamma developer-signed, 2 of 3 maintainer keys delegated by `claimed`; alpha index-signed),
// then the index changes who signs. Each change is caught by `lock --check` (exit 1, the kind
// named), refused by `lock --upgrade` (lock unchanged) unless accepted, and by `install --locked`
// where the locked file is affected, with nothing installed. Honest controls next to them: an
// unchanged index and a new release by the same maintainers pass. A rollback of the index-signed
// role still refuses a locked install (TUF spec 5.6.4 through tuf-js).
import './setup.js';
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { projectListHtml, projectPageHtml } from '../metadata/simple-html.js';
import { sha256Hex } from '../metadata/hash.js';
import { tufpip, type RunResult } from './helpers/cli.js';
import { freshVenv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { readLock, validatePylock } from './helpers/pylock.js';
import { jsonOf } from './helpers/trusted-index.js';
import { TufFixture, delegation, delegationsOf, newKey, type TestKey } from './helpers/tuf-fixture.js';
import { wheelBytes, wheelFilename, type WheelSpec } from './helpers/wheels.js';

const GAMMA: WheelSpec = { name: 'gamma', version: '1.0', deps: ['alpha'] };
const GAMMA11: WheelSpec = { name: 'gamma', version: '1.1', deps: ['alpha'] };
const ALPHA: WheelSpec = { name: 'alpha', version: '1.0' };

interface Ix {
  f: TufFixture;
  claimedKey: TestKey;
  indexKey: TestKey;
  devKeys: TestKey[];
  gammaFiles: { filename: string; sha256: string }[];
  run(args: string[]): Promise<RunResult>;
}

/** targets -> claimed -> project-gamma (2 of 3 developer keys, terminating); targets -> index. */
async function pep480Index(): Promise<Ix> {
  const f = new TufFixture();
  const claimedKey = newKey();
  const indexKey = newKey();
  const devKeys = [newKey(), newKey(), newKey()];
  f.setRole('targets', [f.targetsKey], delegationsOf([
    { role: delegation('claimed', [claimedKey], ['packages/*/*'], { threshold: 1 }), keys: [claimedKey] },
    { role: delegation('index', [indexKey], ['simple/*', 'simple/*/*', 'packages/*/*'], { threshold: 1 }), keys: [indexKey] },
  ]));
  setGammaDelegation(f, claimedKey, devKeys, 2);
  f.setRole('project-gamma', [devKeys[0], devKeys[2]]);
  f.setRole('index', [indexKey]);
  const gamma = await wheelBytes(GAMMA);
  const alpha = await wheelBytes(ALPHA);
  f.addTarget('project-gamma', `packages/gamma/${wheelFilename(GAMMA)}`, gamma);
  f.addTarget('index', `packages/alpha/${wheelFilename(ALPHA)}`, alpha);
  const gammaFiles = [{ filename: wheelFilename(GAMMA), sha256: sha256Hex(gamma) }];
  f.addTarget('index', 'simple/index.html', Buffer.from(projectListHtml(['alpha', 'gamma'])));
  f.addTarget('index', 'simple/gamma/index.html', Buffer.from(projectPageHtml('gamma', gammaFiles)));
  f.addTarget('index', 'simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: wheelFilename(ALPHA), sha256: sha256Hex(alpha) }])));
  f.publish();
  await f.serve();
  const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
  const run = (args: string[]) => tufpip(['--data-dir', dataDir, ...args]);
  expectOk(await run(['trust', 'add', f.url, '--root', f.rootFile(1)]), 'trust add');
  return { f, claimedKey, indexKey, devKeys, gammaFiles, run };
}

/** `claimed` (offline key) delegates project-gamma to KEYS with THRESHOLD. */
function setGammaDelegation(f: TufFixture, claimedKey: TestKey, keys: TestKey[], threshold: number, version = 1): void {
  f.setRole('claimed', [claimedKey], delegationsOf([{ role: delegation('project-gamma', keys, ['packages/gamma/*'], { threshold, terminating: true }), keys }]), version);
}

/** Re-signs project-gamma (next version) with SIGNERS, keeping its targets and delegations. */
function resignGamma(f: TufFixture, signers: TestKey[]): void {
  const r = f.role('project-gamma');
  r.signers = signers;
  r.signed.version++;
}

/** Adds gamma 1.1 to the simple page (served by the index role). */
async function publishGamma11(ix: Ix, role: string): Promise<void> {
  const bytes = await wheelBytes(GAMMA11);
  ix.f.addTarget(role, `packages/gamma/${wheelFilename(GAMMA11)}`, bytes);
  ix.gammaFiles.push({ filename: wheelFilename(GAMMA11), sha256: sha256Hex(bytes) });
  ix.f.addTarget('index', 'simple/gamma/index.html', Buffer.from(projectPageHtml('gamma', ix.gammaFiles)));
}

interface Case {
  /** What the attacker (or the maintainers) did to the index after the lock was made. */
  change: (ix: Ix) => Promise<void> | void;
  /** The change kind `lock --check` names. */
  kind: string;
  /** Whether `install --locked` of the unchanged lock is refused too (the locked file is affected). */
  installRefused: boolean;
}

const ALARMS: Record<string, Case> = {
  "claimed keys swapped by a holder of the offline claimed key (substitution)": {
    kind: 'substitution',
    installRefused: true,
    change: (ix) => {
      const attacker = [newKey()];
      setGammaDelegation(ix.f, ix.claimedKey, attacker, 1, 2);
      resignGamma(ix.f, attacker);
    },
  },
  'project moved from claimed to index-signed (downgrade)': {
    kind: 'downgrade',
    installRefused: true,
    change: async (ix) => {
      ix.f.setRole('claimed', [ix.claimedKey], delegationsOf([]), 2);
      // project-gamma stays in the snapshot (dropping a role from it is a rollback, TUF spec 5.5.5), no longer delegated.
      ix.f.addTarget('index', `packages/gamma/${wheelFilename(GAMMA)}`, await wheelBytes(GAMMA));
      ix.f.bump('index');
    },
  },
  'new release signed by another key set (substitution on the new version)': {
    kind: 'substitution',
    installRefused: false,
    change: async (ix) => {
      const others = [newKey()];
      const release = `packages/gamma/${wheelFilename(GAMMA11)}`;
      const gamma = ix.f.role('project-gamma');
      gamma.signed.delegations = delegationsOf([{ role: delegation('project-gamma--1.1', others, [release], { threshold: 1, terminating: true }), keys: others }]);
      gamma.signed.version++;
      ix.f.setRole('project-gamma--1.1', others);
      await publishGamma11(ix, 'project-gamma--1.1');
      ix.f.bump('index');
    },
  },
  'threshold lowered from 2 of 3 to 1 of 3 (threshold-change)': {
    kind: 'threshold-change',
    installRefused: true,
    change: (ix) => setGammaDelegation(ix.f, ix.claimedKey, ix.devKeys, 1, 2),
  },
  "index root keys changed (root-change)": {
    kind: 'root-change',
    installRefused: true,
    change: (ix) => {
      const newRoot = newKey();
      const old = ix.f.rootKeys;
      ix.f.root = ix.f.makeRoot(2, [newRoot]);
      ix.f.rootSigners = [...old, newRoot]; // TUF spec 5.3.4: signed by the old and the new root keys
      ix.f.writeRoot();
    },
  },
};

async function lockGamma(ix: Ix): Promise<string> {
  const lockFile = path.join(tmpDir('tufpip-lock-'), 'pylock.toml');
  expectOk(await ix.run(['lock', 'gamma', '-o', lockFile]), 'lock gamma');
  validatePylock(lockFile);
  return lockFile;
}

describe('tufpip lock: signer-pin alarms (lock --check, --upgrade, install --locked)', function () {
  let ix: Ix | undefined;
  afterEach(async () => {
    await ix?.f.close();
    ix = undefined;
  });

  it('the lock pins gamma to its 2-of-3 developer keys (project-gamma) and alpha to the index key', async () => {
    ix = await pep480Index();
    const doc = readLock(await lockGamma(ix));
    const [alpha, gamma] = doc.packages;
    expect(gamma.tool.tufpip).to.include({ 'vouched-by': 'developer', role: 'project-gamma', threshold: 2 });
    expect(gamma.tool.tufpip.keyids).to.deep.equal(ix.devKeys.map((k) => k.keyid).sort());
    expect(alpha.tool.tufpip).to.include({ 'vouched-by': 'index', role: 'index', threshold: 1 });
    expect(alpha.tool.tufpip.keyids).to.deep.equal([ix.indexKey.keyid]);
  });

  for (const [name, c] of Object.entries(ALARMS)) {
    it(`${name}: check fails, upgrade refuses, install --locked ${c.installRefused ? 'refuses (nothing installed)' : 'still installs the locked release'}`, async () => {
      ix = await pep480Index();
      const lockFile = await lockGamma(ix);
      const before = fs.readFileSync(lockFile, 'utf8');
      await c.change(ix);
      ix.f.publish();

      const check = await ix.run(['lock', '--check', '-o', lockFile, '--json']);
      expect(check.code, check.stderr).to.equal(1);
      const report = jsonOf<{ ok: boolean; changes: { kind: string; name: string }[] }>(check);
      expect(report.ok).to.equal(false);
      expect(report.changes.map((x) => x.kind)).to.deep.equal([c.kind]);
      expect(check.stderr).to.contain(`${c.kind}: `).and.contain('lock check failed');

      const upgrade = await ix.run(['lock', '--upgrade', '-o', lockFile]);
      expect(upgrade.code).to.equal(1);
      expect(upgrade.stderr).to.match(new RegExp(`refused: 1 signer change; .*pylock\\.toml was not changed:\\n  ${c.kind}: `));
      expect(fs.readFileSync(lockFile, 'utf8')).to.equal(before);

      const venv = freshVenv();
      const fingerprint = venv.fingerprint();
      const install = await ix.run(['install', '--locked', lockFile, '--python', venv.python]);
      if (c.installRefused) {
        expect(install.code, install.stdout).to.equal(1);
        expect(install.stderr).to.match(new RegExp(`refused \\(${c.kind}\\) \\[(gamma 1\\.0|${ix.f.url.replace(/[./]/g, '\\$&')})\\]`));
        expect(install.stderr).to.contain('nothing was installed');
        expect(venv.fingerprint()).to.equal(fingerprint);
      } else {
        expectOk(install, 'install --locked');
        expect(venv.installed()).to.include.members(['alpha', 'gamma']);
        expect(venv.run('import importlib.metadata as m; print(m.version("gamma"))').trim()).to.equal('1.0');
      }

      // After review, the change is recorded (root: --accept-root-change).
      const accept = c.kind === 'root-change' ? ['--accept-root-change'] : ['--accept-signer-change', 'gamma'];
      const accepted = expectOk(await ix.run(['lock', '--upgrade', '-o', lockFile, ...accept]), 'upgrade --accept');
      expect(accepted.stdout).to.contain(`accepted: ${c.kind}: `);
      validatePylock(lockFile);
      expectOk(await ix.run(['lock', '--check', '-o', lockFile]), 'check after accepting');
    });
  }

  it('honest: a new release signed by the same maintainers keeps the pin: check passes (version only), upgrade records it', async () => {
    ix = await pep480Index();
    const lockFile = await lockGamma(ix);
    await publishGamma11(ix, 'project-gamma');
    resignGamma(ix.f, [ix.devKeys[1], ix.devKeys[2]]);
    ix.f.bump('index');
    ix.f.publish();
    const check = expectOk(await ix.run(['lock', '--check', '-o', lockFile]), 'check');
    expect(check.stderr).to.contain('gamma: 1.0 -> 1.1 (version only)');
    expectOk(await ix.run(['lock', '--upgrade', '-o', lockFile]), 'upgrade');
    expect(readLock(lockFile).packages.find((p) => p.name === 'gamma')!.version).to.equal('1.1');
  });

  it('--upgrade PKG moves only PKG (the others held at their locked versions); --upgrade alone moves the rest', async () => {
    ix = await pep480Index();
    const lockFile = await lockGamma(ix);
    await publishGamma11(ix, 'project-gamma');
    resignGamma(ix.f, [ix.devKeys[0], ix.devKeys[1]]);
    const alpha11 = await wheelBytes({ ...ALPHA, version: '1.1' });
    ix.f.addTarget('index', `packages/alpha/${wheelFilename({ ...ALPHA, version: '1.1' })}`, alpha11);
    ix.f.addTarget('index', 'simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [
      { filename: wheelFilename(ALPHA), sha256: sha256Hex(fs.readFileSync(path.join(ix.f.site, 'packages/alpha', wheelFilename(ALPHA)))) },
      { filename: wheelFilename({ ...ALPHA, version: '1.1' }), sha256: sha256Hex(alpha11) },
    ])));
    ix.f.bump('index');
    ix.f.publish();
    const versions = () => readLock(lockFile).packages.map((p) => `${p.name}==${p.version}`);
    expectOk(await ix.run(['lock', '--upgrade', 'gamma', '-o', lockFile]), 'upgrade gamma');
    expect(versions()).to.deep.equal(['alpha==1.0', 'gamma==1.1']);
    validatePylock(lockFile);
    const wrong = await ix.run(['lock', '--upgrade', 'delta', '-o', lockFile]);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.contain('--upgrade delta: the lock has no package delta');
    expectOk(await ix.run(['lock', '--upgrade', '-o', lockFile]), 'upgrade all');
    expect(versions()).to.deep.equal(['alpha==1.1', 'gamma==1.1']);
  });

  it('--strict: a new package that only the index signs is a change; without --strict it is not', async () => {
    ix = await pep480Index();
    const lockFile = path.join(tmpDir('tufpip-lock-'), 'pylock.toml');
    // Lock gamma without its dependency, then re-check with it: alpha is new and index-signed.
    expectOk(await ix.run(['lock', 'gamma', '-o', lockFile, '--', '--no-deps']), 'lock --no-deps');
    expectOk(await ix.run(['lock', '--check', 'gamma', '-o', lockFile]), 'check without --strict');
    const strict = await ix.run(['lock', '--check', 'gamma', '-o', lockFile, '--strict']);
    expect(strict.code).to.equal(1);
    expect(strict.stderr).to.match(/new-not-developer-signed: alpha 1\.0: not locked -> index key/);
  });

  it('a policy requiring developer signatures refuses the index-signed package in lock and in install --locked', async () => {
    ix = await pep480Index();
    const lockFile = await lockGamma(ix);
    const relock = await ix.run(['lock', 'gamma', '-o', path.join(path.dirname(lockFile), 'other.toml'), '--require-developer-signed']);
    expect(relock.code).to.equal(1);
    expect(relock.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/alpha\/alpha-1\.0-py3-none-any\.whl\]/);
    const venv = freshVenv();
    const fingerprint = venv.fingerprint();
    const install = await ix.run(['install', '--locked', lockFile, '--python', venv.python, '--require-developer-signed']);
    expect(install.code).to.equal(1);
    expect(install.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/alpha\/alpha-1\.0-py3-none-any\.whl\].*\[alpha 1\.0\]/);
    expect(venv.fingerprint()).to.equal(fingerprint);
  });

  const INSTALL_ONLY: Record<string, { change: (ix: Ix) => Promise<void>; refusal: RegExp }> = {
    'the locked file replaced by other bytes, signed by the same maintainers: the lock hash refuses it': {
      change: async (ix) => {
        ix.f.addTarget('project-gamma', `packages/gamma/${wheelFilename(GAMMA)}`, await wheelBytes({ ...GAMMA, body: 'X = 2\n' }));
        resignGamma(ix.f, [ix.devKeys[0], ix.devKeys[1]]);
      },
      refusal: /refused \(lock-mismatch\) \[gamma 1\.0\]: the index signs gamma-1\.0-py3-none-any\.whl as sha256 [0-9a-f]{64}, \d+ bytes; the lock says sha256 [0-9a-f]{64}/,
    },
    'the locked file no longer listed by the maintainers: refused naming the package': {
      change: async (ix) => {
        delete ix.f.role('project-gamma').signed.targets[`packages/gamma/${wheelFilename(GAMMA)}`];
        resignGamma(ix.f, [ix.devKeys[0], ix.devKeys[1]]);
      },
      refusal: /refused \(missing-developer-signature\) \[gamma 1\.0\]: the index no longer vouches for locked file gamma-1\.0-py3-none-any\.whl/,
    },
  };
  for (const [name, c] of Object.entries(INSTALL_ONLY)) {
    it(`install --locked: ${name}; nothing installed`, async () => {
      ix = await pep480Index();
      const lockFile = await lockGamma(ix);
      await c.change(ix);
      ix.f.publish();
      const venv = freshVenv();
      const fingerprint = venv.fingerprint();
      const r = await ix.run(['install', '--locked', lockFile, '--python', venv.python]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(c.refusal);
      expect(r.stderr).to.contain('nothing was installed');
      expect(venv.fingerprint()).to.equal(fingerprint);
    });
  }

  it('rollback of the index-signed role (the bin) still refuses a locked install; the honest install before it passed', async () => {
    ix = await pep480Index();
    const lockFile = await lockGamma(ix);
    // The index publishes index v2; a locked install sees it.
    ix.f.addTarget('index', 'simple/extra/index.html', Buffer.from(projectPageHtml('extra', [])));
    ix.f.bump('index');
    ix.f.publish();
    const venv = freshVenv();
    expectOk(await ix.run(['install', '--locked', lockFile, '--python', venv.python]), 'honest install --locked');
    // Then a compromised index (online keys) serves a snapshot listing index v1 again.
    ix.f.role('index').signed.version = 1;
    ix.f.publish();
    const other = freshVenv();
    const fingerprint = other.fingerprint();
    const r = await ix.run(['install', '--locked', lockFile, '--python', other.python]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/refused \(rollback\)/);
    expect(r.stderr).to.contain('nothing was installed');
    expect(other.fingerprint()).to.equal(fingerprint);
  });
});
