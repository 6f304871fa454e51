// "No stack traces, no false success, no litter" (issue 11): `tufpip fetch`'s scratch folder
// removed (by a tmp cleaner, or the user) while the verifying proxy still downloads into it.
// The fetch fails with one clear line and a documented exit code, nothing is fetched, and no
// folder is left behind. Real index behind a slow loopback mirror, the real CLI, real pip.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLIENT_BIN, type RunResult } from './helpers/cli.js';
import { MaliciousMirror, misbehave, targetUrls } from './helpers/malicious-mirror.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { tufpip } from './helpers/cli.js';
import { until } from './helpers/wait.js';
import { tmpDir } from './helpers/tmp.js';

const WHEEL = 'packages/alpha/alpha-1.0-py3-none-any.whl';


describe('tufpip fetch: scratch folder removed while a download is in flight', function () {
  let mirror: MaliciousMirror;
  let dataDir: string;

  before(async () => {
    // A 2 MiB wheel, so that its download is still in flight when the folder goes.
    const repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0', padding: 2 * 1024 * 1024 }] });
    mirror = await MaliciousMirror.start(path.join(repo.dir, 'site'));
    dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', mirror.url, '--root', repo.root1]), 'trust add');
  });
  after(async () => {
    await mirror?.close();
  });

  it('fails with one clear line (exit 1), nothing fetched, nothing left behind', async () => {
    mirror.when(targetUrls(WHEEL), misbehave.trickle(64 * 1024, 40), { label: 'slow wheel' });
    const tmp = tmpDir('tufpip-tmpdir-');
    const dest = path.join(tmpDir('tufpip-dest-'), 'out');
    const child = spawn(process.execPath, [CLIENT_BIN, '--data-dir', dataDir, 'fetch', 'alpha', '-d', dest], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    try {
      // The wheel's download has started: remove the scratch folder under the proxy's feet.
      await until(() => mirror.requests.some((r) => r.rule === 'slow wheel'), 'the wheel download never started');
      const scratch = fs.readdirSync(tmp).filter((n) => n.startsWith('tufpip-fetch-'));
      expect(scratch).to.have.length(1);
      fs.rmSync(path.join(tmp, scratch[0]), { recursive: true, force: true });
    } catch (err) {
      child.kill('SIGKILL');
      await done;
      throw err;
    }
    const r = await done;
    expect(r.code, r.stderr).to.equal(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).to.have.length(1);
    expect(r.stderr).to.not.match(/\n\s+at |Error: ENOENT|internal error/);
    expect(r.stderr).to.match(/scratch folder .* was removed while in use; nothing was fetched/);
    expect(fs.existsSync(dest)).to.equal(false);
    expect(fs.readdirSync(tmp), 'litter in TMPDIR').to.deep.equal([]);
  });

  it('control: the same slow download completes when nothing interferes', async () => {
    mirror.when(targetUrls(WHEEL), misbehave.trickle(256 * 1024, 10), { label: 'slow wheel 2' });
    const tmp = tmpDir('tufpip-tmpdir-');
    const dest = path.join(tmpDir('tufpip-dest-'), 'out');
    expectOk(await tufpip(['--data-dir', dataDir, 'fetch', 'alpha', '-d', dest], { env: { ...process.env, TMPDIR: tmp } }), 'fetch');
    expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'tufpip-report.json']);
    expect(fs.readdirSync(tmp)).to.deep.equal([]);
  });
});
