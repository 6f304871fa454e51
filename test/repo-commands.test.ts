// The operator's commands (issue 2 "Commands"), each through the real CLI unless a fixed clock is
// needed: `bump` (due rule in both directions, --force, offline-expiry warning with exit 3,
// waiting for the lock), `remove` (--file, --version, a whole project), `status --json`,
// `gc --keep 0s`, `sync`, and `keygen` (modes, key IDs per the spec, cross-checked against a
// securesystemslib test vector, encrypted keys).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { preload, REPO_BIN, startCommand, tufpipRepo } from './helpers/cli.js';
import { untilClock } from './helpers/wait.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { readPublished } from './helpers/tuf-client.js';
import { writeDistFolder, writeSdist, writeWheel } from './helpers/wheels.js';
import { bump } from '../repo-tools/commands/bump.js';
import { initRepo } from '../repo-tools/commands/init.js';
import { keyIdOf } from '../metadata/keys.js';

const require = createRequire(import.meta.url);
const { canonicalize } = require('@tufjs/canonical-json') as { canonicalize: (v: unknown) => string };

const DAY = 86400_000;
const HOUR = 3600_000;

const initCli = (dir: string, ...extra: string[]) => makeRepo({ dir, bins: 4, initArgs: extra });

const verifyOk = async (dir: string) => {
  const r = await tufpipRepo(['verify', dir]);
  expect(r.code, `verify:\n${r.stdout}\n${r.stderr}`).to.equal(0);
};

const tsBytes = (dir: string) => fs.readFileSync(path.join(dir, 'site', 'metadata', 'timestamp.json'));
const signedOf = (dir: string, file: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'site', 'metadata', file), 'utf8')) as { signed: { version: number; expires: string } }).signed;

interface BumpJson {
  resigned: string[];
  commit: { noop: boolean; timestampVersion: number; snapshotVersion: number };
  warnings: { role: string; daysLeft: number }[];
}

describe('repo: tufpip-repo commands', function () {
  this.timeout(120_000);

  describe('bump', () => {
    it('does nothing when nothing is due: exit 0, "nothing due", timestamp.json unchanged', async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir);
      const before = tsBytes(dir);
      const journal = fs.readFileSync(path.join(dir, 'journal'));
      const r = expectOk(await tufpipRepo(['bump', dir]));
      expect(r.stdout.trim()).to.equal('nothing due');
      expect(tsBytes(dir).equals(before)).to.equal(true);
      expect(fs.readFileSync(path.join(dir, 'journal')).equals(journal)).to.equal(true);
    });

    it('re-signs exactly what has less than half of its period left (fixed clock, both sides of the boundary)', async () => {
      // In-process with `now` so the boundary is exact: timestamp period 1 d (half: 12 h),
      // snapshot / bins / recently-claimed 7 d (half: 3.5 d). Init at T (whole second).
      const dir = path.join(tmpDir(), 'repo');
      const T = Math.floor(Date.now() / 1000) * 1000;
      await initRepo({ dir, url: 'http://127.0.0.1:8080/', bins: 4, now: new Date(T) });
      const at = async (ms: number) => bump(dir, { now: new Date(T + ms) });
      const sorted = (xs: string[]) => [...xs].sort();

      let r = await at(12 * HOUR); // exactly half left: not "less than half"
      expect(r.resigned).to.deep.equal([]);
      expect(r.commit.noop).to.equal(true);
      expect(signedOf(dir, 'timestamp.json').version).to.equal(1);

      r = await at(12 * HOUR + 1000); // one second past: the timestamp only
      expect(r.resigned).to.deep.equal(['timestamp']);
      expect(r.commit).to.include({ noop: false, timestampVersion: 2, snapshotVersion: 1 });
      expect(signedOf(dir, 'timestamp.json').expires).to.equal(new Date(T + 12 * HOUR + 1000 + DAY).toISOString().replace('.000Z', 'Z'));

      r = await at(12 * HOUR + 2000); // just re-signed: nothing
      expect(r.resigned).to.deep.equal([]);

      r = await at(3.5 * DAY); // 7-day roles at exactly half; the timestamp is due (expired)
      expect(r.resigned).to.deep.equal(['timestamp']);
      expect(r.commit.snapshotVersion).to.equal(1);

      r = await at(3.5 * DAY + 1000); // every online role now
      expect(sorted(r.resigned)).to.deep.equal(sorted(['bin-0', 'bin-1', 'bin-2', 'bin-3', 'recently-claimed', 'snapshot', 'timestamp']));
      const pub = readPublished(dir);
      expect(pub.snapshotVersion).to.equal(2);
      for (const role of ['bin-0', 'bin-1', 'bin-2', 'bin-3', 'recently-claimed']) expect(pub.roles.get(role), role).to.equal(2);
      for (const role of ['targets', 'bins', 'claimed']) expect(pub.roles.get(role), `${role} is offline: never re-signed by bump`).to.equal(1);
      expect(fs.existsSync(path.join(dir, 'site', 'metadata', '2.root.json'))).to.equal(false);
      expect(r.warnings).to.deep.equal([]);
      await verifyOk(dir);
    });

    it('re-signs the timestamp once half of a short period has passed (real clock, --expires timestamp=0.0001)', async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir, '--expires', 'timestamp=0.0001'); // 8.64 s
      const ts = signedOf(dir, 'timestamp.json');
      const half = Date.parse(ts.expires) - 0.0001 * DAY / 2;
      await untilClock(half + 300);
      const r = JSON.parse(expectOk(await tufpipRepo(['bump', dir, '--json'])).stdout) as BumpJson;
      expect(r.resigned).to.deep.equal(['timestamp']);
      expect(r.commit).to.include({ noop: false, timestampVersion: 2, snapshotVersion: 1 });
    });

    it('--force re-signs every online role and no offline one', async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir);
      const r = JSON.parse(expectOk(await tufpipRepo(['bump', dir, '--force', '--json'])).stdout) as BumpJson;
      expect([...r.resigned].sort()).to.deep.equal(['bin-0', 'bin-1', 'bin-2', 'bin-3', 'recently-claimed', 'snapshot', 'timestamp']);
      const pub = readPublished(dir);
      expect(pub.timestampVersion).to.equal(2);
      expect(pub.snapshotVersion).to.equal(2);
      for (const [role, v] of pub.roles) expect(v, role).to.equal(['targets', 'bins', 'claimed'].includes(role) ? 1 : 2);
      const human = expectOk(await tufpipRepo(['bump', dir, '--force']));
      expect(human.stdout.trim()).to.equal('re-signed 4 bins, recently-claimed, snapshot, timestamp; timestamp 3');
      await verifyOk(dir);
    });

    it('does the online work, then exits 3 naming the offline roles that expire within 30 days', async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir, '--expires', 'root=20', '--expires', 'claimed=29.9', '--expires', 'bins=31');
      const before = tsBytes(dir);
      let r = await tufpipRepo(['bump', dir]);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stdout.trim()).to.equal('nothing due');
      expect(tsBytes(dir).equals(before), 'nothing was due').to.equal(true);
      const line = r.stderr.trim();
      expect(line.split('\n')).to.have.length(1);
      expect(line).to.match(/^tufpip-repo: error: offline roles need re-signing with offline keys: /);
      expect(line).to.match(/root expires in 19\.\d days/).and.match(/claimed expires in 29\.\d days/);
      expect(line).to.not.match(/\bbins expires/);
      expect(line).to.not.match(/\btargets expires/);

      r = await tufpipRepo(['bump', dir, '--force', '--json']);
      expect(r.code, r.stderr).to.equal(3);
      const out = JSON.parse(r.stdout) as BumpJson;
      expect(out.commit.timestampVersion).to.equal(2);
      expect(out.warnings.map((w) => w.role).sort()).to.deep.equal(['claimed', 'root']);
      expect(readPublished(dir).timestampVersion, 'the online work was done').to.equal(2);
      expect(r.stderr).to.match(/root expires in 19\.\d days/);

      const st = JSON.parse(expectOk(await tufpipRepo(['status', dir, '--json'])).stdout) as { warnings: string[] };
      expect(st.warnings.join('\n')).to.match(/root: offline role expires in 19\.\d days/);
      await verifyOk(dir);
    });

    it('waits for the lock while another process holds it, then succeeds', async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir);
      const before = tsBytes(dir);
      const release = await lockfile.lock(dir, { lockfilePath: path.join(dir, 'lock'), realpath: false });
      let released = false;
      try {
        const child = startCommand(process.execPath, ['--import', preload('lock-probe'), REPO_BIN, 'bump', dir, '--force', '--json']);
        // The event: bump tried to take the lock and found it held (test/helpers/lock-probe.ts).
        await child.line(`lock-busy ${path.resolve(dir, 'lock')}`);
        expect(child.child.exitCode, 'bump ended while the lock was held').to.equal(null);
        expect(tsBytes(dir).equals(before), 'nothing published while the lock was held').to.equal(true);
        await release();
        released = true;
        const r = await child.done;
        expect(r.code, r.stderr).to.equal(0);
        expect((JSON.parse(r.stdout) as BumpJson).commit.timestampVersion).to.equal(2);
      } finally {
        if (!released) await release();
      }
      await verifyOk(dir);
    });
  });

  describe('remove', () => {
    let dir: string;
    let dists: string;
    const plain = (p: string) => path.join(dir, 'site', ...p.split('/'));
    const page = (p: string) => fs.readFileSync(plain(`simple/${p}/index.html`), 'utf8');

    before(async () => {
      dir = path.join(tmpDir(), 'repo');
      dists = path.join(tmpDir(), 'dists');
      await initCli(dir);
      expectOk(
        await tufpipRepo([
          'add', dir,
          await writeWheel(dists, { name: 'alpha', version: '1.0' }),
          writeSdist(dists, 'alpha', '1.0'),
          await writeWheel(dists, { name: 'alpha', version: '2.0' }),
          await writeWheel(dists, { name: 'alpha', version: '3.0' }),
          await writeWheel(dists, { name: 'beta', version: '1.0' }),
          writeSdist(dists, 'beta', '1.1'),
          await writeWheel(dists, { name: 'gamma', version: '1.0' }),
        ]),
      );
    });

    it('--file withdraws one file: gone from the metadata, the page and the plain name', async () => {
      const before = readPublished(dir);
      const sha = before.targets.get('packages/alpha/alpha-2.0-py3-none-any.whl')!.sha256;
      const r = expectOk(await tufpipRepo(['remove', dir, 'alpha', '--file', 'alpha-2.0-py3-none-any.whl']));
      expect(r.stdout).to.include('removed alpha-2.0-py3-none-any.whl');
      const after = readPublished(dir);
      expect(after.timestampVersion).to.equal(before.timestampVersion + 1);
      expect(after.targets.has('packages/alpha/alpha-2.0-py3-none-any.whl')).to.equal(false);
      expect([...after.targets.keys()].filter((p) => p.startsWith('packages/')).length).to.equal(6);
      expect(page('alpha')).to.not.include('alpha-2.0');
      expect(page('alpha')).to.include('alpha-1.0-py3-none-any.whl').and.include('alpha-3.0');
      expect(fs.existsSync(plain('packages/alpha/alpha-2.0-py3-none-any.whl'))).to.equal(false);
      // The hash-named copy stays for clients mid-update until gc.
      expect(fs.existsSync(plain(`packages/alpha/${sha}.alpha-2.0-py3-none-any.whl`))).to.equal(true);
      expect(fs.readFileSync(plain('simple/index.html'), 'utf8')).to.include('<a href="alpha/">');
      await verifyOk(dir);
    });

    it('--version withdraws every file of that version (wheel and sdist)', async () => {
      const r = expectOk(await tufpipRepo(['remove', dir, 'Alpha', '--version', '1.0', '--json']));
      const out = JSON.parse(r.stdout) as { project: string; removed: string[]; projectRemoved: boolean };
      expect(out.project).to.equal('alpha');
      expect(out.removed.sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'alpha-1.0.tar.gz']);
      expect(out.projectRemoved).to.equal(false);
      const pub = readPublished(dir);
      expect([...pub.targets.keys()].filter((p) => p.startsWith('packages/alpha/'))).to.deep.equal(['packages/alpha/alpha-3.0-py3-none-any.whl']);
      expect(page('alpha')).to.not.include('alpha-1.0');
      await verifyOk(dir);
    });

    it('a whole project disappears from /simple/ and from the metadata', async () => {
      const r = expectOk(await tufpipRepo(['remove', dir, 'beta']));
      expect(r.stdout).to.include('project beta has no files left and was removed from the index');
      const pub = readPublished(dir);
      expect([...pub.targets.keys()].filter((p) => p.includes('beta'))).to.deep.equal([]);
      const list = fs.readFileSync(plain('simple/index.html'), 'utf8');
      expect(list).to.not.include('beta');
      expect(list).to.include('<a href="alpha/">').and.include('<a href="gamma/">');
      expect(fs.existsSync(plain('simple/beta/index.html'))).to.equal(false);
      expect(fs.existsSync(plain('packages/beta/beta-1.0-py3-none-any.whl'))).to.equal(false);
      // The list a TUF client verifies is the same page plain pip gets.
      const listTarget = pub.targets.get('simple/index.html')!;
      expect(createHash('sha256').update(list).digest('hex')).to.equal(listTarget.sha256);
      await verifyOk(dir);
    });
  });

  describe('status --json', () => {
    it('reports version, expiry, keys, threshold, signatures and size against the clients\' limits for every role', async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir, '--root-keys', '2', '--root-threshold', '2');
      expectOk(await tufpipRepo(['add', dir, await writeWheel(path.join(tmpDir(), 'd'), { name: 'alpha', version: '1.0' })]));
      const st = JSON.parse(expectOk(await tufpipRepo(['status', dir, '--json'])).stdout) as {
        bins: number;
        url: string;
        roles: { role: string; version: number; expires: string; daysLeft: number; online: boolean; keyids: string[]; threshold: number; validSignatures: number; bytes: number; limit?: number; warnings: string[] }[];
        binsSummary: { count: number; targets: number; largestBytes: number; earliestExpiry: string };
        warnings: string[];
      };
      expect(st.bins).to.equal(4);
      expect(st.url).to.equal('http://127.0.0.1:8080/');
      const by = new Map(st.roles.map((r) => [r.role, r]));
      expect([...by.keys()]).to.deep.equal(['root', 'timestamp', 'snapshot', 'targets', 'claimed', 'recently-claimed', 'bins']);
      const pub = readPublished(dir);
      const size = (f: string) => fs.statSync(path.join(dir, 'site', 'metadata', f)).size;
      const expectRole = (role: string, version: number, threshold: number, sigs: number, keys: number, online: boolean, file: string, limit: number, days: number) => {
        const r = by.get(role)!;
        expect(r, role).to.include({ version, threshold, validSignatures: sigs, online, bytes: size(file), limit });
        expect(r.keyids, role).to.have.length(keys);
        for (const k of r.keyids) expect(k).to.match(/^[0-9a-f]{8}$/);
        expect(r.daysLeft, role).to.be.within(days - 0.2, days);
        expect(r.expires).to.equal(signedOf(dir, file).expires);
        expect(r.warnings, role).to.deep.equal([]);
      };
      expectRole('root', 1, 2, 2, 2, false, '1.root.json', 512000, 365);
      expectRole('timestamp', 2, 1, 1, 1, true, 'timestamp.json', 16384, 1);
      expectRole('snapshot', 2, 1, 1, 1, true, '2.snapshot.json', 2_000_000, 7);
      expectRole('targets', 1, 1, 1, 1, false, '1.targets.json', 5_000_000, 365);
      expectRole('claimed', 1, 1, 1, 1, false, '1.claimed.json', 5_000_000, 365);
      expectRole('recently-claimed', 1, 1, 1, 1, true, '1.recently-claimed.json', 5_000_000, 7);
      expectRole('bins', 1, 1, 1, 1, false, '1.bins.json', 5_000_000, 365);
      expect(st.binsSummary.count).to.equal(4);
      expect(st.binsSummary.targets).to.equal(pub.targets.size);
      expect(st.binsSummary.targets).to.equal(3); // the wheel, its page, the project list
      const binSizes = [...pub.roles].filter(([r]) => r.startsWith('bin-')).map(([r, v]) => size(`${v}.${r}.json`));
      expect(st.binsSummary.largestBytes).to.equal(Math.max(...binSizes));
      expect(st.warnings).to.deep.equal([]);
      // The human table says the same.
      const human = expectOk(await tufpipRepo(['status', dir])).stdout;
      expect(human).to.match(/^root\s+1\s+\S+\s+36\d\.\d\s+2\/2\s/m);
    });
  });

  describe('gc', () => {
    it('--keep 0s removes unreferenced old versions and withdrawn files, never a root; verify still passes', async () => {
      const dir = path.join(tmpDir(), 'repo');
      const dists = path.join(tmpDir(), 'dists');
      await initCli(dir);
      expectOk(await tufpipRepo(['add', dir, await writeWheel(dists, { name: 'alpha', version: '1.0' }), await writeWheel(dists, { name: 'beta', version: '1.0' })]));
      expectOk(await tufpipRepo(['add', dir, await writeWheel(dists, { name: 'alpha', version: '1.1' })]));
      const removedSha = readPublished(dir).targets.get('packages/beta/beta-1.0-py3-none-any.whl')!.sha256;
      expectOk(await tufpipRepo(['remove', dir, 'beta']));
      expectOk(await tufpipRepo(['bump', dir, '--force']));
      const md = path.join(dir, 'site', 'metadata');
      const list = () => fs.readdirSync(md).sort();

      // Default retention (7 days) keeps everything; --dry-run removes nothing.
      expect(JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--json'])).stdout).removed).to.deep.equal([]);
      const beforeFiles = list();
      const dry = JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--keep', '0s', '--dry-run', '--json'])).stdout) as { removed: string[] };
      expect(dry.removed.length).to.be.greaterThan(10);
      expect(list()).to.deep.equal(beforeFiles);

      const r = JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--keep', '0s', '--json'])).stdout) as { removed: string[]; bytesFreed: number };
      expect(r.removed.sort()).to.deep.equal(dry.removed.sort());
      expect(r.bytesFreed).to.be.greaterThan(0);
      const pub = readPublished(dir);
      const referenced = new Set(['timestamp.json', `${pub.snapshotVersion}.snapshot.json`, ...[...pub.roles].map(([role, v]) => `${v}.${role}.json`)]);
      for (const f of list()) expect(referenced.has(f) || /^\d+\.root\.json$/.test(f), `${f} survived gc`).to.equal(true);
      for (const f of referenced) expect(list(), f).to.include(f);
      expect(list(), 'root versions are never removed (root is not in the snapshot)').to.include('1.root.json');
      expect(r.removed).to.include('metadata/1.snapshot.json');
      expect(r.removed).to.include(`packages/beta/${removedSha}.beta-1.0-py3-none-any.whl`);
      expect(r.removed.some((f) => /root/.test(f))).to.equal(false);
      // Live files stay, by both names.
      for (const [p, t] of pub.targets) {
        const i = p.lastIndexOf('/');
        expect(fs.existsSync(path.join(dir, 'site', `${p.slice(0, i)}/${t.sha256}.${p.slice(i + 1)}`)), p).to.equal(true);
        expect(fs.existsSync(path.join(dir, 'site', p)), p).to.equal(true);
      }
      await verifyOk(dir);
      // A second gc finds nothing more.
      expect(JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--keep', '0s', '--json'])).stdout).removed).to.deep.equal([]);
    });

    it("removes the temporary files of killed writers outside site/, not those of live ones", async () => {
      const dir = path.join(tmpDir(), 'repo');
      await initCli(dir);
      // A dead writer: a pid above Linux's PID_MAX_LIMIT (2^22), which no process can have.
      const deadTmp = `.expiry-cache.json.${2 ** 22 + 1}.d8c24ef7.tmp`;
      const liveTmp = `.journal.${process.pid}.0a1b2c3d.tmp`;
      fs.writeFileSync(path.join(dir, deadTmp), '{"roles":');
      fs.writeFileSync(path.join(dir, liveTmp), 'x');
      const r = JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--json'])).stdout) as { removed: string[] };
      expect(r.removed).to.deep.equal([deadTmp]);
      expect(fs.existsSync(path.join(dir, deadTmp))).to.equal(false);
      expect(fs.existsSync(path.join(dir, liveTmp)), 'a live writer keeps its temporary file').to.equal(true);
      fs.rmSync(path.join(dir, liveTmp));
      await verifyOk(dir);
    });
  });

  describe('sync', () => {
    it('publishes every distribution under a folder in one transaction and skips other files', async () => {
      const dir = path.join(tmpDir(), 'repo');
      const folder = path.join(tmpDir(), 'pypiserver');
      await initCli(dir);
      const { dists, others } = await writeDistFolder(folder);
      const before = readPublished(dir).timestampVersion;
      const r = JSON.parse(expectOk(await tufpipRepo(['sync', dir, folder, '--json'])).stdout) as { files: { targetPath: string; status: string }[]; skipped: string[]; commit: { timestampVersion: number } };
      expect(r.files.map((f) => f.status)).to.deep.equal(['added', 'added', 'added', 'added']);
      expect(r.skipped.sort()).to.deep.equal(others.sort());
      expect(r.commit.timestampVersion, 'one transaction').to.equal(before + 1);
      const pub = readPublished(dir);
      for (const d of dists) {
        const base = path.basename(d);
        const project = base.split('-')[0];
        expect(pub.targets.get(`packages/${project}/${base}`)?.sha256, base).to.equal(createHash('sha256').update(fs.readFileSync(d)).digest('hex'));
      }
      const human = expectOk(await tufpipRepo(['sync', dir, folder]));
      expect(human.stdout).to.include('0 added, 4 unchanged, 3 other files skipped').and.include('nothing to publish');
      await verifyOk(dir);
    });

    it('refuses the whole folder when one distribution in it is bad', async () => {
      const dir = path.join(tmpDir(), 'repo');
      const folder = path.join(tmpDir(), 'mixed');
      await initCli(dir);
      await writeWheel(folder, { name: 'good', version: '1.0' });
      fs.writeFileSync(path.join(folder, 'bad-1.0.tar.gz'), 'not gzip');
      const before = tsBytes(dir);
      const r = await tufpipRepo(['sync', dir, folder]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/bad-1\.0\.tar\.gz is not a valid sdist/);
      expect(tsBytes(dir).equals(before)).to.equal(true);
      expect(readPublished(dir).targets.has('packages/good/good-1.0-py3-none-any.whl')).to.equal(false);
    });
  });

  describe('keygen', () => {
    it('writes NAME.pem (PKCS#8, 0600) and NAME.pub.json whose key ID is sha256 of the canonical {keytype, scheme, keyval}', async () => {
      const out = path.join(tmpDir(), 'keys');
      const r = JSON.parse(expectOk(await tufpipRepo(['keygen', 'alice', '--out-dir', out, '--json'])).stdout) as { keyid: string; private: string; public: string; publicKey: unknown; encrypted: boolean };
      expect(r.private).to.equal(path.join(out, 'alice.pem'));
      expect(r.public).to.equal(path.join(out, 'alice.pub.json'));
      expect(r.encrypted).to.equal(false);
      expect(fs.statSync(r.private).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(out).mode & 0o777).to.equal(0o700);
      const pub = JSON.parse(fs.readFileSync(r.public, 'utf8')) as { keytype: string; scheme: string; keyval: { public: string } };
      expect(pub).to.deep.equal(r.publicKey);
      expect(Object.keys(pub).sort()).to.deep.equal(['keytype', 'keyval', 'scheme']);
      expect(pub.keytype).to.equal('ed25519');
      expect(pub.scheme).to.equal('ed25519');
      expect(pub.keyval.public).to.match(/^[0-9a-f]{64}$/);
      // TUF spec "KEYID": computed here independently of repo-tools.
      const expected = createHash('sha256').update(canonicalize({ keytype: pub.keytype, scheme: pub.scheme, keyval: pub.keyval })).digest('hex');
      expect(r.keyid).to.equal(expected);
      // The private key is a PKCS#8 ed25519 key whose public half is the one published.
      const pem = fs.readFileSync(r.private, 'utf8');
      expect(pem).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
      const priv = createPrivateKey(pem);
      expect(priv.asymmetricKeyType).to.equal('ed25519');
      const der = createPublicKey(priv).export({ type: 'spki', format: 'der' });
      expect(der.subarray(der.length - 32).toString('hex')).to.equal(pub.keyval.public);
      // People see the short key ID and the full one, never the key.
      const human = expectOk(await tufpipRepo(['keygen', 'bob', '--out-dir', out]));
      const bob = JSON.parse(fs.readFileSync(path.join(out, 'bob.pub.json'), 'utf8')) as Parameters<typeof keyIdOf>[0];
      expect(human.stdout).to.include(`key ${keyIdOf(bob).slice(0, 8)} (${keyIdOf(bob)})`);
    });

    it('computes the same key ID as securesystemslib / python-tuf for a published ed25519 key', () => {
      // securesystemslib tests/test_signer.py, TestSSlibKey.test_from_crypto: the ed25519 key in
      // tests/data/pems/ed25519_public.pem gets the default key ID c6d8bf2e...; its raw public key
      // 4f66dabe... appears in the same file (and in RSTUF's CLI tests with that key ID).
      const key = { keytype: 'ed25519' as const, scheme: 'ed25519' as const, keyval: { public: '4f66dabebcf30628963786001984c0b75c175cdcf3bc4855933a2628f0cd0a0f' } };
      expect(keyIdOf(key)).to.equal('c6d8bf2e4f48b41ac2ce8eca21415ca8ef68c133b47fc33df03d4070a7e1e9cc');
      // Not the legacy ID over JSON.stringify, nor one that includes keyid_hash_algorithms.
      expect(keyIdOf(key)).to.not.equal(createHash('sha256').update(JSON.stringify(key)).digest('hex'));
    });

    it('encrypts the private key with --passphrase-env, and refuses to overwrite a key', async () => {
      const out = path.join(tmpDir(), 'keys');
      const env = { ...process.env, TUFPIP_TEST_PASS: 's3cret passphrase' };
      const r = JSON.parse(expectOk(await tufpipRepo(['keygen', 'carol', '--out-dir', out, '--passphrase-env', 'TUFPIP_TEST_PASS', '--json'], { env })).stdout) as { keyid: string; private: string; encrypted: boolean };
      expect(r.encrypted).to.equal(true);
      const pem = fs.readFileSync(r.private, 'utf8');
      expect(pem).to.match(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      expect(fs.statSync(r.private).mode & 0o777).to.equal(0o600);
      expect(() => createPrivateKey(pem)).to.throw();
      expect(() => createPrivateKey({ key: pem, format: 'pem', passphrase: 'wrong' })).to.throw();
      const priv = createPrivateKey({ key: pem, format: 'pem', passphrase: 's3cret passphrase' });
      const der = createPublicKey(priv).export({ type: 'spki', format: 'der' });
      const pub = JSON.parse(fs.readFileSync(path.join(out, 'carol.pub.json'), 'utf8')) as Parameters<typeof keyIdOf>[0];
      expect(der.subarray(der.length - 32).toString('hex')).to.equal(pub.keyval.public);
      expect(keyIdOf(pub)).to.equal(r.keyid);

      const before = fs.readFileSync(r.private);
      const again = await tufpipRepo(['keygen', 'carol', '--out-dir', out], { env });
      expect(again.code).to.equal(1);
      expect(again.stderr).to.match(/refusing to overwrite existing key file .*carol\.pem/);
      expect(fs.readFileSync(r.private).equals(before)).to.equal(true);

      const unset = await tufpipRepo(['keygen', 'dave', '--out-dir', out, '--passphrase-env', 'TUFPIP_TEST_NOT_SET']);
      expect(unset.code).to.equal(2);
      expect(unset.stderr).to.match(/TUFPIP_TEST_NOT_SET: that environment variable is not set/);
      expect(fs.existsSync(path.join(out, 'dave.pem'))).to.equal(false);
    });
  });
});
