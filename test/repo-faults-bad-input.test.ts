// Issue 6, "Faults and load on the repository side": bad input, both CLIs. Scenario tables
// (python-tuf style); every row runs the real CLIs as child processes.
//
// 1. A repository whose metadata or config.json was damaged (truncated, not JSON, wrong types,
//    changed after signing, roles outside the role graph, some of them validly re-signed with the
//    repository's own keys): `tufpip-repo add`, `bump --force`, `status` and `verify` each exit 1
//    with one line naming the file and the problem (verify: its summary line, then the problems),
//    and the repository directory is byte for byte as it was.
// 2. The same damage served over loopback to the client: `tufpip tuf refresh` (and `tuf download`
//    where the damage is in a bin) exits 1 naming the class of the refusal ("refused (metadata)",
//    "(bad-signature)", "(hash-mismatch)", "(endless-data)"), nothing lands in the target
//    directory, and nothing unverified in the metadata directory (every file tuf-js kept is the
//    intact repository's own); for some rows `tufpip fetch` too (the destination is not created).
// 3. Huge files, non-UTF-8 names, symbolic links out of the repository, paths with '..', a
//    corrupted client trust store: a clear error, a non-zero exit, nothing changed. A symbolic
//    link under site/ that points outside it is reported by verify, blocks publishing, and is
//    never followed by `tufpip-repo serve`.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tufpip, tufpipRepo, REPO_BIN, type RunResult } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { listTree } from './helpers/faults.js';
import { serveRepo, type RunningServer } from '../repo-tools/commands/serve.js';
import { signRole } from '../repo-tools/txn/transaction.js';
import { loadSigner } from '../repo-tools/keys/signer.js';
import { canonicalize } from '../metadata/canonical.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let refusedCount = 0;
/** Files the test re-signed with the repository's own keys: a client may keep those (they verify). */
const validlySigned: Buffer[] = [];

const md = (repo: string) => path.join(repo, 'site', 'metadata');
const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const tsFile = (repo: string) => path.join(md(repo), 'timestamp.json');
const snapFile = (repo: string) => path.join(md(repo), `${readJson(tsFile(repo)).signed.meta['snapshot.json'].version}.snapshot.json`);
/** The current version of the bin that lists alpha's wheel. */
function alphaBinFile(repo: string): string {
  const meta = readJson(snapFile(repo)).signed.meta as Record<string, { version: number }>;
  for (const [f, { version }] of Object.entries(meta)) {
    if (!f.startsWith('bin-')) continue;
    const file = path.join(md(repo), `${version}.${f}`);
    if (readJson(file).signed.targets['packages/alpha/alpha-1.0-py3-none-any.whl']) return file;
  }
  throw new Error('no bin lists alpha');
}
const editJson = (file: string, edit: (j: Json) => void) => {
  const j = readJson(file);
  edit(j);
  fs.writeFileSync(file, JSON.stringify(j));
};
const truncate = (file: string) => {
  const b = fs.readFileSync(file);
  fs.writeFileSync(file, b.subarray(0, b.length >> 1));
};
/** Re-signs `file` after `edit` with the repository's own keys (valid signatures, bad content). */
async function resign(repo: string, file: string, keys: string[], edit: (signed: Json) => void): Promise<Buffer> {
  const j = readJson(file);
  edit(j.signed);
  const signers = await Promise.all(keys.map((k) => loadSigner(`file:keys/${k}.pem`, { baseDir: repo })));
  const bytes = await signRole(canonicalize(j.signed), signers);
  fs.writeFileSync(file, bytes);
  validlySigned.push(bytes);
  return bytes;
}
/** After the snapshot changed: a timestamp that names it (length, hash), re-signed. */
async function renameSnapshotInTimestamp(repo: string): Promise<void> {
  const snap = fs.readFileSync(snapFile(repo));
  await resign(repo, tsFile(repo), ['online'], (s) => {
    s.meta['snapshot.json'].length = snap.length;
    s.meta['snapshot.json'].hashes = { sha256: createHash('sha256').update(snap).digest('hex') };
  });
}

/** The whole directory (every file's path, size, mtime, sha256) plus some files' exact bytes. */
const snap = (dir: string) => snapshotTree(dir, ['site/metadata/timestamp.json', 'journal', 'config.json']);

function expectOneLineError(r: RunResult, prog: 'tufpip-repo' | 'tufpip', error: RegExp, what: string, opts: { code?: number; multiLine?: boolean; stdoutOk?: boolean } = {}): void {
  const shown = `${what}: exit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
  expect(r.code, shown).to.equal(opts.code ?? 1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (!opts.multiLine) expect(lines.length, `one line (plus the usage hint for usage errors):\n${shown}`).to.equal((opts.code ?? 1) === 2 ? 2 : 1);
  expect(lines[0], shown).to.match(new RegExp(`^${prog}: error: `));
  expect(r.stderr, shown).to.match(error);
  expect(r.stderr, `no stack trace:\n${shown}`).to.not.match(/\n\s+at /);
  if (!opts.stdoutOk) expect(r.stdout, shown).to.equal('');
  refusedCount++;
}

describe('repo faults: bad input to both CLIs is refused clearly and changes nothing', function () {
  this.timeout(600_000);
  let base: string;
  let gold: string; // an intact repository: alpha 1.0 (wheel and sdist), beta 1.0
  let inputs: string;
  let fresh: string; // a valid wheel that is not published yet
  let n = 0;
  /** A copy of the intact repository. */
  const copyGold = () => {
    const dir = path.join(base, `r${n++}`);
    fs.cpSync(gold, dir, { recursive: true, verbatimSymlinks: true });
    return dir;
  };

  before(async () => {
    base = tmpDir('tufpip-faults-bad-');
    gold = path.join(base, 'gold');
    inputs = path.join(base, 'in');
    expectOk(await tufpipRepo(['init', gold, '--url', 'http://127.0.0.1:8080/', '--bins', '4']), 'init');
    const alpha = await writeWheel(path.join(inputs, 'a'), { name: 'alpha', version: '1.0' });
    const beta = await writeWheel(path.join(inputs, 'a'), { name: 'beta', version: '1.0' });
    expectOk(await tufpipRepo(['add', gold, alpha, beta, writeSdist(path.join(inputs, 'a'), 'alpha', '1.0')]), 'add');
    fresh = await writeWheel(path.join(inputs, 'fresh'), { name: 'fresh', version: '1.0' });
  });

  // --- 1. damaged repositories, the operator's CLI --------------------------------------------

  interface RepoCase {
    damage: (repo: string) => void | Promise<void>;
    /** What add, bump and status say (verify has its own message, `verify`). */
    error: RegExp;
    verify: RegExp;
    /** The client's refusal class when this repository is served (absent: not a client row). */
    client?: RegExp;
    /** The client only meets the damage when it looks a target up (a bin). */
    clientNeedsTarget?: boolean;
    /** Also try `tufpip fetch` against it. */
    fetch?: boolean;
  }
  const repoCases: Record<string, RepoCase> = {
    'timestamp.json truncated': { damage: (r) => truncate(tsFile(r)), error: /timestamp\.json is not valid JSON/, verify: /refresh failed: SyntaxError.*\(reading metadata\/timestamp\.json\)/, client: /refused \(metadata\)/, fetch: true },
    'timestamp.json not JSON at all': { damage: (r) => fs.writeFileSync(tsFile(r), '<html>502 Bad Gateway</html>'), error: /timestamp\.json is not valid JSON/, verify: /refresh failed: SyntaxError/, client: /refused \(metadata\)/ },
    'timestamp.json with a version that is a string': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.version = String(j.signed.version))), error: /timestamp\.json is not valid timestamp metadata: version must be a number/, verify: /version must be a number/, client: /refused \(metadata\)/ },
    'timestamp.json with meta of the wrong type': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.meta = [])), error: /timestamp\.json is not valid timestamp metadata: missing snapshot\.json in meta/, verify: /missing snapshot\.json in meta/, client: /refused \(metadata\)/ },
    'timestamp.json changed after signing (version 1e300)': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.version = 1e300)), error: /timestamp\.json failed verification \(timestamp was signed by 0\/1 keys\)/, verify: /UnsignedMetadataError: timestamp was signed by 0\/1 keys/, client: /refused \(bad-signature\)/, fetch: true },
    'timestamp.json naming an unknown role (not covered by its signature)': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.meta['evil.json'] = { version: 1 })), error: /timestamp\.json names metadata other than snapshot\.json \(evil\.json\)/, verify: /timestamp\.json names metadata other than snapshot\.json: evil\.json/ },
    'timestamp.json of 20 MB (endless data)': {
      damage: (r) => {
        fs.rmSync(tsFile(r));
        fs.writeFileSync(tsFile(r), '{"signed": ');
        fs.truncateSync(tsFile(r), 20 * 1024 * 1024);
      },
      error: /timestamp\.json is not valid JSON/,
      verify: /refresh failed: .*Max length reached/,
      client: /refused \(endless-data\)/,
    },
    'snapshot truncated': { damage: (r) => truncate(snapFile(r)), error: /\d+\.snapshot\.json is not the snapshot timestamp\.json names \(Expected length \d+ but got \d+\)/, verify: /Expected length \d+ but got \d+/, client: /refused \(hash-mismatch\)/, fetch: true },
    'snapshot with meta of the wrong type': { damage: (r) => editJson(snapFile(r), (j) => (j.signed.meta = 'all of them')), error: /snapshot\.json is not the snapshot timestamp\.json names/, verify: /Unable to load snapshot metadata/, client: /refused \((hash-mismatch|endless-data)\)/ },
    'snapshot listing an unknown role, validly re-signed with the online key': {
      damage: async (r) => {
        await resign(r, snapFile(r), ['online'], (s) => (s.meta['evil.json'] = { version: 1 }));
        await renameSnapshotInTimestamp(r);
      },
      error: /snapshot\.json lists an unknown role "evil\.json"; refusing to build on it/,
      verify: /snapshot lists a role outside the role graph: evil/,
    },
    'snapshot naming a bin version as a string, validly re-signed': {
      damage: async (r) => {
        await resign(r, snapFile(r), ['online'], (s) => (s.meta['bin-0.json'] = { version: '1' }));
        await renameSnapshotInTimestamp(r);
      },
      error: /snapshot\.json: version of bin-0\.json must be a positive integer, got "1"/,
      verify: /version must be a number/,
      client: /refused \(metadata\)/,
    },
    'a bin truncated': { damage: (r) => truncate(alphaBinFile(r)), error: /\d+\.bin-\d\.json is not valid JSON/, verify: /role bin-\d: .*SyntaxError/, client: /refused \(metadata\)/, clientNeedsTarget: true },
    'a bin with targets of the wrong type': { damage: (r) => editJson(alphaBinFile(r), (j) => (j.signed.targets = 'x')), error: /\d+\.bin-\d\.json is not valid targets metadata: targets must be an object/, verify: /targets must be an object/, client: /refused \(metadata\)/, clientNeedsTarget: true },
    'a bin with a target injected after signing (would be re-signed by bump)': {
      damage: (r) =>
        editJson(alphaBinFile(r), (j) => {
          j.signed.targets['packages/alpha/alpha-6.6.6-py3-none-any.whl'] = { length: 3, hashes: { sha256: 'a'.repeat(64) } };
        }),
      error: /\d+\.bin-\d\.json failed verification \(bin-\d was signed by 0\/1 keys\): it was changed after signing/,
      verify: /bin-\d was signed by 0\/1 keys/,
      client: /refused \(bad-signature\)/,
      clientNeedsTarget: true,
      fetch: true,
    },
    'a bin with a target length of the wrong type, validly re-signed': {
      damage: async (r) => {
        await resign(r, alphaBinFile(r), ['online'], (s) => (s.targets['packages/alpha/alpha-1.0-py3-none-any.whl'].length = '12'));
      },
      error: /\d+\.bin-\d\.json is not valid targets metadata: .*length/,
      verify: /length/,
      client: /refused \(metadata\)/,
      clientNeedsTarget: true,
    },
    '1.root.json truncated': { damage: (r) => truncate(path.join(md(r), '1.root.json')), error: /1\.root\.json is not valid JSON/, verify: /trusted root .*1\.root\.json is not valid root metadata: SyntaxError/ },
    '1.root.json with roles of the wrong type': { damage: (r) => editJson(path.join(md(r), '1.root.json'), (j) => (j.signed.roles = [])), error: /1\.root\.json is not valid root metadata: missing top-level role/, verify: /trusted root .*1\.root\.json is not valid root metadata: .*missing top-level role/ },
    '1.root.json with an unknown role, validly re-signed by two root keys': {
      damage: async (r) => void (await resign(r, path.join(md(r), '1.root.json'), ['root-1', 'root-2'], (s) => (s.roles.evil = { keyids: [], threshold: 1 }))),
      error: /1\.root\.json names unknown top-level roles \(evil\)/,
      verify: /root names unknown top-level roles: evil/,
    },
    'a 2.root.json that is not JSON next to the real root': { damage: (r) => fs.writeFileSync(path.join(md(r), '2.root.json'), '{"signed": {"_type": "root", '), error: /2\.root\.json is not valid JSON/, verify: /refresh failed: SyntaxError.*\(reading metadata\/2\.root\.json\)/, client: /refused \(metadata\)/ },
    'config.json truncated': { damage: (r) => truncate(path.join(r, 'config.json')), error: /config\.json is not valid JSON/, verify: /config\.json is not valid JSON/ },
    'config.json with bins as a string': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.bins = '4')), error: /config\.json: bins must be a power of two from 2 to 16384, got "4"/, verify: /bins must be a power of two/ },
    'config.json with an expiry that is not a number': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.expires = { timestamp: 'one day' })), error: /config\.json: expires\.timestamp must be a positive number of days, got "one day"/, verify: /expires\.timestamp/ },
    'config.json with an unknown expiry role': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.expires = { evil: 3 })), error: /config\.json: expires\.evil must be one of/, verify: /expires\.evil/ },
    'config.json with an online signer that is not a string': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.onlineSigner = 42)), error: /config\.json: onlineSigner must be a signer URI .*got 42/, verify: /onlineSigner/ },
    'config.json with no url': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => delete j.url), error: /config\.json: url must be an http\(s\) URL, got undefined/, verify: /url must be/ },
    'config.json that is an array': { damage: (r) => fs.writeFileSync(path.join(r, 'config.json'), '[1, 2]'), error: /config\.json is not a JSON object/, verify: /not a JSON object/ },
  };

  for (const [name, c] of Object.entries(repoCases)) {
    it(`repository: ${name} -> add, bump, status and verify refuse it, nothing changes`, async () => {
      const repo = copyGold();
      await c.damage(repo);
      const before = snap(repo);
      for (const args of [['add', repo, fresh], ['bump', repo, '--force'], ['status', repo]]) {
        const r = await tufpipRepo(args);
        expectOneLineError(r, 'tufpip-repo', c.error, `${name}: tufpip-repo ${args[0]}`);
        expect(diffTrees(before, snap(repo)), `${name}: tufpip-repo ${args[0]} changed nothing`).to.deep.equal([]);
      }
      const v = await tufpipRepo(['verify', repo]);
      expectOneLineError(v, 'tufpip-repo', c.verify, `${name}: tufpip-repo verify`, { multiLine: true, stdoutOk: true });
      expect(v.stderr.split('\n')[0]).to.match(/^tufpip-repo: error: (verify found \d+ problems?:|.*config\.json|trusted root)/);
      expect(diffTrees(before, snap(repo)), `${name}: verify changed nothing`).to.deep.equal([]);
    });
  }

  // --- 2. the same damage served to the client -------------------------------------------------

  describe('served to the client (tufpip tuf refresh / download, tufpip fetch)', () => {
    const servers: RunningServer[] = [];
    after(async () => {
      for (const s of servers) await s.close();
    });

    for (const [name, c] of Object.entries(repoCases).filter(([, x]) => x.client)) {
      it(`client: ${name} -> refused as ${c.client!.source.replace(/\\/g, '')}, nothing unverified written`, async () => {
        const repo = copyGold();
        await c.damage(repo);
        const server = await serveRepo(repo, { host: '127.0.0.1', port: 0 });
        servers.push(server);
        const work = tmpDir('tufpip-faults-client-');
        const mdDir = path.join(work, 'metadata');
        const targetDir = path.join(work, 'targets');
        expectOk(await tufpip(['tuf', 'init', path.join(md(gold), '1.root.json'), '--metadata-dir', mdDir]), 'tuf init');
        const common = ['--metadata-dir', mdDir, '--metadata-url', `${server.url}metadata/`];
        const r = c.clientNeedsTarget
          ? await tufpip(['tuf', 'download', ...common, '--target-name', 'packages/alpha/alpha-1.0-py3-none-any.whl', '--target-base-url', server.url, '--target-dir', targetDir])
          : await tufpip(['tuf', 'refresh', ...common]);
        expectOneLineError(r, 'tufpip', c.client!, `${name}: tufpip tuf ${c.clientNeedsTarget ? 'download' : 'refresh'}`);
        // Nothing in the target directory; in the metadata directory only verified files: each
        // one is byte for byte the intact repository's own or one the test validly re-signed
        // (tuf-js keeps a timestamp that verifies, TUF spec 5.4.5).
        expect(fs.existsSync(targetDir) ? fs.readdirSync(targetDir) : [], 'nothing in the target directory').to.deep.equal([]);
        const verified = [...fs.readdirSync(md(gold)).map((f) => fs.readFileSync(path.join(md(gold), f))), ...validlySigned];
        for (const f of fs.readdirSync(mdDir)) {
          const bytes = fs.readFileSync(path.join(mdDir, f));
          const same = verified.some((b) => b.equals(bytes));
          expect(same, `${name}: ${f} in the metadata directory is not a verified file`).to.equal(true);
        }
        if (c.fetch) {
          const data = path.join(work, 'data');
          expectOk(await tufpip(['trust', 'add', server.url, '--root', path.join(md(gold), '1.root.json'), '--data-dir', data]), 'trust add');
          const dest = path.join(work, 'dest');
          const f = await tufpip(['fetch', 'alpha', '-d', dest, '--index', server.url, '--data-dir', data], { timeoutMs: 120_000 });
          expect(f.code, `${name}: fetch\n${f.stderr}`).to.equal(1);
          expect(f.stderr, `${name}: fetch names the class`).to.match(c.client!);
          expect(f.stderr).to.not.match(/\n\s+at /);
          expect(fs.existsSync(dest), `${name}: fetch created nothing`).to.equal(false);
          refusedCount++;
        }
      });
    }
  });

  // --- 3. huge files, non-UTF-8 names, symlinks, '..', corrupted client state -----------------

  describe('huge files, non-UTF-8 names, symbolic links, paths with ".."', () => {
    let repo: string;
    before(() => {
      repo = copyGold();
    });

    it('a 100 MB sparse file that is not a wheel: refused without reading it into memory', async () => {
      const big = path.join(inputs, 'huge', 'huge-1.0-py3-none-any.whl');
      fs.mkdirSync(path.dirname(big), { recursive: true });
      fs.writeFileSync(big, 'PK');
      fs.truncateSync(big, 100 * 1024 * 1024);
      const before = snap(repo);
      // Peak resident memory (VmHWM) of the child, read from /proc while it runs.
      const child = spawn(process.execPath, [REPO_BIN, 'add', repo, big], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let peakKiB = 0;
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const poll = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
        } catch {
          // exited
        }
      }, 5);
      const code = await new Promise<number | null>((r) => child.on('close', r));
      clearInterval(poll);
      expectOneLineError({ code, signal: null, stdout, stderr }, 'tufpip-repo', /huge-1\.0-py3-none-any\.whl is not a valid wheel/, 'add of a 100 MB non-wheel');
      expect(peakKiB, 'the memory high-water mark was sampled').to.be.greaterThan(0);
      expect(peakKiB * 1024, `peak resident memory ${Math.round(peakKiB / 1024)} MiB stays below the file's 100 MiB`).to.be.below(100 * 1024 * 1024);
      expect(diffTrees(before, snap(repo))).to.deep.equal([]);
      expect(fs.existsSync(path.join(repo, 'staging')), 'no staging left').to.equal(false);
    });

    it('a wheel whose file name is not UTF-8: add and sync refuse it by name', async () => {
      const dir = path.join(inputs, 'nonutf8');
      fs.mkdirSync(dir, { recursive: true });
      const rawName = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from('-1.0-py3-none-any.whl')]);
      fs.writeFileSync(Buffer.concat([Buffer.from(dir + '/'), rawName]), fs.readFileSync(fresh));
      await writeWheel(dir, { name: 'goodneighbour', version: '1.0' });
      const before = snap(repo);
      // The raw bytes reach the CLI through the shell (spawn arguments are UTF-8 strings).
      const viaShell = (args: string): RunResult => {
        try {
          const stdout = execFileSync('sh', ['-c', `exec "${process.execPath}" "${REPO_BIN}" ${args}`], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
          return { code: 0, signal: null, stdout, stderr: '' };
        } catch (err) {
          const e = err as { status: number; stdout: Buffer; stderr: Buffer };
          return { code: e.status, signal: null, stdout: e.stdout.toString(), stderr: e.stderr.toString() };
        }
      };
      const add = viaShell(`add "${repo}" "${dir}/bad$(printf '\\377\\376')-1.0-py3-none-any.whl"`);
      expectOneLineError(add, 'tufpip-repo', /the file name is not valid UTF-8/, 'add of a non-UTF-8 name');
      const sync = await tufpipRepo(['sync', repo, dir]);
      expectOneLineError(sync, 'tufpip-repo', /a file name under .* is not valid UTF-8 \(bytes 626164fffe2d312e302d7079332d6e6f6e652d616e792e77686c\)/, 'sync of a folder with a non-UTF-8 name');
      expect(diffTrees(before, snap(repo))).to.deep.equal([]);
    });

    it('a symbolic link pointing outside the repository given to add: refused', async () => {
      const outside = tmpDir('tufpip-faults-outside-');
      const target = await writeWheel(outside, { name: 'linked', version: '1.0' });
      const link = path.join(inputs, 'links', 'linked-1.0-py3-none-any.whl');
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(target, link);
      const before = snap(repo);
      expectOneLineError(await tufpipRepo(['add', repo, link]), 'tufpip-repo', /is a symbolic link: give the file itself/, 'add of a symlink');
      expect(diffTrees(before, snap(repo))).to.deep.equal([]);
    });

    it('symbolic links under site/ that point outside it: verify reports them, publishing refuses, serve does not follow them', async () => {
      const r = copyGold();
      fs.symlinkSync('../keys', path.join(r, 'site', 'k'));
      fs.symlinkSync('/etc/passwd', path.join(r, 'site', 'packages', 'alpha', 'passwd'));
      // A link that stays inside site/ is fine (and served).
      fs.symlinkSync('alpha-1.0-py3-none-any.whl', path.join(r, 'site', 'packages', 'alpha', 'same.whl'));
      const before = snap(r);
      const v = await tufpipRepo(['verify', r]);
      expectOneLineError(v, 'tufpip-repo', /\[symlink\] symbolic link under site\/ points outside it: .*site\/k -> \.\.\/keys/, 'verify with links out of site/', { multiLine: true, stdoutOk: true });
      expect(v.stderr).to.match(/passwd -> \/etc\/passwd/);
      expect(v.stderr, 'the link inside site/ is not a problem').to.not.match(/same\.whl/);
      expect(v.stderr).to.match(/verify found 2 problems/);
      const add = await tufpipRepo(['add', r, fresh]);
      expectOneLineError(add, 'tufpip-repo', /refusing to publish: symbolic link under the served tree points outside it: .*site\/k -> \.\.\/keys/, 'add with a link out of site/');
      expect(diffTrees(before, snap(r)), 'nothing changed').to.deep.equal([]);
      const server = await serveRepo(r, { host: '127.0.0.1', port: 0 });
      try {
        for (const p of ['k/online.pem', 'k/', 'packages/alpha/passwd']) {
          const res = await fetch(server.url + p);
          const body = await res.text();
          expect(res.status, `GET /${p}`).to.equal(404);
          expect(body).to.not.match(/PRIVATE KEY|root:/);
          refusedCount++;
        }
        const ok = await fetch(server.url + 'packages/alpha/same.whl');
        expect(ok.status, 'a link inside site/ is served').to.equal(200);
        await ok.arrayBuffer();
      } finally {
        await server.close();
      }
    });

    it('paths with ".." and other weird names: refused, nothing written outside', async () => {
      const server = await serveRepo(gold, { host: '127.0.0.1', port: 0 });
      try {
        const work = tmpDir('tufpip-faults-dots-');
        const mdDir = path.join(work, 'a', 'metadata');
        const targetDir = path.join(work, 'a', 'targets');
        expectOk(await tufpip(['tuf', 'init', path.join(md(gold), '1.root.json'), '--metadata-dir', mdDir]), 'tuf init');
        const common = ['--metadata-dir', mdDir, '--metadata-url', `${server.url}metadata/`, '--target-base-url', server.url, '--target-dir', targetDir];
        const before = snapshotTree(work);
        for (const [name, error] of [
          ['../../x', /refused \(not-signed\)/],
          ['..', /--target-name "\.\." is not a file name inside the target directory/],
          ['.', /--target-name "\." is not a file name inside the target directory/],
          ['packages/alpha/../../../../etc/passwd', /refused \(not-signed\)/],
        ] as [string, RegExp][]) {
          const r = await tufpip(['tuf', 'download', ...common, '--target-name', name]);
          expectOneLineError(r, 'tufpip', error, `tuf download --target-name ${name}`, { multiLine: true });
          // Only the verified top-level metadata may have been added (the refresh before the lookup).
          const added = diffTrees(before, snapshotTree(work)).filter((l) => !/^[+-] [fd] a\/metadata(\/(timestamp|snapshot|targets)\.json)?( |$)/.test(l) && l !== '+ d a/targets');
          expect(added, `tuf download --target-name ${name}: nothing written elsewhere`).to.deep.equal([]);
          expect(fs.existsSync(targetDir) ? fs.readdirSync(targetDir) : []).to.deep.equal([]);
        }
        // trust add with names that are paths.
        const data = path.join(work, 'data');
        for (const name of ['../evil', 'a/b', '..', '.hidden']) {
          const r = await tufpip(['trust', 'add', server.url, '--root', path.join(md(gold), '1.root.json'), '--name', name, '--data-dir', data]);
          expectOneLineError(r, 'tufpip', /index name must be 1-100 characters/, `trust add --name ${name}`, { code: 2 });
        }
        expect(fs.existsSync(data) ? listTree(data) : [], 'trust add wrote nothing').to.deep.equal([]);
        expectOneLineError(await tufpip(['trust', 'remove', '../evil', '--data-dir', data]), 'tufpip', /no trusted index named \.\.\/evil/, 'trust remove ../evil');
        // fetch into a destination that is a file: refused before pip runs.
        expectOk(await tufpip(['trust', 'add', server.url, '--root', path.join(md(gold), '1.root.json'), '--data-dir', data]), 'trust add');
        const file = path.join(work, 'a-file');
        fs.writeFileSync(file, 'mine\n');
        const f1 = await tufpip(['fetch', 'alpha', '-d', file, '--data-dir', data]);
        expectOneLineError(f1, 'tufpip', /--dest .*a-file exists and is not a folder/, 'fetch -d FILE', { code: 2 });
        expect(fs.readFileSync(file, 'utf8')).to.equal('mine\n');
        // tufpip-repo: remove of a "file" that is a path.
        const repo = copyGold();
        const before2 = snap(repo);
        expectOneLineError(await tufpipRepo(['remove', repo, 'alpha', '--file', '../../config.json']), 'tufpip-repo', /no file of alpha matches --file \.\.\/\.\.\/config\.json/, 'remove --file ../../config.json');
        expectOneLineError(await tufpipRepo(['remove', repo, '../alpha']), 'tufpip-repo', /is not on this index/, 'remove ../alpha');
        expect(diffTrees(before2, snap(repo))).to.deep.equal([]);
      } finally {
        await server.close();
      }
    });

    it("a corrupted client trust store (index.json truncated): trust list and fetch fail clearly, nothing changes", async () => {
      const server = await serveRepo(gold, { host: '127.0.0.1', port: 0 });
      try {
        const data = path.join(tmpDir('tufpip-faults-store-'), 'data');
        expectOk(await tufpip(['trust', 'add', server.url, '--root', path.join(md(gold), '1.root.json'), '--data-dir', data]), 'trust add');
        const indexJson = listTree(data).find((p) => p.endsWith('index.json'))!;
        truncate(indexJson);
        const before = snapshotTree(data);
        expectOneLineError(await tufpip(['trust', 'list', '--data-dir', data]), 'tufpip', /cannot read .*index\.json/, 'trust list');
        const dest = path.join(path.dirname(data), 'dest');
        const f = await tufpip(['fetch', 'alpha', '-d', dest, '--data-dir', data]);
        expectOneLineError(f, 'tufpip', /cannot read .*index\.json/, 'fetch with a corrupted store');
        expect(fs.existsSync(dest)).to.equal(false);
        expect(diffTrees(before, snapshotTree(data))).to.deep.equal([]);
      } finally {
        await server.close();
      }
      console.log(`      repo faults: ${refusedCount} bad inputs refused (both CLIs)`);
    });
  });
});
