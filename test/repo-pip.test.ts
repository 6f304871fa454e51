// Issue 2, "What must hold": the index is a real PEP 503 index. A repository built with the real
// `tufpip-repo init` + `add`, served by the real `tufpip-repo serve`, is used by plain pip (no
// tufpip on the client side) with --index-url on loopback only: pip resolves a dependency,
// honours data-requires-python, and every link carries the file's #sha256=.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { freshVenv, pipEnv, type Venv } from './helpers/python.js';
import { startServeCli, type ServeProcess } from './helpers/serve-cli.js';
import { tmpDir } from './helpers/tmp.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { sha256 } from './helpers/hash.js';

const run = promisify(execFile);

async function pipInstall(venv: Venv, indexUrl: string, ...reqs: string[]): Promise<string> {
  const { stdout, stderr } = await run(venv.python, ['-m', 'pip', 'install', '--index-url', indexUrl, ...reqs], { env: pipEnv(), maxBuffer: 16 << 20 }).catch(
    (err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`pip install ${reqs.join(' ')} failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
    },
  );
  return stdout + stderr;
}

async function get(url: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe('repo: plain pip against a tufpip-repo index (PEP 503)', function () {
  this.timeout(180_000);
  let repo: string;
  let files: Record<string, string>;
  let server: ServeProcess;

  before(async () => {
    const base = tmpDir('tufpip-pip-');
    repo = path.join(base, 'repo');
    const dists = path.join(base, 'dists');
    await makeRepo({ dir: repo, bins: 16 });
    files = {
      alpha: await writeWheel(dists, { name: 'alpha', version: '1.0', deps: ['beta>=1.0'], body: 'import beta\nVERSION = "1.0"\n' }),
      beta: await writeWheel(dists, { name: 'beta', version: '1.0' }),
      gamma: writeSdist(dists, 'gamma', '1.0'),
      later10: await writeWheel(dists, { name: 'later', version: '1.0', requiresPython: '>=4' }),
      later09: await writeWheel(dists, { name: 'later', version: '0.9', requiresPython: '>=3' }),
    };
    expectOk(await tufpipRepo(['add', repo, ...Object.values(files)]), 'add');
    server = await startServeCli(repo);
  });

  after(async () => {
    if (server) expect(await server.stop(), 'serve exits cleanly on SIGTERM').to.equal(0);
  });

  it('pip installs a package and its dependency from the index, and both import', async () => {
    const venv = freshVenv();
    const out = await pipInstall(venv, `${server.url}simple/`, 'alpha');
    expect(out).to.include(`Looking in indexes: ${server.url}simple/`);
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
    expect(venv.run('import alpha, beta; print(alpha.VERSION, beta.VERSION)').trim()).to.equal('1.0 1.0');
    // pip fetched the plain (non-hash-prefixed) names, as any PEP 503 client does.
    expect(server.requests).to.include('GET /simple/alpha/ 200');
    expect(server.requests).to.include('GET /packages/beta/beta-1.0-py3-none-any.whl 200');
  });

  it('lists every project on /simple/ and links every file with #sha256= of its bytes, sdists included', async () => {
    const list = await get(`${server.url}simple/`);
    expect(list.status).to.equal(200);
    for (const p of ['alpha', 'beta', 'gamma', 'later']) expect(list.body.toString()).to.include(`<a href="${p}/">${p}</a>`);

    for (const [project, file] of [['gamma', files.gamma], ['alpha', files.alpha], ['later', files.later09]] as const) {
      const pageUrl = `${server.url}simple/${project}/`;
      const page = await get(pageUrl);
      expect(page.status).to.equal(200);
      const name = path.basename(file);
      const m = new RegExp(`<a href="([^"#]*${name.replace(/\./g, '\\.')})#sha256=([0-9a-f]{64})"`).exec(page.body.toString());
      expect(m, `${name} is linked with #sha256= on ${pageUrl}:\n${page.body}`).to.not.equal(null);
      const local = fs.readFileSync(file);
      expect(m![2]).to.equal(sha256(local));
      const served = await get(new URL(m![1], pageUrl).href);
      expect(served.status).to.equal(200);
      expect(served.body.equals(local), `${name} served byte-identical`).to.equal(true);
    }
  });

  it('emits data-requires-python and pip honours it (a ">=4" wheel is skipped for an older one)', async () => {
    const page = (await get(`${server.url}simple/later/`)).body.toString();
    expect(page).to.match(/later-1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}" data-requires-python="&gt;=4"/);
    expect(page).to.match(/later-0\.9-py3-none-any\.whl#sha256=[0-9a-f]{64}" data-requires-python="&gt;=3"/);
    const venv = freshVenv();
    const out = await pipInstall(venv, `${server.url}simple/`, 'later');
    expect(venv.run('import later; print(later.VERSION)').trim(), out).to.equal('0.9');
    expect(server.requests).to.not.include('GET /packages/later/later-1.0-py3-none-any.whl 200');
  });

  it('pip refuses a version the index does not have (it only sees this index)', async () => {
    const venv = freshVenv();
    const err = await pipInstall(venv, `${server.url}simple/`, 'alpha==2.0').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(err).to.match(/No matching distribution found for alpha==2\.0/);
    expect(venv.installed()).to.not.include('alpha');
  });
});
