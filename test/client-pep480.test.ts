// PEP 480 end to end with real pip: a developer-signed project (a terminating `project-gamma`
// role, 2 of 3 maintainer keys, delegated by `claimed`) next to index-signed ones, on a hand-built
// repository (test/helpers/tuf-fixture.ts: `tufpip-repo` has no claim command yet). The report
// names the developer keys and threshold; the installer's policy and the signature-gap tripwire
// refuse what the maintainers did not sign, and nothing is installed.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { shortKeyId } from '../metadata/keys.js';
import { projectListHtml, projectPageHtml } from '../metadata/simple-html.js';
import { sha256Hex } from '../metadata/hash.js';
import { tufpip, type RunResult } from './helpers/cli.js';
import { freshVenv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { TufFixture, delegation, delegationsOf, newKey, type TestKey } from './helpers/tuf-fixture.js';
import { wheelBytes, wheelFilename, type WheelSpec } from './helpers/wheels.js';

const GAMMA: WheelSpec = { name: 'gamma', version: '1.0', deps: ['alpha'] };
const ALPHA: WheelSpec = { name: 'alpha', version: '1.0' };

interface Pep480Index {
  fixture: TufFixture;
  devKeys: TestKey[];
  indexKey: TestKey;
  run(args: string[], cwd?: string): Promise<RunResult>;
}

/** targets -> claimed -> project-gamma (2 of 3 developer keys, terminating); targets -> index. */
async function pep480Index(opts: { unsignedGammaRelease?: boolean } = {}): Promise<Pep480Index> {
  const f = new TufFixture();
  const claimedKey = newKey();
  const indexKey = newKey();
  const devKeys = [newKey(), newKey(), newKey()];
  f.setRole('targets', [f.targetsKey], delegationsOf([
    { role: delegation('claimed', [claimedKey], ['packages/*/*'], { threshold: 1 }), keys: [claimedKey] },
    { role: delegation('index', [indexKey], ['simple/*', 'simple/*/*', 'packages/*/*'], { threshold: 1 }), keys: [indexKey] },
  ]));
  f.setRole('claimed', [claimedKey], delegationsOf([
    { role: delegation('project-gamma', devKeys, ['packages/gamma/*'], { threshold: 2, terminating: true }), keys: devKeys },
  ]));
  f.setRole('project-gamma', [devKeys[0], devKeys[2]]);
  f.setRole('index', [indexKey]);

  const gamma = await wheelBytes(GAMMA);
  const alpha = await wheelBytes(ALPHA);
  f.addTarget('project-gamma', `packages/gamma/${wheelFilename(GAMMA)}`, gamma);
  f.addTarget('index', `packages/alpha/${wheelFilename(ALPHA)}`, alpha);
  const gammaFiles = [{ filename: wheelFilename(GAMMA), sha256: sha256Hex(gamma) }];
  if (opts.unsignedGammaRelease) {
    // The index (online key) lists a release the maintainers never signed: PEP 480's signature gap.
    const rogue = await wheelBytes({ ...GAMMA, version: '1.1' });
    f.addTarget('index', `packages/gamma/${wheelFilename({ ...GAMMA, version: '1.1' })}`, rogue);
    gammaFiles.push({ filename: wheelFilename({ ...GAMMA, version: '1.1' }), sha256: sha256Hex(rogue) });
  }
  f.addTarget('index', 'simple/index.html', Buffer.from(projectListHtml(['alpha', 'gamma'])));
  f.addTarget('index', 'simple/gamma/index.html', Buffer.from(projectPageHtml('gamma', gammaFiles)));
  f.addTarget('index', 'simple/alpha/index.html', Buffer.from(projectPageHtml('alpha', [{ filename: wheelFilename(ALPHA), sha256: sha256Hex(alpha) }])));
  f.publish();
  await f.serve();
  const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
  const run = (args: string[], cwd?: string) => tufpip(['--data-dir', dataDir, ...args], { cwd });
  expectOk(await run(['trust', 'add', f.url, '--root', f.rootFile(1)]), 'trust add');
  return { fixture: f, devKeys, indexKey, run };
}

describe('client PEP 480: developer-signed projects with real pip', () => {
  let ix: Pep480Index | undefined;
  afterEach(async () => {
    await ix?.fixture.close();
    ix = undefined;
  });

  it('reports the developer keys and threshold of a developer-signed file, and the index key of the others', async () => {
    ix = await pep480Index();
    const venv = freshVenv();
    const r = expectOk(await ix.run(['install', 'gamma', '--python', venv.python]), 'install gamma');
    // The keys whose signatures verified (devKeys[0] and [2] signed), of the 3 the role trusts.
    const [k0, , k2] = ix.devKeys.map((k) => shortKeyId(k.keyid));
    expect(r.stdout).to.match(new RegExp(`gamma-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +developer-signed: project-gamma, keys ${k0}, ${k2} \\(2 of 3\\)`));
    expect(r.stdout).to.match(new RegExp(`alpha-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +index-signed \\(online key ${shortKeyId(ix.indexKey.keyid)}\\)`));
    expect(venv.installed()).to.include.members(['alpha', 'gamma']);
  });

  it('a policy naming the developer-signed project passes; requiring it of every project refuses the index-signed dependency', async () => {
    ix = await pep480Index();
    const cwd = tmpDir('tufpip-policy-');
    fs.writeFileSync(path.join(cwd, 'tufpip.toml'), '[policy]\nrequire-developer-signed = ["gamma"]\n');
    const venv = freshVenv();
    const before = venv.fingerprint();
    const all = await ix.run(['install', 'gamma', '--python', venv.python, '--require-developer-signed'], cwd);
    expect(all.code).to.equal(1);
    expect(all.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/alpha\/alpha-1\.0-py3-none-any\.whl\]/);
    expect(venv.fingerprint()).to.equal(before);
    expectOk(await ix.run(['install', 'gamma', '--python', venv.python], cwd), 'install gamma under the policy file');
  });

  it('a release the index lists but the maintainers did not sign (signature gap) -> missing-developer-signature, nothing installed', async () => {
    ix = await pep480Index({ unsignedGammaRelease: true });
    const venv = freshVenv();
    const before = venv.fingerprint();
    const r = await ix.run(['install', 'gamma', '--python', venv.python]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/gamma\/gamma-1\.1-py3-none-any\.whl/);
    expect(r.stderr).to.match(/project-gamma/);
    expect(venv.fingerprint()).to.equal(before);
  });
});
