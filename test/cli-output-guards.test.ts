// Both CLIs end with one clear line and a documented exit code, never a Node stack trace
// (io/cli/process-guards.ts): `--version`; output into a pipe whose reader has gone (`| head`:
// EPIPE) is discarded and the command keeps its own exit code; an output that cannot be written
// (disk full) is one line and exit 1; an error nobody caught is one line (the stack only under
// TUFPIP_DEBUG=1). Real processes, real pipes made by bash.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLIENT_BIN, REPO_BIN, tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import { PROJECT_ROOT, freshVenv, pipEnv } from './helpers/python.js';
import { makeRepo, serve, type TestRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';

const STACK = /\n\s+at .+:\d+:\d+\)?$/m;
const version = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs a bash script (the pipes and redirections a user types), capturing output and exit code. */
function bash(script: string, env: NodeJS.ProcessEnv = process.env): RunResult {
  const r = spawnSync('bash', ['-c', script], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI output guards: --version, closed pipes, failed writes, uncaught errors', function () {
  let repo: TestRepo;
  let dataDir: string;
  before(async () => {
    repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }, { name: 'beta', version: '2.0' }] });
    dataDir = path.join(tmpDir('tufpip-guards-'), 'data');
    const r = await tufpip(['--data-dir', dataDir, 'trust', 'add', 'http://127.0.0.1:8080/', '--root', repo.root1, '--name', 'ix']);
    expect(r.code, r.stderr).to.equal(0);
  });

  for (const [name, run] of [['tufpip', tufpip], ['tufpip-repo', tufpipRepo]] as const) {
    it(`${name} --version prints package.json's version and exits 0`, async () => {
      const r = await run(['--version']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(`${version}\n`);
    });
  }

  const cases: Record<string, () => string> = {
    'tufpip-repo status DIR': () => `node ${quote(REPO_BIN)} status ${quote(repo.dir)}`,
    'tufpip-repo status DIR --json': () => `node ${quote(REPO_BIN)} status ${quote(repo.dir)} --json`,
    'tufpip-repo verify DIR --json': () => `node ${quote(REPO_BIN)} verify ${quote(repo.dir)} --json`,
    'tufpip-repo --help': () => `node ${quote(REPO_BIN)} --help`,
    'tufpip --help': () => `node ${quote(CLIENT_BIN)} --help`,
    'tufpip trust list': () => `node ${quote(CLIENT_BIN)} --data-dir ${quote(dataDir)} trust list`,
    'tufpip trust list --json': () => `node ${quote(CLIENT_BIN)} --data-dir ${quote(dataDir)} trust list --json`,
  };
  for (const [name, cmd] of Object.entries(cases)) {
    it(`${name} into a pipe whose reader has exited (EPIPE): no output on stderr, exit 0`, () => {
      // The reader (`true`) has exited before the command starts: its first write gets EPIPE.
      const r = bash(`exec > >(true); wait $!; ${cmd()}; echo "exit=$?" >&2`);
      expect(r.stderr).to.equal('exit=0\n');
    });
    it(`${name} | head -c 10: ten bytes, exit 0, nothing on stderr`, () => {
      const r = bash(`${cmd()} | head -c 10; echo "exit=\${PIPESTATUS[0]}" >&2`);
      expect(r.stdout).to.have.length(10);
      expect(r.stderr).to.equal('exit=0\n');
    });
  }

  it('tufpip fetch --json into a pipe whose reader has exited: the files are fetched and verified, exit 0', async () => {
    const server = await serve(repo.dir);
    try {
      const data = path.join(tmpDir('tufpip-guards-'), 'data');
      const add = await tufpip(['--data-dir', data, 'trust', 'add', server.url, '--root', repo.root1]);
      expect(add.code, add.stderr).to.equal(0);
      const dest = path.join(tmpDir('tufpip-guards-'), 'out');
      const python = freshVenv().python;
      const cmd = `node ${quote(CLIENT_BIN)} --data-dir ${quote(data)} fetch alpha -d ${quote(dest)} --python ${quote(python)} --json`;
      // Not spawnSync: the index is served from this process, which must keep answering.
      const r = await new Promise<RunResult>((resolve, reject) => {
        const child = spawn('bash', ['-c', `exec > >(true); wait $!; ${cmd}; echo "exit=$?" >&2`], { env: pipEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
      });
      expect(r.stderr.trim().split('\n').at(-1), r.stderr).to.equal('exit=0');
      expect(r.stderr).not.to.match(STACK);
      expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'tufpip-report.json']);
    } finally {
      await server.close();
    }
  });

  it('an output that cannot be written (stdout on /dev/full): one line naming it, exit 1', () => {
    const r = bash(`node ${quote(REPO_BIN)} status ${quote(repo.dir)} > /dev/full`);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('tufpip-repo: error: cannot write the output (ENOSPC)\n');
  });

  // An error thrown where no command catches it, once the guards are in place: a module loaded
  // with --import waits until the CLI has installed its handlers, then throws (or rejects).
  const inject = (what: string) => {
    const file = path.join(tmpDir('tufpip-inject-'), 'inject.mjs');
    fs.writeFileSync(file, `const t = setInterval(() => { if (process.listenerCount('uncaughtException') > 0) { clearInterval(t); ${what}; } }, 5);\n`);
    return `--import=${file}`;
  };
  for (const [kind, what] of [
    ['an uncaught exception', "throw new Error('injected failure')"],
    ['an unhandled rejection', "Promise.reject(new Error('injected failure'))"],
  ]) {
    for (const [name, bin, args] of [
      ['tufpip-repo serve', REPO_BIN, ['serve', '--port', '0']],
      ['tufpip trust list', CLIENT_BIN, ['trust', 'list']],
    ] as const) {
      it(`${name}: ${kind} prints one line and exits 1; TUFPIP_DEBUG=1 adds the stack`, () => {
        const argv: string[] = [...args];
        if (name.includes('serve')) argv.splice(1, 0, repo.dir);
        else argv.unshift('--data-dir', dataDir);
        const line = `node ${quote(bin)} ${argv.map(quote).join(' ')}`;
        const plain = bash(line, { ...process.env, NODE_OPTIONS: inject(what), TUFPIP_DEBUG: '' });
        expect(plain.code, plain.stderr).to.equal(1);
        const errLines = plain.stderr.split('\n').filter((l) => l && !/^(GET|HEAD) /.test(l));
        expect(errLines).to.deep.equal([`${path.basename(bin, '.js')}: error: injected failure`]);
        expect(plain.stderr).not.to.match(STACK);
        const debug = bash(line, { ...process.env, NODE_OPTIONS: inject(what), TUFPIP_DEBUG: '1' });
        expect(debug.code).to.equal(1);
        expect(debug.stderr).to.contain(`${path.basename(bin, '.js')}: error: injected failure\n`);
        expect(debug.stderr).to.match(STACK);
      });
    }
  }

  it('an uncaught error naming a credential URL is printed redacted, with TUFPIP_DEBUG=1 too', () => {
    for (const debug of ['', '1']) {
      const what = "throw new Error('cannot reach https://alice:s3cret-token@pkgs.example.com/simple/')";
      const r = bash(`node ${quote(REPO_BIN)} serve ${quote(repo.dir)} --port 0 --quiet`, { ...process.env, NODE_OPTIONS: inject(what), TUFPIP_DEBUG: debug });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('tufpip-repo: error: cannot reach https://alice:****@pkgs.example.com/simple/\n');
      expect(r.stderr).not.to.contain('s3cret-token');
    }
  });

  it('a refusal is one line without a stack, and TUFPIP_DEBUG=1 adds the stack', async () => {
    const plain = await tufpipRepo(['status', path.join(repo.dir, 'missing')], { env: { ...process.env, TUFPIP_DEBUG: '' } });
    expect(plain.code).to.equal(1);
    expect(plain.stderr.trim().split('\n')).to.have.length(1);
    expect(plain.stderr).to.match(/^tufpip-repo: error: \S/);
    const debug = await tufpipRepo(['status', path.join(repo.dir, 'missing')], { env: { ...process.env, TUFPIP_DEBUG: '1' } });
    expect(debug.code).to.equal(1);
    expect(debug.stderr).to.match(STACK);
  });
});
