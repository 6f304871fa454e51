// `tufpip tuf init/refresh/download` and the `bin/conformance-client` wrapper: the TUF
// ecosystem's client-under-test CLI (tuf-conformance CLIENT-CLI.md), against a `tufpip-repo`
// repository served on loopback. Exit 0 on success and 1 on any failure; no request at init;
// non-versioned metadata names; a valid target already in --target-dir is not downloaded again.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../repo-tools/commands/serve.js';
import { makeRepo, serve, type TestRepo } from './helpers/repo.js';
import { PROJECT_ROOT } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import type { RunResult } from './helpers/cli.js';

const WRAPPER = path.join(PROJECT_ROOT, 'bin', 'conformance-client');

function client(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRAPPER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('client: conformance CLI (tufpip tuf, bin/conformance-client)', () => {
  let repo: TestRepo;
  let server: RunningServer;
  const requests: string[] = [];
  const wheel = 'packages/gamma/gamma-1.0-py3-none-any.whl';

  before(async () => {
    repo = await makeRepo({ wheels: [{ name: 'gamma', version: '1.0' }] });
    server = await serve(repo.dir, (l) => requests.push(l));
  });
  after(async () => {
    await server.close();
  });

  const md = () => tmpDir('tufpip-conf-');
  const common = (dir: string) => ['--metadata-dir', dir, '--metadata-url', `${server.url}metadata`];
  const download = (dir: string, targetDir: string, name = wheel) =>
    client([...common(dir), '--target-name', name, '--target-base-url', server.url, '--target-dir', targetDir, 'download']);

  it('init stores the trusted root and makes no request', async () => {
    const dir = md();
    requests.length = 0;
    const r = await client(['--metadata-dir', dir, 'init', repo.root1]);
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.readFileSync(path.join(dir, 'root.json'))).to.deep.equal(fs.readFileSync(repo.root1));
    expect(requests).to.deep.equal([]);
  });

  it('refresh updates top-level metadata under non-versioned names', async () => {
    const dir = md();
    expect((await client(['--metadata-dir', dir, 'init', repo.root1])).code).to.equal(0);
    const r = await client([...common(dir), 'refresh']);
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort()).to.deep.equal(['root.json', 'snapshot.json', 'targets.json', 'timestamp.json']);
  });

  it('download verifies and stores a target, and does not download a valid copy again', async () => {
    const dir = md();
    const targets = tmpDir('tufpip-targets-');
    expect((await client(['--metadata-dir', dir, 'init', repo.root1])).code).to.equal(0);
    const r = await download(dir, targets);
    expect(r.code, r.stderr).to.equal(0);
    const file = path.join(targets, encodeURIComponent(wheel));
    const published = fs.readFileSync(path.join(repo.dir, 'site', wheel));
    expect(fs.readFileSync(file)).to.deep.equal(published);
    requests.length = 0;
    const again = await download(dir, targets);
    expect(again.code, again.stderr).to.equal(0);
    expect(requests.filter((l) => l.includes('/packages/')), 'no target request').to.deep.equal([]);
    expect(requests.some((l) => l.includes('/metadata/timestamp.json')), 'metadata refreshed first').to.equal(true);
  });

  it('exits 1 when the file on the server does not match its signed hash, and writes nothing', async () => {
    const dir = md();
    const targets = tmpDir('tufpip-targets-');
    expect((await client(['--metadata-dir', dir, 'init', repo.root1])).code).to.equal(0);
    const plain = fs.readFileSync(path.join(repo.dir, 'site', wheel));
    const hashed = path.join(repo.dir, 'site', 'packages', 'gamma', `${createHash('sha256').update(plain).digest('hex')}.${path.basename(wheel)}`);
    const saved = fs.readFileSync(hashed);
    const tampered = Buffer.from(saved);
    tampered[tampered.length - 1] ^= 0xff;
    fs.rmSync(hashed);
    fs.writeFileSync(hashed, tampered);
    try {
      const r = await download(dir, targets);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('hash-mismatch');
      expect(fs.readdirSync(targets)).to.deep.equal([]);
    } finally {
      fs.rmSync(hashed);
      fs.writeFileSync(hashed, saved);
    }
  });

  it('exits 1 for a target no role lists, an unreachable repository, and a usage error', async () => {
    const dir = md();
    expect((await client(['--metadata-dir', dir, 'init', repo.root1])).code).to.equal(0);
    expect((await download(dir, tmpDir(), 'packages/gamma/nope-1.0-py3-none-any.whl')).code).to.equal(1);
    expect((await client(['--metadata-dir', dir, '--metadata-url', 'http://127.0.0.1:9/metadata', 'refresh'])).code).to.equal(1);
    expect((await client(['refresh'])).code).to.equal(1);
    expect((await client(['--metadata-dir', md(), '--metadata-url', `${server.url}metadata`, 'refresh'])).code, 'refresh before init').to.equal(1);
  });
});
