// End to end (issue 3 "What must hold"): a `tufpip-repo` index served on loopback, the real
// `tufpip` CLI, real pip in a fresh venv. What a user sees: installs work, the report names who
// vouched for each file, and pip is never given a source outside the verified index.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { shortKeyId } from '../metadata/keys.js';
import type { FetchReport } from '../client/lib/fetch-report.js';
import { CLIENT_BIN } from './helpers/cli.js';
import { freshVenv, pipEnv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { jsonOf, trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';
import { sha256File } from './helpers/hash.js';

function runPipAsync(python: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'pip', ...args], { env: pipEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}


describe('client e2e: tufpip fetch / install / proxy with real pip', function () {
  let ix: TrustedIndex;
  before(async () => {
    ix = await trustedIndex([
      { name: 'alpha', version: '1.0', deps: ['beta>=1.0'] },
      { name: 'beta', version: '1.0' },
      { name: 'beta', version: '1.1' },
      { name: 'gamma', version: '2.0', extras: ['fast'], deps: ['delta; extra == "fast"', 'epsilon; python_version < "3"'] },
      { name: 'delta', version: '1.0' },
      { name: 'epsilon', version: '1.0' },
    ]);
  });
  after(async () => {
    await ix?.close();
  });

  it('install: installs a package and its dependency, they import, and the output says who vouched', async () => {
    const venv = freshVenv();
    const r = expectOk(await ix.run(['install', 'alpha', '--python', venv.python]), 'tufpip install');
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    expect(venv.run('import alpha, beta; print(alpha.VERSION, beta.VERSION)').trim()).to.equal('1.0 1.1');
    const online = shortKeyId(ix.onlineKeyId);
    expect(r.stdout).to.match(new RegExp(`alpha-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +index-signed \\(online key ${online}\\)`));
    expect(r.stdout).to.match(new RegExp(`beta-1\\.1-py3-none-any\\.whl +sha256:[0-9a-f]{64} +index-signed \\(online key ${online}\\)`));
  });

  it('fetch: saves exactly what pip chose, with a report of hashes, target paths, roles, keys and thresholds', async () => {
    const dest = path.join(tmpDir('tufpip-dest-'), 'out');
    const r = expectOk(await ix.run(['fetch', 'alpha', '-d', dest, '--json']), 'tufpip fetch');
    const out = jsonOf<FetchReport & { ok: boolean; reportFile: string }>(r);
    expect(out.ok).to.equal(true);
    expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl', 'tufpip-report.json']);
    const report = JSON.parse(fs.readFileSync(path.join(dest, 'tufpip-report.json'), 'utf8')) as FetchReport;
    expect(report.index).to.equal(ix.url);
    expect(report.files.map((f) => f.target)).to.deep.equal([
      'packages/alpha/alpha-1.0-py3-none-any.whl',
      'packages/beta/beta-1.1-py3-none-any.whl',
    ]);
    for (const f of report.files) {
      expect(f.sha256, f.file).to.equal(sha256File(path.join(dest, f.file)));
      expect(f.length).to.equal(fs.statSync(path.join(dest, f.file)).size);
      // The same bytes the index publishes, listed by the hash bin that signed them.
      expect(f.sha256).to.equal(sha256File(path.join(ix.site, f.target)));
      expect(f.vouchedBy).to.deep.include({ kind: 'index', keyids: [ix.onlineKeyId], threshold: 1, signedBy: [ix.onlineKeyId] });
      expect(f.vouchedBy.role).to.match(/^bin-[0-9a-f]+$/);
    }
    expect(report.pages.map((p) => p.target).sort()).to.deep.equal(['simple/alpha/index.html', 'simple/beta/index.html']);
    expect(out.files).to.deep.equal(report.files);
  });

  it('fetch: pip resolves requirement files, pins, extras and markers (only what applies is fetched)', async () => {
    const dir = tmpDir('tufpip-reqs-');
    const reqs = path.join(dir, 'requirements.txt');
    fs.writeFileSync(reqs, '# pinned\nbeta==1.0\ngamma[fast]  # with its extra\n');
    const dest = path.join(dir, 'out');
    expectOk(await ix.run(['fetch', '-r', reqs, '-d', dest]), 'tufpip fetch -r');
    expect(fs.readdirSync(dest).sort()).to.deep.equal([
      'beta-1.0-py3-none-any.whl',
      'delta-1.0-py3-none-any.whl',
      'gamma-2.0-py3-none-any.whl',
      'tufpip-report.json',
    ]);
  });

  // Requirements and pip arguments that would give pip another source: test/client-bad-input.test.ts.
  it('passes resolution options after -- to the verified download too (--no-deps)', async () => {
    const venv = freshVenv();
    const r = expectOk(await ix.run(['install', 'alpha', '--python', venv.python, '--json', '--', '--no-deps']), 'install --no-deps');
    expect(jsonOf<FetchReport>(r).files.map((f) => f.file)).to.deep.equal(['alpha-1.0-py3-none-any.whl']);
    expect(venv.installed()).to.include('alpha').and.not.include('beta');
  });

  it('proxy: serves plain pip as its index URL and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLIENT_BIN, '--data-dir', ix.dataDir, 'proxy', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const listening = await new Promise<{ indexUrl: string }>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const line = stdout.split('\n').find((l) => l.includes('"listening"'));
          if (line) resolve(JSON.parse(line) as { indexUrl: string });
        });
        child.on('exit', (code) => reject(new Error(`tufpip proxy exited ${code}:\n${stderr}`)));
      });
      // The per-run secret is the first path segment (proxy-secret.ts).
      expect(listening.indexUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}\/simple\/$/);
      const dest = tmpDir('tufpip-proxy-dl-');
      const venv = freshVenv();
      // Asynchronously: the index server runs in this process and must keep answering.
      const pip = (req: string) => runPipAsync(venv.python, ['download', '--index-url', listening.indexUrl, '-d', dest, req]);
      const ok = await pip('alpha');
      expect(ok.code, ok.stderr).to.equal(0);
      expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl']);
      // A project the index does not have: pip gets a 404, the proxy reports it as not on the index.
      const failed = await pip('nosuch');
      expect(failed.code).to.not.equal(0);
      expect(failed.stderr).to.match(/No matching distribution found for nosuch/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; served?: string[]; kind?: string; target?: string });
    expect(events.map((e) => e.event)).to.deep.equal(['listening', 'refused', 'stopped']);
    expect(events[1]).to.include({ kind: 'not-on-index', target: 'simple/nosuch/index.html' });
    expect(events[2].served!.sort()).to.deep.equal(['packages/alpha/alpha-1.0-py3-none-any.whl', 'packages/beta/beta-1.1-py3-none-any.whl']);
  });
});
