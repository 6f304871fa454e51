// No litter: every command of both CLIs, on its success path and on its refusal path, leaves its
// temporary folder (TMPDIR) exactly as it found it. Each command runs as a real process with
// TMPDIR set to a folder of its own, against a real repository served on loopback, with real pip.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CLIENT_BIN, tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import { freshVenv, pipEnv } from './helpers/python.js';
import { makeRepo, serve, type TestRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';

interface Step {
  name: string;
  run: (env: NodeJS.ProcessEnv) => Promise<RunResult>;
  /** Expected exit code: 0, or the refusal's code. */
  code: number;
}

describe('no litter: both CLIs leave TMPDIR empty, on success and on refusal', function () {
  let repo: TestRepo;
  let server: RunningServer;
  let work: string;
  let dataDir: string;
  let python: string;
  before(async () => {
    repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }] });
    server = await serve(repo.dir);
    work = tmpDir('tufpip-litter-');
    dataDir = path.join(work, 'data');
    python = freshVenv().python;
  });
  after(async () => {
    await server?.close();
  });

  const R = (args: () => string[]) => (env: NodeJS.ProcessEnv) => tufpipRepo(args(), { env });
  const C = (args: () => string[]) => (env: NodeJS.ProcessEnv) => tufpip(['--data-dir', dataDir, ...args()], { env: pipEnv(env as Record<string, string>) });
  const steps: Step[] = [
    { name: 'tufpip-repo keygen', code: 0, run: R(() => ['keygen', 'k1', '--out-dir', path.join(work, 'keys')]) },
    { name: 'tufpip-repo init (refused: exists)', code: 1, run: R(() => ['init', repo.dir, '--url', 'http://127.0.0.1:8080/']) },
    { name: 'tufpip-repo add', code: 0, run: (env) => writeWheel(path.join(work, 'w'), { name: 'beta', version: '1.0' }).then((f) => tufpipRepo(['add', repo.dir, f], { env })) },
    { name: 'tufpip-repo add (refused: not a distribution)', code: 1, run: (env) => {
      const f = path.join(work, 'junk-1.0-py3-none-any.whl');
      fs.writeFileSync(f, 'not a zip');
      return tufpipRepo(['add', repo.dir, f], { env });
    } },
    { name: 'tufpip-repo status --json', code: 0, run: R(() => ['status', repo.dir, '--json']) },
    { name: 'tufpip-repo verify DIR', code: 0, run: R(() => ['verify', repo.dir]) },
    { name: 'tufpip-repo verify --url', code: 0, run: R(() => ['verify', '--url', server.url, '--root', repo.root1]) },
    { name: 'tufpip-repo verify --url (refused: a root the index does not sign with)', code: 1, run: async (env) => {
      const other = await makeRepo();
      return tufpipRepo(['verify', '--url', server.url, '--root', other.root1], { env });
    } },
    { name: 'tufpip-repo bump', code: 0, run: R(() => ['bump', repo.dir]) },
    { name: 'tufpip-repo gc', code: 0, run: R(() => ['gc', repo.dir, '--keep', '0m']) },
    { name: 'tufpip-repo propose', code: 0, run: R(() => ['propose', repo.dir, '--role', 'targets']) },
    { name: 'tufpip-repo sign', code: 0, run: R(() => ['sign', path.join(repo.dir, 'pending', 'targets.json'), '--key', path.join(repo.dir, 'keys', 'targets.pem')]) },
    { name: 'tufpip-repo publish', code: 0, run: R(() => ['publish', repo.dir]) },
    { name: 'tufpip-repo publish (refused: nothing pending)', code: 1, run: R(() => ['publish', repo.dir]) },
    { name: 'tufpip trust add', code: 0, run: C(() => ['trust', 'add', server.url, '--root', repo.root1, '--name', 'ix']) },
    { name: 'tufpip fetch', code: 0, run: C(() => ['fetch', 'alpha', '-d', path.join(work, 'fetched'), '--python', python]) },
    { name: 'tufpip fetch (refused: not on the index)', code: 1, run: C(() => ['fetch', 'no-such-project', '-d', path.join(work, 'none'), '--python', python]) },
    { name: 'tufpip install', code: 0, run: C(() => ['install', 'beta', '--python', python]) },
    { name: 'tufpip install (refused: altered file)', code: 1, run: (env) => {
      const file = path.join(repo.dir, 'site', 'packages', 'alpha', 'alpha-1.0-py3-none-any.whl');
      const hashed = fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith('.alpha-1.0-py3-none-any.whl'));
      for (const f of [file, ...hashed.map((h) => path.join(path.dirname(file), h))]) {
        fs.rmSync(f);
        fs.writeFileSync(f, 'altered bytes');
      }
      return C(() => ['install', 'alpha', '--python', python])(env);
    } },
  ];

  steps.push({ name: 'tufpip proxy (serves a verified page, then SIGTERM)', code: 0, run: (env) => proxyRun(env) });

  /** `tufpip proxy` until it has answered one verified page through its index URL, then SIGTERM. */
  function proxyRun(env: NodeJS.ProcessEnv): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLIENT_BIN, '--data-dir', dataDir, 'proxy', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let asked = false;
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /index URL for pip: (http:\/\/\S+)/.exec(stdout);
        if (!m || asked) return;
        asked = true;
        void fetch(`${m[1]}alpha/`)
          .then(async (res) => {
            stdout += `page ${res.status} ${(await res.text()).includes('alpha-1.0-py3-none-any.whl')}\n`;
          })
          .catch((e: unknown) => (stderr += `fetch failed: ${String(e)}\n`))
          .finally(() => child.kill('SIGTERM'));
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (!stdout.includes('page 200 true')) stderr += 'the proxy did not answer the verified page\n';
        resolve({ code: stdout.includes('page 200 true') ? code : -1, signal, stdout, stderr });
      });
    });
  }

  for (const s of steps) {
    it(`${s.name}: exits ${s.code}, TMPDIR empty afterwards`, async () => {
      const tmp = tmpDir('tufpip-tmpdir-');
      const r = await s.run({ ...process.env, TMPDIR: tmp });
      expect(r.code, `${s.name}:\n${r.stderr}\n${r.stdout}`).to.equal(s.code);
      if (s.code !== 0) expect(r.stderr, 'the refusal is stated').to.match(/^tufpip(-repo)?: error: \S/m);
      expect(r.stderr, 'no stack trace').not.to.match(/\n\s+at .+:\d+:\d+\)?\n/);
      expect(fs.readdirSync(tmp), `${s.name} left in TMPDIR`).to.deep.equal([]);
    });
  }
});
