// Private indexes (DESIGN.md "Secrets of the client"): a real `tufpip-repo` site behind HTTP Basic
// auth and the same site behind a Bearer token (test/helpers/auth-index.ts), the real `tufpip` CLI
// as child processes and real pip in real venvs, for each credential source: the URL given to
// `trust add` (stored apart, 0600), $TUFPIP_INDEX_<NAME>_AUTH / _TOKEN, netrc ($NETRC). A 401/403
// says credentials are missing or refused and how to give them; credentials go to the index's
// origin only; and no secret appears in any output, report or file but the credentials file.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FetchReport } from '../client/lib/fetch-report.js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { exitCodeFor } from '../metadata/errors.js';
import { redactUrl, tidyMessage } from '../client/lib/client-error.js';
import { classifyTufError } from '../client/errors.js';
import { httpStatusFor } from '../client/lib/refusal.js';
import { credentialEnvNames, resolveCredentials } from '../client/lib/index-credentials.js';
import { parseNetrc } from '../client/lib/netrc.js';
import { CLIENT_BIN, tufpip, type RunResult } from './helpers/cli.js';
import { startAuthIndex, type AuthIndex } from './helpers/auth-index.js';
import { selfSignedCert, startHttp, type Loopback } from './helpers/loopback.js';
import { PROJECT_ROOT, freshVenv, pipEnv } from './helpers/python.js';
import { expectOk, makeRepo, type TestRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { STANDARD_WHEELS } from './helpers/trusted-index.js';

const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const WRONG = `wrong-${randomBytes(8).toString('hex')}`;
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const SECRETS = [PASSWORD, WRONG, TOKEN];
/** The secrets as they travel: in Basic headers (base64 of user:password), and base64 alone. */
const ENCODED = [
  ...SECRETS.map((s) => Buffer.from(s).toString('base64')),
  Buffer.from(`alice:${PASSWORD}`).toString('base64'),
  Buffer.from(`alice:${WRONG}`).toString('base64'),
];

/** The index name tufpip gives a loopback server (host:port) and its environment variables. */
const envFor = (ix: Loopback) => credentialEnvNames(`127.0.0.1:${ix.port}`);
const withCreds = (ix: Loopback, userinfo: string) => ix.url.replace('http://', `http://${userinfo}@`);

function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('client: private indexes (credentials from the URL, the environment, netrc)', function () {
  let repo: TestRepo;
  let basic: AuthIndex;
  let bearer: AuthIndex;
  let home: string;
  /** Every stdout and stderr the CLIs printed, every data dir, destination and venv used. */
  const printed: string[] = [];
  const dataDirs: string[] = [];
  const dests: string[] = [];

  /** A child environment without the machine's netrc or index variables: only what the test gives. */
  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...pipEnv(), HOME: home, ...extra };
    if (!('NETRC' in extra)) delete e.NETRC;
    for (const k of Object.keys(e)) if (/^TUFPIP_INDEX_/.test(k) && !(k in extra)) delete e[k];
    return e;
  }
  function newDataDir(): string {
    const d = path.join(tmpDir('tufpip-cred-data-'), 'data');
    dataDirs.push(d);
    return d;
  }
  function newDest(): string {
    const d = path.join(tmpDir('tufpip-cred-dest-'), 'out');
    dests.push(d);
    return d;
  }
  async function run(dataDir: string, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const r = await tufpip(['--data-dir', dataDir, ...args], { env: env(extraEnv) });
    printed.push(r.stdout, r.stderr);
    return r;
  }
  function writeNetrc(text: string): string {
    const file = path.join(tmpDir('tufpip-netrc-'), 'netrc');
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  }
  /** One line on stderr, exit 1, naming credentials and never "could not be reached". */
  function expectCredentialsError(r: RunResult, what: RegExp): void {
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(/^tufpip: error: credentials \[/);
    expect(lines[0], lines[0]).to.match(what);
    expect(lines[0]).to.contain('credentials for the index are missing or were refused');
    expect(lines[0]).to.not.match(/could not be reached|\n\s+at /);
  }
  async function fetchOk(dataDir: string, extraEnv: Record<string, string> = {}): Promise<FetchReport> {
    const dest = newDest();
    const r = expectOk(await run(dataDir, ['fetch', 'alpha', '-d', dest, '--json'], extraEnv), 'tufpip fetch');
    const out = JSON.parse(r.stdout) as FetchReport & { ok: boolean };
    expect(out.ok).to.equal(true);
    expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl', 'tufpip-report.json']);
    return JSON.parse(fs.readFileSync(path.join(dest, 'tufpip-report.json'), 'utf8')) as FetchReport;
  }
  function indexDir(dataDir: string, ix: Loopback): string {
    return path.join(dataDir, 'indexes', encodeURIComponent(`127.0.0.1:${ix.port}`));
  }

  before(async () => {
    home = tmpDir('tufpip-cred-home-');
    repo = await makeRepo({ wheels: STANDARD_WHEELS });
    const site = path.join(repo.dir, 'site');
    basic = await startAuthIndex(site, { scheme: 'basic', username: 'alice', password: PASSWORD });
    bearer = await startAuthIndex(site, { scheme: 'bearer', token: TOKEN });
  });
  after(async () => {
    await basic?.close();
    await bearer?.close();
  });

  describe('netrc, redaction, names (units)', () => {
    // Each file is parsed by CPython 3.11's netrc module too: same entries, or an error for both.
    const NETRC_CASES: Record<string, string> = {
      'one machine per line': 'machine a.example login alice password s3cret\n',
      'multi-line, comments, default': '# top comment\nmachine a.example\n  login alice # trailing\n  password "pass word"\n\ndefault login anon password x\n',
      'quoted tokens and escapes': 'machine b login "al ice" password "p\\"w\\\\d"\nmachine c user bob account acct password \\#hash\n',
      'macdef skipped up to an empty line': 'macdef init\ncd /pub\nbin\n\nmachine m login u password p\n',
      'account only': 'machine z account svc password tok\n',
      'bad follower token': 'machine a login u port 21\n',
      'bad toplevel token': 'login u password p\n',
      'missing machine name': 'machine',
    };
    for (const [name, text] of Object.entries(NETRC_CASES)) {
      it(`netrc: ${name} (as CPython's netrc)`, () => {
        const file = path.join(tmpDir('tufpip-netrc-unit-'), 'netrc');
        fs.writeFileSync(file, text);
        const py = execFileSync('python3', ['-c', [
          'import json, netrc, sys',
          'try:',
          '    n = netrc.netrc(sys.argv[1]); print(json.dumps({h: list(v) for h, v in n.hosts.items()}))',
          'except netrc.NetrcParseError as e: print(json.dumps({"error": e.msg}))',
        ].join('\n'), file]).toString();
        const expected = JSON.parse(py) as Record<string, unknown>;
        let got: Record<string, unknown>;
        try {
          got = Object.fromEntries([...parseNetrc(text)].map(([h, e]) => [h, [e.login, e.account, e.password]]));
        } catch (err) {
          got = { error: (err as Error).message.replace(/ \(line \d+\)$/, '') };
        }
        expect(got).to.deep.equal(expected);
      });
    }

    it('~/.netrc is used only when no other user may read it (CPython netrc security check); $NETRC as given', () => {
      const homeDir = tmpDir('tufpip-netrc-home-');
      const file = path.join(homeDir, '.netrc');
      fs.writeFileSync(file, 'machine idx.example login alice password pw\n', { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      const r = (e: NodeJS.ProcessEnv) => resolveCredentials({ url: 'https://idx.example/', name: 'idx', env: e }).source;
      expect(r({ HOME: homeDir })).to.equal(undefined);
      expect(r({ HOME: homeDir, NETRC: file })).to.deep.equal({ kind: 'netrc', file, machine: 'idx.example' });
      fs.chmodSync(file, 0o600);
      expect(r({ HOME: homeDir })).to.deep.equal({ kind: 'netrc', file, machine: 'idx.example' });
    });

    it('redacts URL credentials as pip does (user:****@host, ****@host for a token)', () => {
      expect(redactUrl('https://alice:s3cret@idx.example/simple/')).to.equal('https://alice:****@idx.example/simple/');
      expect(redactUrl('https://tok123@idx.example/')).to.equal('https://****@idx.example/');
      expect(redactUrl('https://idx.example/')).to.equal('https://idx.example/');
      expect(tidyMessage('cannot reach https://alice:s3cret@idx.example/x and http://t0k@h/')).to.equal('cannot reach https://alice:****@idx.example/x and http://****@h/');
    });

    it("401/403 are classified as 'credentials' (also inside tuf-js's RuntimeError rewrap), exit 1, code AUTH, 502 to pip", () => {
      const direct = new DownloadHTTPError('HTTP 401 for http://127.0.0.1:9/metadata/2.root.json: the index asks for credentials and none were given', 401);
      const rewrapped = new Error('Unable to load snapshot metadata error DownloadHTTPError: HTTP 403 for http://127.0.0.1:9/metadata/3.snapshot.json: the index refused the credentials from $X');
      for (const err of [direct, rewrapped]) {
        const c = classifyTufError(err, { index: 'http://127.0.0.1:9/' });
        expect(c.kind).to.equal('credentials');
        expect(c.code).to.equal('AUTH');
        expect(exitCodeFor(c)).to.equal(1);
        expect(c.message).to.match(/^credentials \[role (root|snapshot), index http:\/\/127\.0\.0\.1:9\/\]: HTTP 40[13] for /);
        expect(c.message).to.not.contain('could not be reached');
      }
      // A 404 or 500 stays what it was.
      expect(classifyTufError(new DownloadHTTPError('HTTP 500 for http://h/x', 500)).kind).to.equal('network');
      expect(httpStatusFor('credentials')).to.equal(502);
    });

    it('environment variable names: the index name upper-cased, other characters as _', () => {
      expect(credentialEnvNames('127.0.0.1:8080')).to.deep.equal({ auth: 'TUFPIP_INDEX_127_0_0_1_8080_AUTH', token: 'TUFPIP_INDEX_127_0_0_1_8080_TOKEN' });
      expect(credentialEnvNames('corp-pypi').auth).to.equal('TUFPIP_INDEX_CORP_PYPI_AUTH');
    });

    it('precedence: the URL, then the environment, then stored, then netrc', () => {
      const dir = tmpDir('tufpip-prec-');
      fs.writeFileSync(path.join(dir, 'credentials'), JSON.stringify({ scheme: 'bearer', token: 'stored' }));
      const netrc = writeNetrc('machine idx.example login n password netrc\n');
      const names = credentialEnvNames('idx');
      const all = { NETRC: netrc, [names.auth]: 'e:env' };
      const r = (url: string, e: NodeJS.ProcessEnv) => resolveCredentials({ url, name: 'idx', indexDir: dir, env: e });
      expect(r('https://u:url@idx.example/', all).source).to.deep.equal({ kind: 'url' });
      expect(r('https://idx.example/', all)).to.deep.include({ credential: { scheme: 'basic', username: 'e', password: 'env' } });
      expect(r('https://idx.example/', { NETRC: netrc }).credential).to.deep.equal({ scheme: 'bearer', token: 'stored' });
      expect(r('https://idx.example/', { NETRC: netrc, [names.token]: 'T' }).credential).to.deep.equal({ scheme: 'bearer', token: 'T' });
      expect(resolveCredentials({ url: 'https://idx.example/', name: 'idx', env: { NETRC: netrc } })).to.deep.include({
        credential: { scheme: 'basic', username: 'n', password: 'netrc' },
        source: { kind: 'netrc', file: netrc, machine: 'idx.example' },
      });
      expect(() => r('https://idx.example/', { [names.auth]: 'a:b', [names.token]: 'T' })).to.throw(/both TUFPIP_INDEX_IDX_AUTH and TUFPIP_INDEX_IDX_TOKEN are set/);
    });
  });

  describe('credentials stay with the index origin', () => {
    const servers: Loopback[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });

    it('sends the Authorization header to the index origin only, never on a redirect to another origin', async function () {
      const tls = selfSignedCert(tmpDir('tufpip-cred-tls-'));
      if (!tls) return this.skip(); // no openssl to make a certificate
      const seen: Array<[string, string | undefined]> = [];
      // Another origin, over HTTPS (the only cross-origin redirect the fetcher follows).
      const other = await startHttp((req, res) => {
        seen.push([`other${req.url}`, req.headers.authorization]);
        res.writeHead(200, { 'content-length': 2 }).end('ok');
      }, { key: tls.key, cert: tls.cert });
      servers.push(other);
      const index = await startHttp((req, res) => {
        seen.push([`index${req.url}`, req.headers.authorization]);
        if (req.url === '/away') return res.writeHead(302, { location: `${other.url}moved` }).end();
        if (req.url === '/again') return res.writeHead(301, { location: '/here' }).end();
        res.writeHead(200, { 'content-length': 2 }).end('ok');
      });
      servers.push(index);
      // In a child process that trusts the test certificate (NODE_EXTRA_CA_CERTS is read at start-up).
      const script = `
        import { HttpFetcher } from ${JSON.stringify(path.join(PROJECT_ROOT, 'dist', 'tuf', 'fetcher.js'))};
        const f = new HttpFetcher({ auth: [{ origin: ${JSON.stringify(new URL(index.url).origin)}, authorization: 'Bearer XYZ' }] });
        for (const u of process.argv.slice(1)) await f.downloadBytes(u, 100);
        await f.close();`;
      const r = await runChild(['--input-type=module', '-e', script, `${index.url}again`, `${index.url}away`, `${other.url}direct`], { ...process.env, NODE_EXTRA_CA_CERTS: tls.certFile });
      expect(r.code, r.stderr).to.equal(0);
      expect(seen).to.deep.equal([
        ['index/again', 'Bearer XYZ'],
        ['index/here', 'Bearer XYZ'],
        ['index/away', 'Bearer XYZ'],
        ['other/moved', undefined],
        ['other/direct', undefined],
      ]);
    });
  });

  describe('HTTP Basic index', () => {
    it('URL credentials: trust add stores them apart (0600 in a 0700 folder), checks them; fetch and install use them', async () => {
      const dataDir = newDataDir();
      const before = basic.requests.length;
      const add = expectOk(await run(dataDir, ['trust', 'add', withCreds(basic, `alice:${PASSWORD}`), '--root', repo.root1, '--json']), 'trust add');
      const added = JSON.parse(add.stdout) as { url: string; credentials: unknown; checked: boolean };
      expect(added.url).to.equal(basic.url);
      expect(added.credentials).to.deep.equal({ source: 'stored', scheme: 'basic', file: path.join(indexDir(dataDir, basic), 'credentials') });
      expect(added.checked).to.equal(true);
      // The check was a real TUF update cycle with the credentials: timestamp and the 2.root.json probe (404).
      const checked = basic.requests.slice(before);
      expect(checked.map((r) => r.path)).to.include.members(['/metadata/2.root.json', '/metadata/timestamp.json']);
      expect(checked.every((r) => r.authorization === basic.header)).to.equal(true);
      expect(checked.find((r) => r.path === '/metadata/2.root.json')!.status).to.equal(404);

      const dir = indexDir(dataDir, basic);
      expect(fs.statSync(path.join(dir, 'credentials')).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(dir).mode & 0o777).to.equal(0o700);
      expect(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')).to.not.contain(PASSWORD);
      const list = expectOk(await run(dataDir, ['trust', 'list']));
      expect(list.stdout).to.contain(`${basic.url}  root v1`).and.contain('credentials: stored (basic)');

      const report = await fetchOk(dataDir);
      expect(report.index).to.equal(basic.url);
      const venv = freshVenv();
      expectOk(await run(dataDir, ['install', 'alpha', '--python', venv.python]), 'tufpip install');
      expect(venv.installed()).to.include.members(['alpha', 'beta']);
    });

    it('proxy: pip through `tufpip proxy --verbose` with stored credentials; once they are revoked, a credentials refusal (502 to pip)', async () => {
      const dataDir = newDataDir();
      expectOk(await run(dataDir, ['trust', 'add', withCreds(basic, `alice:${PASSWORD}`), '--root', repo.root1]), 'trust add');
      const child = spawn(process.execPath, [CLIENT_BIN, '--data-dir', dataDir, 'proxy', '--verbose'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const python = freshVenv().python;
      const pipDownload = (indexUrl: string, dest: string, req: string) =>
        new Promise<{ code: number | null; out: string }>((resolve, reject) => {
          const p = spawn(python, ['-m', 'pip', 'download', '--index-url', indexUrl, '-d', dest, req], { env: pipEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.stderr.on('data', (d: Buffer) => (out += d.toString()));
          p.on('error', reject);
          p.on('close', (code) => {
            printed.push(out);
            resolve({ code, out });
          });
        });
      try {
        const indexUrl = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            stdout += d.toString();
            const m = /index URL for pip: (\S+)/.exec(stdout);
            if (m) resolve(m[1]);
          });
          child.on('exit', (code) => reject(new Error(`tufpip proxy exited ${code}:\n${stderr}`)));
        });
        const dest = newDest();
        const ok = await pipDownload(indexUrl, dest, 'alpha');
        expect(ok.code, ok.out).to.equal(0);
        expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl']);

        // The index revokes the password: the next file the proxy must download is refused.
        basic.rotate({ scheme: 'basic', username: 'alice', password: WRONG });
        const refused = await pipDownload(indexUrl, newDest(), 'beta==1.0');
        expect(refused.code).to.not.equal(0);
        expect(refused.out).to.match(/502/);
      } finally {
        basic.rotate({ scheme: 'basic', username: 'alice', password: PASSWORD });
        child.kill('SIGTERM');
      }
      expect(await exited).to.equal(0);
      printed.push(stdout, stderr);
      expect(stdout).to.contain(`verifying ${basic.url}`);
      expect(stderr).to.match(/GET \/simple\/alpha\//);
      expect(stderr).to.match(/tufpip: credentials \[.*\]: HTTP 401 for .*: the index refused the credentials stored by 'tufpip trust add'/);
      expect(stderr).to.not.contain('could not be reached');
    });

    it('environment variable TUFPIP_INDEX_<NAME>_AUTH, and it takes precedence over stored credentials', async () => {
      const names = envFor(basic);
      const dataDir = newDataDir();
      // With the variable set, trust add has credentials and checks them.
      const add = expectOk(await run(dataDir, ['trust', 'add', basic.url, '--root', repo.root1], { [names.auth]: `alice:${PASSWORD}` }), 'trust add');
      expect(add.stdout).to.contain(`credentials: from $${names.auth} (basic), checked against the index`);
      await fetchOk(dataDir, { [names.auth]: `alice:${PASSWORD}` });

      // Wrong credentials stored (unchecked), right ones in the environment: the environment wins.
      const stale = newDataDir();
      expectOk(await run(stale, ['trust', 'add', withCreds(basic, `alice:${WRONG}`), '--root', repo.root1, '--no-check']), 'trust add --no-check');
      await fetchOk(stale, { [names.auth]: `alice:${PASSWORD}` });
      const r = await run(stale, ['fetch', 'alpha', '-d', newDest()]);
      expectCredentialsError(r, /HTTP 401 for .*: the index refused the credentials stored by 'tufpip trust add'/);
    });

    it('--index URL with credentials (fetch), and trust add --auth-env; one way at a time', async () => {
      const dataDir = newDataDir();
      expectOk(await run(dataDir, ['trust', 'add', basic.url, '--root', repo.root1]), 'trust add');
      const dest = newDest();
      expectOk(await run(dataDir, ['fetch', 'alpha', '-d', dest, '--index', withCreds(basic, `alice:${PASSWORD}`)]), 'fetch --index URL');
      expect(fs.readdirSync(dest)).to.include('alpha-1.0-py3-none-any.whl');

      const viaEnv = newDataDir();
      const add = expectOk(await run(viaEnv, ['trust', 'add', basic.url, '--root', repo.root1, '--auth-env', 'MY_AUTH', '--json'], { MY_AUTH: `alice:${PASSWORD}` }), 'trust add --auth-env');
      expect(JSON.parse(add.stdout)).to.deep.include({ checked: true, credentials: { source: 'stored', scheme: 'basic', file: path.join(indexDir(viaEnv, basic), 'credentials') } });
      const both = await run(newDataDir(), ['trust', 'add', withCreds(basic, `alice:${PASSWORD}`), '--root', repo.root1, '--token-env', 'MY_AUTH'], { MY_AUTH: TOKEN });
      expect(both.code).to.equal(2);
      expect(both.stderr).to.contain('give credentials one way: in the URL, with --token-env or with --auth-env');
      const unset = await run(newDataDir(), ['trust', 'add', basic.url, '--root', repo.root1, '--token-env', 'NOT_SET_ANYWHERE']);
      expect(unset.code).to.equal(2);
      expect(unset.stderr).to.contain('--token-env NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set or empty');
    });

    it('netrc ($NETRC): trust add checks with it, fetch and tuf refresh use it', async () => {
      const netrc = writeNetrc(`machine 127.0.0.1\n  login alice\n  password ${PASSWORD}\n`);
      const dataDir = newDataDir();
      const add = expectOk(await run(dataDir, ['trust', 'add', basic.url, '--root', repo.root1], { NETRC: netrc }), 'trust add');
      expect(add.stdout).to.contain(`credentials: from netrc ${netrc} (basic), checked against the index`);
      await fetchOk(dataDir, { NETRC: netrc });
      const md = path.join(tmpDir('tufpip-cred-tuf-'), 'md');
      expectOk(await run(dataDir, ['tuf', 'init', repo.root1, '--metadata-dir', md]), 'tuf init');
      expectOk(await run(dataDir, ['tuf', 'refresh', '--metadata-dir', md, '--metadata-url', `${basic.url}metadata/`], { NETRC: netrc }), 'tuf refresh');
    });

    it('tuf refresh / download: credentials from the URL and from the environment variable', async () => {
      const names = envFor(basic);
      for (const [label, url, extra] of [
        ['url', withCreds(basic, `alice:${PASSWORD}`), {}],
        ['env', basic.url, { [names.auth]: `alice:${PASSWORD}` }],
      ] as const) {
        const md = path.join(tmpDir('tufpip-cred-tuf-'), 'md');
        expectOk(await run(newDataDir(), ['tuf', 'init', repo.root1, '--metadata-dir', md]), 'tuf init');
        expectOk(await run(newDataDir(), ['tuf', 'refresh', '--metadata-dir', md, '--metadata-url', `${url}metadata/`], extra), `tuf refresh (${label})`);
        const targets = newDest();
        const dl = expectOk(
          await run(newDataDir(), ['tuf', 'download', '--metadata-dir', md, '--metadata-url', `${url}metadata/`, '--target-base-url', url, '--target-dir', targets, '--target-name', 'packages/beta/beta-1.0-py3-none-any.whl'], extra),
          `tuf download (${label})`,
        );
        expect(dl.stdout).to.contain('downloaded packages/beta/beta-1.0-py3-none-any.whl');
      }
    });

    it('no credentials: a 401 says they are missing and how to give them; nothing is fetched or installed', async () => {
      const names = envFor(basic);
      const dataDir = newDataDir();
      // No credentials from any source: trust add stores the root only, without contacting the index.
      const add = expectOk(await run(dataDir, ['trust', 'add', basic.url, '--root', repo.root1]), 'trust add');
      expect(add.stdout).to.not.contain('credentials:');
      const before = basic.refused().length;
      const dest = newDest();
      const r = await run(dataDir, ['fetch', 'alpha', '-d', dest]);
      const hint = new RegExp(`HTTP 401 for ${basic.url}metadata/2\\.root\\.json: the index asks for credentials and none were given; give them with ${names.auth}=USER:PASSWORD or ${names.token}=TOKEN, in netrc \\(\\$NETRC or ~/\\.netrc, machine 127\\.0\\.0\\.1\\)`);
      expectCredentialsError(r, hint);
      expect(r.stderr).to.contain(`or store them with 'tufpip trust add' (USER:PASSWORD@ in the index URL, or --token-env VAR) after 'tufpip trust remove 127.0.0.1:${basic.port}'`);
      expect(r.stderr).to.contain('nothing was fetched');
      expect(fs.existsSync(dest)).to.equal(false);
      // TUF spec 5.3.3: 403/404 end the root chain; a 401 on the probe does not (it asks for credentials).
      expect(basic.refused().length).to.be.greaterThan(before);

      const json = await run(dataDir, ['fetch', 'alpha', '-d', dest, '--json']);
      const out = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; kind: string } };
      expect(out).to.deep.include({ ok: false });
      expect(out.error).to.include({ code: 'AUTH', kind: 'credentials' });

      const venv = freshVenv();
      const fp = venv.fingerprint();
      expectCredentialsError(await run(dataDir, ['install', 'alpha', '--python', venv.python]), /nothing was installed/);
      expect(venv.fingerprint()).to.equal(fp);

      // The proxy's first update cycle fails the same way, before it listens.
      expectCredentialsError(await run(dataDir, ['proxy']), hint);

      const md = path.join(tmpDir('tufpip-cred-tuf-'), 'md');
      expectOk(await run(dataDir, ['tuf', 'init', repo.root1, '--metadata-dir', md]), 'tuf init');
      // No trust store for `tuf`: the hint says the URL instead of `trust add`.
      const tuf = await run(dataDir, ['tuf', 'refresh', '--metadata-dir', md, '--metadata-url', `${basic.url}metadata/`]);
      expectCredentialsError(tuf, hint);
      expect(tuf.stderr).to.contain('machine 127.0.0.1), or put USER:PASSWORD@ in the URL:').and.not.contain('trust add');
    });

    it('wrong credentials: refused, naming their source (never the secret); trust add keeps nothing', async () => {
      const names = envFor(basic);
      const dataDir = newDataDir();
      const add = await run(dataDir, ['trust', 'add', withCreds(basic, `alice:${WRONG}`), '--root', repo.root1]);
      expectCredentialsError(add, /HTTP 401 for .*: the index refused the credentials given in the URL to 'tufpip trust add'.*; nothing was stored \(--no-check stores the index without checking\)$/);
      expect(fs.readdirSync(path.join(dataDir, 'indexes'))).to.deep.equal([]);

      expectOk(await run(dataDir, ['trust', 'add', basic.url, '--root', repo.root1]), 'trust add');
      const r = await run(dataDir, ['fetch', 'alpha', '-d', newDest()], { [names.auth]: `alice:${WRONG}` });
      expectCredentialsError(r, new RegExp(`the index refused the credentials from \\$${names.auth}`));
    });
  });

  // Refused inputs that carry credentials (redacted in the message): test/client-bad-input.test.ts.

  describe('HTTP Bearer index', () => {
    it('trust add --token-env stores the token (0600); fetch and install use it', async () => {
      const dataDir = newDataDir();
      const add = expectOk(await run(dataDir, ['trust', 'add', bearer.url, '--root', repo.root1, '--token-env', 'MY_INDEX_TOKEN', '--json'], { MY_INDEX_TOKEN: TOKEN }), 'trust add');
      expect((JSON.parse(add.stdout) as { credentials: unknown }).credentials).to.deep.include({ source: 'stored', scheme: 'bearer' });
      expect(fs.statSync(path.join(indexDir(dataDir, bearer), 'credentials')).mode & 0o777).to.equal(0o600);
      await fetchOk(dataDir);
      const venv = freshVenv();
      expectOk(await run(dataDir, ['install', 'alpha', '--python', venv.python]), 'tufpip install');
      expect(venv.installed()).to.include.members(['alpha', 'beta']);
      expect(bearer.requests.filter((r) => r.status === 200).every((r) => r.authorization === `Bearer ${TOKEN}`)).to.equal(true);
      // trust remove forgets the secret with the index.
      expectOk(await run(dataDir, ['trust', 'remove', `127.0.0.1:${bearer.port}`]), 'trust remove');
      expect(fs.existsSync(indexDir(dataDir, bearer))).to.equal(false);
    });

    it('TUFPIP_INDEX_<NAME>_TOKEN; a wrong token gets 403 "refused"; netrc (Basic only) is refused too', async () => {
      const names = envFor(bearer);
      const dataDir = newDataDir();
      expectOk(await run(dataDir, ['trust', 'add', bearer.url, '--root', repo.root1, '--no-check']), 'trust add');
      await fetchOk(dataDir, { [names.token]: TOKEN });
      expectCredentialsError(await run(dataDir, ['fetch', 'alpha', '-d', newDest()], { [names.token]: WRONG }), new RegExp(`HTTP 403 for .*: the index refused the credentials from \\$${names.token}`));
      const netrc = writeNetrc(`default login alice password ${WRONG}\n`);
      expectCredentialsError(await run(dataDir, ['fetch', 'alpha', '-d', newDest()], { NETRC: netrc }), new RegExp(`the index refused the credentials from netrc ${netrc} \\(default entry\\)`));
      // No credentials at all: a 401.
      expectCredentialsError(await run(dataDir, ['fetch', 'alpha', '-d', newDest()]), /HTTP 401 for .*none were given/);
    });
  });

  // Last (mocha runs a suite's own tests before its nested suites): everything above has run.
  describe('afterwards', () => {
    it('no secret (nor its base64 form) in any output, report, metadata or file but the 0600 credentials files', () => {
      expect(printed.length).to.be.greaterThan(20);
      const all = printed.join('\n');
      for (const s of [...SECRETS, ...ENCODED]) expect(all, 'CLI output').to.not.contain(s);
      const files: string[] = [];
      const walk = (d: string) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else files.push(p);
        }
      };
      for (const d of [...dataDirs, ...dests]) walk(d);
      expect(files.some((f) => f.endsWith('tufpip-report.json'))).to.equal(true);
      let credentialFiles = 0;
      for (const f of files) {
        const text = fs.readFileSync(f, 'latin1');
        if (path.basename(f) === 'credentials') {
          credentialFiles++;
          expect(fs.statSync(f).mode & 0o777, f).to.equal(0o600);
          continue;
        }
        for (const s of [...SECRETS, ...ENCODED]) expect(text, f).to.not.contain(s);
      }
      expect(credentialFiles).to.be.greaterThan(0);
    });
  });
});
