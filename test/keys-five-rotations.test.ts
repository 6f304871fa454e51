// Issue 5 "Tested": a client that trusted root v1 still installs after five rotations. The index
// is served over real HTTP on loopback; the installer is the real `tufpip` CLI with real pip in a
// fresh venv, trusting only 1.root.json (given once, out of band). Between its installs the
// operators rotate five times with the ceremony commands: a root key added with the threshold
// raised, the online key replaced, the targets key replaced, a root key removed, the threshold
// lowered; new packages are published in between, so only a client that followed the whole chain
// can see them.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import path from 'node:path';
import type { RunningServer } from '../repo-tools/commands/serve.js';
import { tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import { freshVenv } from './helpers/python.js';
import { expectOk, serve } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import { CachedClient, ceremony, initWithRootKeys, keyPool, latestRootVersion, type CeremonyRepo, type PoolKey } from './helpers/ceremony.js';

describe('keys: a client that trusted root v1 installs after five rotations', function () {
  this.timeout(300_000);
  let k: PoolKey[];
  let repo: CeremonyRepo;
  let server: RunningServer;
  let dataDir: string;
  let dists: string;
  const client = (args: string[]): Promise<RunResult> => tufpip(['--data-dir', dataDir, ...args]);
  const addWheel = async (name: string, deps: string[] = []) => {
    expectOk(await tufpipRepo(['add', repo.dir, await writeWheel(dists, { name, version: '1.0', deps })]), `add ${name}`);
  };

  before(async () => {
    k = await keyPool(6);
    repo = await initWithRootKeys([k[0], k[1], k[2]], 2);
    dists = path.join(tmpDir('tufpip-five-'), 'dists');
    await addWheel('beta');
    await addWheel('alpha', ['beta']);
    server = await serve(repo.dir);
    dataDir = path.join(tmpDir('tufpip-five-data-'), 'data');
    expectOk(await client(['trust', 'add', server.url, '--root', repo.root1]), 'trust add');
  });

  after(async () => {
    await server?.close();
  });

  it('installs before, follows five rotations, and installs what was published after them', async () => {
    const venv1 = freshVenv();
    expectOk(await client(['install', 'alpha', '--python', venv1.python]), 'install before');
    expect(venv1.installed()).to.include.members(['alpha', 'beta']);

    const rotations: Array<{ what: string; steps: Parameters<typeof ceremony>[1]; publish?: string[] }> = [
      { what: 'root key added, threshold 2 -> 3', steps: [{ role: 'root', args: ['--add-key', k[3].pub, '--threshold', '3'], signers: [k[0].pem, k[1].pem, k[3].pem] }] },
      {
        what: 'online key replaced',
        steps: [
          { role: 'root', args: ['--role-key', `online=${k[5].pub}`], signers: [k[0].pem, k[2].pem, k[3].pem] },
          { role: 'targets', args: ['--role-key', `online=${k[5].pub}`], signers: [repo.key('targets')] },
          { role: 'bins', args: ['--role-key', `online=${k[5].pub}`], signers: [repo.key('bins')] },
        ],
        publish: ['--online-key', `file:${k[5].pem}`],
      },
      {
        what: 'targets key replaced',
        steps: [
          { role: 'root', args: ['--role-key', `targets=${k[4].pub}`], signers: [k[1].pem, k[2].pem, k[3].pem] },
          { role: 'targets', args: [], signers: [k[4].pem] },
        ],
      },
      { what: 'root key k0 removed (lost)', steps: [{ role: 'root', args: ['--remove-key', k[0].pub], signers: [k[1].pem, k[2].pem, k[3].pem] }] },
      { what: 'threshold 3 -> 2, renewed for 200 days', steps: [{ role: 'root', args: ['--threshold', '2', '--expires', '200'], signers: [k[1].pem, k[2].pem, k[3].pem] }] },
    ];
    const watcher = new CachedClient(repo, repo.root1);
    expect(await watcher.refresh()).to.equal(undefined);
    for (const [i, r] of rotations.entries()) {
      expectOk(await ceremony(repo, r.steps, r.publish), `rotation ${i + 1}: ${r.what}`);
      expect(latestRootVersion(repo), r.what).to.equal(i + 2);
      expect(await watcher.refresh(), r.what).to.equal(undefined);
      expect(watcher.trustedRootVersion(), r.what).to.equal(i + 2);
      if (i === 1) await addWheel('gamma'); // signed by the new online key
    }
    await addWheel('delta', ['gamma']);
    expectOk(await tufpipRepo(['verify', repo.dir]), 'verify');

    // The installer still trusts only what it was given (root v1) plus what it verified since.
    const venv2 = freshVenv();
    const r = expectOk(await client(['install', 'delta', 'alpha', '--python', venv2.python]), 'install after five rotations');
    expect(venv2.installed()).to.include.members(['alpha', 'beta', 'gamma', 'delta']);
    expect(venv2.run('import delta, gamma; print(delta.VERSION, gamma.VERSION)').trim()).to.equal('1.0 1.0');
    expect(r.stdout).to.match(/delta-1\.0-py3-none-any\.whl/);
    const list = JSON.parse(expectOk(await client(['trust', 'list', '--json']), 'trust list').stdout) as { rootVersion: number }[];
    expect(list[0].rootVersion).to.equal(6);
  });
});
