// The verifying proxy is not a side door (issue 11): `tufpip proxy` answers only requests that
// carry its per-run secret, the pip command it prints installs only verified files whatever pip
// configuration and PIP_* variables add, and so do `tufpip install` / `fetch`. A project the
// index does not have is "not on the index" (with a close name), not an alarm. Real index on
// loopback, real CLIs as child processes, real pip in fresh venvs.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPip } from '../client/pip/pip-runner.js';
import type { FetchReport } from '../client/lib/fetch-report.js';
import { CLIENT_BIN, runCommand, runNode, type RunResult } from './helpers/cli.js';
import { basePython, freshVenv, type Venv } from './helpers/python.js';
import { startProxy } from './helpers/loopback.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { jsonOf, trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';
import { writeWheel } from './helpers/wheels.js';

type Shell = RunResult;

/** Runs a shell command line asynchronously (the index server runs in this process). */
function sh(command: string, env: NodeJS.ProcessEnv): Promise<Shell> {
  return runCommand('/bin/sh', ['-c', command], { env, timeoutMs: 300_000 });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

const alphaVersion = (venv: Venv) => venv.run('import importlib.metadata as m; print(m.version("alpha"))').trim();

/** A running `tufpip proxy` (text output, as a user sees it). */
interface RunningProxy {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  command: string;
  indexUrl: string;
  exited: Promise<number | null>;
}

async function startProxyCli(ix: TrustedIndex): Promise<RunningProxy> {
  const child = spawn(process.execPath, [CLIENT_BIN, '--data-dir', ix.dataDir, 'proxy'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = await new Promise<string[]>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const ls = stdout.split('\n');
      if (ls.some((l) => l.trim().startsWith('PIP_CONFIG_FILE=')) && ls.some((l) => l.includes('index URL'))) resolve(ls);
    });
    child.on('exit', (code) => reject(new Error(`tufpip proxy exited ${code}:\n${stderr}`)));
  });
  const command = lines.find((l) => l.trim().startsWith('PIP_CONFIG_FILE='))!.trim();
  const indexUrl = /(http:\/\/\S+\/simple\/)/.exec(lines.find((l) => l.includes('index URL'))!)![1];
  return { child, stdout: () => stdout, command, indexUrl, exited };
}

describe('tufpip proxy is not a side door; "not on the index"', function () {
  let ix: TrustedIndex;
  /** Other sources, each offering an "evil" alpha 9.0 (pip prefers it to the verified 1.0). */
  let evilWheels: string;
  let evilIndex: string;
  let evilConf: string;

  before(async () => {
    ix = await trustedIndex([
      { name: 'alpha', version: '1.0', deps: ['beta>=1.0'] },
      { name: 'beta', version: '1.1' },
      { name: 'gamma', version: '1.0', deps: ['nosuchdep'] },
    ]);
    const evil = tmpDir('tufpip-evil-');
    evilWheels = path.join(evil, 'wheels');
    const wheel = await writeWheel(evilWheels, { name: 'alpha', version: '9.0' });
    // A PEP 503 index in a folder (pip reads file: index URLs' index.html).
    const page = path.join(evil, 'simple', 'alpha');
    fs.mkdirSync(page, { recursive: true });
    fs.writeFileSync(path.join(page, 'index.html'), `<a href="${pathToFileURL(wheel).href}">${path.basename(wheel)}</a>\n`);
    evilIndex = pathToFileURL(path.join(evil, 'simple')).href + '/';
    evilConf = path.join(evil, 'evil-pip.conf');
    fs.writeFileSync(evilConf, `[global]\nfind-links = ${evilWheels}\n`);
  });
  after(async () => {
    await ix?.close();
  });

  /** Each way pip is told about another source; `apply` sets it up for one venv. */
  const vectors: Record<string, (venv: Venv, home: string) => NodeJS.ProcessEnv> = {
    PIP_FIND_LINKS: () => ({ PIP_FIND_LINKS: evilWheels }),
    PIP_EXTRA_INDEX_URL: () => ({ PIP_EXTRA_INDEX_URL: evilIndex }),
    'PIP_CONFIG_FILE (find-links)': () => ({ PIP_CONFIG_FILE: evilConf }),
    "the venv's pip.conf ([install] find-links)": (venv) => {
      fs.writeFileSync(path.join(venv.dir, 'pip.conf'), `[install]\nfind-links = ${evilWheels}\n[global]\nextra-index-url = ${evilIndex}\n`);
      return {};
    },
    "the user's pip.conf (XDG, extra-index-url)": (_venv, home) => {
      fs.mkdirSync(path.join(home, '.config', 'pip'), { recursive: true });
      fs.writeFileSync(path.join(home, '.config', 'pip', 'pip.conf'), `[global]\nextra-index-url = ${evilIndex}\n`);
      return {};
    },
  };

  /** The user's environment: no pip settings of this test process, a fresh HOME, the venv first on PATH. */
  function userEnv(venv: Venv, home: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(PIP_|XDG_)/i.test(k)) env[k] = v;
    return { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), PATH: `${path.join(venv.dir, 'bin')}:${process.env.PATH}`, PIP_DISABLE_PIP_VERSION_CHECK: '1', ...extra };
  }

  describe('the running `tufpip proxy`', () => {
    let p: RunningProxy;
    before(async () => {
      p = await startProxyCli(ix);
    });
    after(async () => {
      p?.child.kill('SIGTERM');
      await p?.exited;
    });

    it('answers 403 saying why to a request without its secret, and serves the printed URL', async () => {
      const origin = new URL(p.indexUrl).origin;
      const r = await get(`${origin}/simple/alpha/`);
      expect(r.status).to.equal(403);
      expect(r.body).to.contain('missing proxy secret').and.contain('serves only the user who started it');
      const wrong = await get(`${origin}/${'A'.repeat(43)}/simple/alpha/`);
      expect(wrong.status).to.equal(403);
      expect(wrong.body).to.contain('wrong proxy secret');
      const ok = await get(`${p.indexUrl}alpha/`);
      expect(ok.status).to.equal(200);
      expect(ok.body).to.contain('alpha-1.0-py3-none-any.whl');
    });

    it("prints a pip command without the secret in its argv; the secret is in a 0600 pip.conf", async () => {
      const secret = new URL(p.indexUrl).pathname.split('/')[1];
      expect(p.command).to.match(/^PIP_CONFIG_FILE=\S+ no_proxy=127\.0\.0\.1 python3 -m pip --isolated install PACKAGE$/);
      expect(p.command).to.not.contain(secret);
      const conf = /^PIP_CONFIG_FILE=(\S+)/.exec(p.command)![1];
      expect(fs.statSync(conf).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(path.dirname(conf)).mode & 0o077).to.equal(0);
      expect(fs.readFileSync(conf, 'utf8')).to.contain(`index-url = ${p.indexUrl}`);
    });

    for (const [name, apply] of Object.entries(vectors)) {
      it(`the printed command installs only the verified alpha 1.0 with ${name} offering alpha 9.0 (plain pip takes 9.0)`, async () => {
        // Control: the same setting makes plain pip take the other source's higher version.
        const plainVenv = freshVenv();
        const plainHome = tmpDir('tufpip-home-');
        const plain = await sh(`python3 -m pip install --index-url ${p.indexUrl} alpha`, userEnv(plainVenv, plainHome, apply(plainVenv, plainHome)));
        expect(plain.code, plain.stderr).to.equal(0);
        expect(alphaVersion(plainVenv)).to.equal('9.0');

        const venv = freshVenv();
        const home = tmpDir('tufpip-home-');
        const r = await sh(p.command.replace('PACKAGE', 'alpha'), userEnv(venv, home, apply(venv, home)));
        expect(r.code, r.stderr).to.equal(0);
        expect(alphaVersion(venv)).to.equal('1.0');
        expect(venv.installed()).to.include('beta');
      });
    }

    it("the printed command sends nothing through an HTTP proxy a site pip.conf names (plain pip does)", async () => {
      const middleman = await startProxy();
      try {
        const setUp = (venv: Venv) => fs.writeFileSync(path.join(venv.dir, 'pip.conf'), `[global]\nproxy = ${middleman.url}\n`);
        const plainVenv = freshVenv();
        setUp(plainVenv);
        const plain = await sh(`python3 -m pip install --index-url ${p.indexUrl} alpha`, userEnv(plainVenv, tmpDir('tufpip-home-'), {}));
        expect(plain.code, plain.stderr).to.equal(0);
        expect(middleman.forwarded.length, 'control: plain pip uses the configured proxy').to.be.greaterThan(0);
        const before = middleman.forwarded.length;
        const venv = freshVenv();
        setUp(venv);
        const r = await sh(p.command.replace('PACKAGE', 'alpha'), userEnv(venv, tmpDir('tufpip-home-'), {}));
        expect(r.code, r.stderr).to.equal(0);
        expect(middleman.forwarded.length).to.equal(before);
        expect(alphaVersion(venv)).to.equal('1.0');
      } finally {
        await middleman.close();
      }
    });

    it('removes its pip.conf when it stops', async () => {
      const conf = /^PIP_CONFIG_FILE=(\S+)/.exec(p.command)![1];
      p.child.kill('SIGTERM');
      expect(await p.exited).to.equal(0);
      expect(fs.existsSync(conf)).to.equal(false);
    });
  });

  it('tufpip install and fetch ignore every one of those sources at once', async () => {
    const venv = freshVenv();
    const home = tmpDir('tufpip-home-');
    const env: NodeJS.ProcessEnv = {};
    for (const apply of Object.values(vectors)) Object.assign(env, apply(venv, home));
    const run = (args: string[]): Promise<Shell> => runNode(CLIENT_BIN, ['--data-dir', ix.dataDir, ...args], { env: userEnv(venv, home, env), timeoutMs: 300_000 });
    const installed = await run(['install', 'alpha', '--python', venv.python]);
    expect(installed.code, installed.stderr).to.equal(0);
    expect(alphaVersion(venv)).to.equal('1.0');
    const dest = path.join(tmpDir('tufpip-fetch-dest-'), 'out');
    const fetched = await run(['fetch', 'alpha', '-d', dest, '--json', '--python', venv.python]);
    expect(fetched.code, fetched.stderr).to.equal(0);
    expect(jsonOf<FetchReport>(fetched).files.map((f) => f.file).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl']);
  });

  it('fetch of a project the index does not have says "no project NAME on the index" with a close name, nothing fetched', async () => {
    const dest = path.join(tmpDir('tufpip-fetch-dest-'), 'out');
    const r = await ix.run(['fetch', 'alpah', '-d', dest]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('no project alpah on the index; did you mean alpha?').and.contain('nothing was fetched');
    expect(r.stderr).to.not.match(/not-signed|not signed|compromised|No matching distribution|\n\s+at /);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(fs.existsSync(dest)).to.equal(false);
  });

  it('install of a package whose dependency the index does not have names that dependency, nothing installed', async () => {
    const venv = freshVenv();
    const before = venv.fingerprint();
    const r = await ix.run(['install', 'gamma', '--python', venv.python]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('no project nosuchdep on the index').and.contain('nothing was installed');
    expect(r.stderr).to.not.match(/did you mean|not-signed|compromised/);
    expect(venv.fingerprint()).to.equal(before);
  });

  it("gives pip the proxy's URL in its environment, not in its argv, when no prewarmed interpreter is used", async () => {
    const secretUrl = 'http://127.0.0.1:9/s3cr3t-segment/simple/';
    const r = await runPip({ python: basePython(), args: ['config', 'list'], secretIndexUrl: secretUrl, output: 'capture' });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`:env:.index-url='${secretUrl}'`);
  });

  it('control: fetch of a project the index has succeeds (exit 0, verified files only)', async () => {
    const dest = path.join(tmpDir('tufpip-fetch-dest-'), 'out');
    const r = expectOk(await ix.run(['fetch', 'alpha', '-d', dest, '--json']), 'fetch alpha');
    expect(jsonOf<FetchReport>(r).files.map((f) => f.file).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl']);
  });
});
