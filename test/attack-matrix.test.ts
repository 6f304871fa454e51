// Issue 6 "The matrix": every TUF attack (TUF spec "Goals" / threat list, PEP 458 and PEP 480),
// mounted as an attacker would through a malicious mirror (test/helpers/malicious-mirror.ts) in
// front of a real `tufpip-repo` index, against the real `tufpip install` with real pip into a fresh
// venv. For every row: refused, exit 1, a message naming the class of problem (RefusalKind) and
// the role or file, "nothing was installed", the venv unchanged (fingerprint), and proof that the
// mirror really served the attack. Each attack is built so that a client lacking the check would
// install successfully (the test would then fail). The honest controls install.
// Scenario table in the style of python-tuf tests/test_updater_key_rotations.py.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { RefusalKind } from '../client/lib/api.js';
import { IDLE_TIMEOUT_ENV } from '../io/idle-timeout.js';
import type { RootSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { binForPath } from '../metadata/hash-bins.js';
import { shortKeyId } from '../metadata/keys.js';
import { projectPageHtml } from '../metadata/simple-html.js';
import { writeNewKey } from '../repo-tools/keys/keygen.js';
import { privateKeyFromPem, type LocalSigner } from '../repo-tools/keys/signer.js';
import { signRole } from '../repo-tools/txn/transaction.js';
import { tufpip, tufpipRepo, type RunResult } from './helpers/cli.js';
import {
  LONG_AGO,
  MaliciousMirror,
  PublishedSite,
  forgeChain,
  metadataUrl,
  metadataUrls,
  misbehave,
  resign,
  targetInfoOf,
  targetUrls,
  type MirrorRule,
} from './helpers/malicious-mirror.js';
import { claim, indexOnlyAdd, maintainers, signRelease } from './helpers/pep480-fixture.js';
import { freshVenv } from './helpers/python.js';
import { expectOk, makeRepo, type TestRepo } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { STANDARD_WHEELS, jsonOf } from './helpers/trusted-index.js';
import { wheelBytes, wheelFilename, writeWheel } from './helpers/wheels.js';

const BINS = 16;
const ALPHA = 'packages/alpha/alpha-1.0-py3-none-any.whl';
const BETA = 'packages/beta/beta-1.1-py3-none-any.whl';
const ALPHA_PAGE = 'simple/alpha/index.html';
/** The hash bin listing alpha's simple page: the first role every install below reads. */
const ALPHA_BIN = binForPath(ALPHA_PAGE, BINS);
/** A short idle timeout for the slow-retrieval rows ($TUFPIP_IDLE_TIMEOUT_MS, io/idle-timeout.ts). */
const IDLE_MS = 2000;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the matrix tried and what was refused, printed once at the end. */
const tally = { tried: 0, refused: 0, controls: [] as string[] };

const keyOf = (repoDir: string, name: string): LocalSigner =>
  privateKeyFromPem(fs.readFileSync(path.join(repoDir, 'keys', `${name}.pem`), 'utf8'), `${name}.pem`);

async function attackerKey(): Promise<LocalSigner> {
  const k = await writeNewKey(path.join(tmpDir('tufpip-attacker-'), 'keys'), 'attacker');
  return privateKeyFromPem(fs.readFileSync(k.privatePath, 'utf8'), 'attacker.pem');
}

/** A tufpip data directory that trusts `url` with root v1 (nothing fetched yet). */
async function trustingDataDir(url: string, root1: string): Promise<string> {
  const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
  expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', url, '--root', root1]), 'trust add');
  return dataDir;
}

/** A copy of a data directory template (its trusted root and whatever metadata it cached). */
function copyDataDir(template: string): string {
  const dir = path.join(tmpDir('tufpip-data-'), 'data');
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

function install(dataDir: string, req: string, python: string, extra: { args?: string[]; env?: Record<string, string> } = {}): Promise<RunResult> {
  return tufpip(['--data-dir', dataDir, 'install', req, '--python', python, ...(extra.args ?? [])], { env: { ...process.env, ...extra.env } });
}

/** The honest path: installs, and the venv has what was asked for. */
async function expectInstalls(dataDir: string, req: string, expected: string[], extra: { env?: Record<string, string> } = {}): Promise<RunResult> {
  const venv = freshVenv();
  const r = expectOk(await install(dataDir, req, venv.python, extra), `tufpip install ${req}`);
  expect(venv.installed()).to.include.members(expected);
  return r;
}

interface Refusal {
  req: string;
  kind: RefusalKind;
  /** What the message must name besides the class: the role or the file. */
  names: RegExp;
  env?: Record<string, string>;
}

/**
 * One attack through `tufpip install` into a fresh venv: refused (exit 1, `--json` error kind),
 * the message names the class and the role or file and says nothing was installed, and the venv
 * is unchanged.
 */
async function expectRefusedInstall(dataDir: string, c: Refusal): Promise<RunResult> {
  tally.tried += 1;
  const venv = freshVenv();
  const before = venv.fingerprint();
  const r = await install(dataDir, c.req, venv.python, { args: ['--json'], env: c.env });
  expect(r.code, `${r.stderr}\n${r.stdout}`).to.equal(1);
  const out = jsonOf<{ ok: boolean; error: { kind: string; message: string } }>(r);
  expect(out.ok).to.equal(false);
  expect(out.error.kind, r.stderr).to.equal(c.kind);
  // One `tufpip: error:` line naming the class (`refused (<kind>)`, or `slow-retrieval` /
  // `network` for transport failures), never a stack trace.
  expect(r.stderr).to.match(/^tufpip: error: /m);
  expect(r.stderr).to.not.match(/^\s+at |Node\.js v\d/m);
  // Not refusals of an attack: the network failing, and a project the verified index does not have.
  const head = c.kind === 'slow-retrieval' || c.kind === 'network' || c.kind === 'not-on-index' ? `${c.kind} \\[` : `refused \\(${c.kind}\\)`;
  expect(r.stderr).to.match(new RegExp(head));
  expect(r.stderr).to.match(c.names);
  expect(r.stderr).to.match(/nothing was installed/);
  expect(venv.fingerprint(), 'the venv must be unchanged').to.equal(before);
  tally.refused += 1;
  return r;
}

/** The attack reached the client: the mirror answered at least one request with it. */
function expectServed(rules: MirrorRule[]): void {
  expect(rules.reduce((n, r) => n + r.hits, 0), `the mirror never served ${rules.map((r) => r.label).join(', ')}`).to.be.greaterThan(0);
}

describe('the malicious mirror (test helper) does what the matrix relies on', () => {
  let mirror: MaliciousMirror;
  const body = Buffer.from('0123456789abcdef'.repeat(8));
  before(async () => {
    const site = path.join(tmpDir('tufpip-mirror-'), 'site');
    fs.mkdirSync(path.join(site, 'metadata'), { recursive: true });
    fs.writeFileSync(path.join(site, 'metadata', 'timestamp.json'), body);
    mirror = await MaliciousMirror.start(site);
  });
  after(async () => {
    await mirror?.close();
  });
  afterEach(() => mirror.reset());
  const get = async (p = 'metadata/timestamp.json') => {
    const r = await fetch(mirror.url + p);
    return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()) };
  };

  it('serves honestly, misbehaves per path for a number of requests, and logs which rule answered', async () => {
    expect(mirror.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await get()).bytes.equals(body)).to.equal(true);
    const once = mirror.when(metadataUrls('timestamp'), misbehave.replace(Buffer.from('old')), { times: 1, label: 'once' });
    expect((await get()).bytes.toString()).to.equal('old');
    expect((await get()).bytes.equals(body)).to.equal(true);
    expect(once.hits).to.equal(1);
    expect(mirror.requests.slice(-2).map((r) => r.rule)).to.deep.equal(['once', undefined]);
    mirror.when(metadataUrls('timestamp'), misbehave.truncate(5));
    expect((await get()).bytes.length).to.equal(body.length - 5);
    mirror.reset();
    mirror.when(metadataUrls('timestamp'), misbehave.extend(7));
    expect((await get()).bytes.length).to.equal(body.length + 7);
    mirror.reset();
    mirror.when(metadataUrls('timestamp'), misbehave.flipByte(3));
    const flipped = (await get()).bytes;
    expect(flipped.length).to.equal(body.length);
    expect([...flipped].filter((b, i) => b !== body[i])).to.have.length(1);
    mirror.reset();
    mirror.when(metadataUrls('timestamp'), misbehave.status(503));
    expect((await get()).status).to.equal(503);
    expect((await get('metadata/nothing.json')).status).to.equal(404);
  });

  it('trickles the whole body, and streams endless data until the client hangs up', async () => {
    const slow = mirror.when(metadataUrls('timestamp'), misbehave.trickle(10, 5));
    expect((await get()).bytes.equals(body)).to.equal(true);
    expect(slow.hits).to.equal(1);
    mirror.reset();
    mirror.when(metadataUrls('timestamp'), misbehave.endless());
    const r = await fetch(mirror.url + 'metadata/timestamp.json');
    expect(r.headers.get('content-length')).to.equal(null);
    const reader = r.body!.getReader();
    let got = 0;
    while (got < 4 * 1024 * 1024) got += (await reader.read()).value!.length;
    await reader.cancel();
    expect(got).to.be.at.least(4 * 1024 * 1024);
  });

  it('forgeChain signs a consistent chain: the timestamp names the new snapshot by length and hash', async () => {
    const repo = await makeRepo({ bins: 2 });
    const site = path.join(repo.dir, 'site');
    const before = new PublishedSite(site);
    const files = await forgeChain(site, keyOf(repo.dir, 'online'), { roles: { 'bin-0': (t) => void (t.expires = LONG_AGO) } });
    const ts = JSON.parse(files.get(metadataUrl('timestamp'))!.toString('utf8')) as { signed: { version: number; meta: Record<string, { version: number; length: number; hashes: { sha256: string } }> } };
    expect(ts.signed.version).to.equal(before.timestamp().signed.version + 1);
    const snap = files.get(metadataUrl('snapshot', ts.signed.meta['snapshot.json'].version))!;
    expect(targetInfoOf(snap)).to.deep.equal({ length: ts.signed.meta['snapshot.json'].length, hashes: ts.signed.meta['snapshot.json'].hashes });
    expect((JSON.parse(snap.toString('utf8')) as { signed: { meta: Record<string, { version: number }> } }).signed.meta['bin-0.json'].version).to.equal(before.version('bin-0') + 1);
    expect([...files.keys()]).to.include(metadataUrl('bin-0', before.version('bin-0') + 1));
  });
});

describe('attack matrix: tufpip install through a malicious mirror refuses every TUF attack', function () {
  this.timeout(600_000);

  after(() => {
    const controls = tally.controls.length ? `honest control installed (${tally.controls.join('; ')})` : 'honest control NOT installed';
    console.log(`attack matrix: ${tally.tried} attacks tried, ${tally.refused} refused, ${controls}`);
  });

  describe('one index, one mirror, a fresh client and venv per attack', () => {
    let repo: TestRepo;
    let site: string;
    let mirror: MaliciousMirror;
    let online: LocalSigner;
    /** Data dir templates: `fresh` trusts root v1 only; `primed` has installed through the mirror. */
    let fresh: string;
    let primed: string;
    /** The published state before the last `bump --force`: what a replaying mirror has saved. */
    let earlier: { timestamp: Buffer; snapshot: Buffer; alphaBin: { version: number; bytes: Buffer } };

    interface Ctx {
      mirror: MaliciousMirror;
      pub: PublishedSite;
      online: LocalSigner;
      repo: TestRepo;
    }

    interface Row extends Omit<Refusal, 'req'> {
      /** Attack class, as the TUF spec names it. */
      attack: string;
      /** The client has already updated to the current state through the mirror (rollback rows). */
      primed?: boolean;
      req?: string;
      /** Starts the attack; returns the mirror rules that serve it. */
      mount(x: Ctx): Promise<MirrorRule[]>;
      /** The attack file is never even requested (the client knows from signed metadata that it does not exist). */
      neverRequested?: RegExp;
    }

    before(async function () {
      this.timeout(300_000);
      repo = await makeRepo({ bins: BINS, wheels: STANDARD_WHEELS });
      site = path.join(repo.dir, 'site');
      online = keyOf(repo.dir, 'online');
      // Root v2 through the real offline ceremony (a renewal signed by 2 of the 3 root keys), so
      // the root chain has a link to replay and a version for a forged root to follow.
      expectOk(await tufpipRepo(['propose', repo.dir, '--role', 'root', '--expires', '400']), 'propose root');
      for (const k of ['root-1', 'root-2']) {
        expectOk(await tufpipRepo(['sign', path.join(repo.dir, 'pending', 'root.json'), '--key', path.join(repo.dir, 'keys', `${k}.pem`)]), `sign root with ${k}`);
      }
      expectOk(await tufpipRepo(['publish', repo.dir]), 'publish root v2');
      const pub = new PublishedSite(site);
      const alphaBin = pub.role(ALPHA_BIN);
      earlier = { timestamp: pub.timestamp().bytes, snapshot: pub.snapshot().bytes, alphaBin: { version: alphaBin.version, bytes: alphaBin.bytes } };
      // The cron job re-signs every online role: new timestamp, snapshot and bin versions.
      expectOk(await tufpipRepo(['bump', repo.dir, '--force']), 'bump --force');
      expect(pub.role(ALPHA_BIN).version).to.be.greaterThan(earlier.alphaBin.version);
      mirror = await MaliciousMirror.start(site);
      fresh = await trustingDataDir(mirror.url, repo.root1);
      primed = copyDataDir(fresh);
      expectOk(await tufpip(['--data-dir', primed, 'fetch', 'alpha', '-d', tmpDir('tufpip-primed-')]), 'priming fetch');
    });

    after(async () => {
      await mirror?.close();
    });

    afterEach(() => mirror.reset());

    it('honest control: alpha and its dependency install through the (honest) mirror, index-signed', async () => {
      const r = await expectInstalls(copyDataDir(fresh), 'alpha', ['alpha', 'beta']);
      expect(r.stdout).to.match(new RegExp(`alpha-1\\.0-py3-none-any\\.whl +sha256:[0-9a-f]{64} +index-signed \\(online key ${shortKeyId(online.keyid)}\\)`));
      tally.controls.push('alpha + beta');
    });

    const rows: Record<string, Row> = {
      'a project no signed metadata lists (the mirror serves its page and wheel)': {
        attack: 'arbitrary software',
        req: 'evil',
        mount: async ({ mirror }) => {
          const wheel = await wheelBytes({ name: 'evil', version: '1.0' });
          const page = Buffer.from(projectPageHtml('evil', [{ filename: 'evil-1.0-py3-none-any.whl', sha256: targetInfoOf(wheel).hashes.sha256 }]));
          return [mirror.serveFiles(new Map([['/simple/evil/index.html', page], ['/packages/evil/evil-1.0-py3-none-any.whl', wheel]]), 'evil project')];
        },
        // TUF spec 5.6.7: no role lists simple/evil/index.html, so it is never downloaded at all;
        // for the verified index there is no such project ("no project evil on the index").
        neverRequested: /^\/(simple|packages)\/evil\//,
        kind: 'not-on-index',
        names: /simple\/evil\/index\.html/,
      },
      "alpha's hash bin re-signed by an attacker's key, listing an evil alpha 2.0": {
        attack: 'arbitrary software',
        mount: async ({ mirror, pub }) => {
          const bin = pub.role(ALPHA_BIN);
          const evil = targetInfoOf(await wheelBytes({ name: 'alpha', version: '2.0', body: 'import os  # evil\n' }));
          const forged = await resign(bin.bytes, [await attackerKey()], (s) => {
            (s.targets as Record<string, unknown>)['packages/alpha/alpha-2.0-py3-none-any.whl'] = evil;
          });
          return [mirror.when(bin.url, misbehave.replace(forged), { label: 'bin signed by the wrong key' })];
        },
        // TUF spec 5.6.3: a threshold of the delegator's (bins) keys must sign the bin.
        kind: 'bad-signature',
        names: new RegExp(`${ALPHA_BIN} was signed by 0/1 keys`),
      },
      "a timestamp.json from another repository's chain (a later version, signed by that repository's online key)": {
        attack: 'arbitrary software',
        mount: async ({ mirror }) => {
          const other = await makeRepo({ bins: BINS, wheels: [{ name: 'alpha', version: '6.6' }] });
          const forged = await forgeChain(path.join(other.dir, 'site'), keyOf(other.dir, 'online'), { timestamp: (t) => void (t.version += 100) });
          return [mirror.when(metadataUrl('timestamp'), misbehave.replace(forged.get(metadataUrl('timestamp'))!), { label: "another repository's timestamp" })];
        },
        // TUF spec 5.4.2: the timestamp must be signed by the timestamp keys of the trusted root.
        kind: 'bad-signature',
        names: /timestamp was signed by 0\/1 keys/,
      },
      "beta 1.1's wheel (another project's signed file) served as alpha 1.0's": {
        attack: 'wrong software',
        mount: async ({ mirror, pub }) => {
          const alpha = pub.file(`/${ALPHA}`);
          const beta = pub.file(`/${BETA}`);
          // Not longer than alpha's signed length, so it is the hash that must catch it.
          expect(beta.length).to.be.at.most(alpha.length);
          return [mirror.when(targetUrls(ALPHA), misbehave.replace(beta), { label: "beta's wheel as alpha's" })];
        },
        // TUF spec 5.7.3: length and hashes of the target from signed metadata.
        kind: 'hash-mismatch',
        names: new RegExp(esc(ALPHA)),
      },
      'the timestamp.json of the previous snapshot, replayed': {
        attack: 'rollback',
        primed: true,
        mount: async ({ mirror }) => [mirror.when(metadataUrl('timestamp'), misbehave.replace(earlier.timestamp), { label: 'older timestamp' })],
        // TUF spec 5.4.3.1: the timestamp version must not go down.
        kind: 'rollback',
        names: /timestamp version \d+ is less than current version \d+/,
      },
      'a new timestamp (stolen online key) naming the previous snapshot': {
        attack: 'rollback',
        primed: true,
        mount: async ({ mirror, online }) => [mirror.serveFiles(await forgeChain(site, online, { snapshotBytes: earlier.snapshot }), 'timestamp naming an older snapshot')],
        // TUF spec 5.4.3.2: the snapshot version the timestamp names must not go down.
        kind: 'rollback',
        names: /snapshot version \d+ is less than current version \d+/,
      },
      "a new snapshot (stolen online key) naming the previous version of alpha's bin": {
        attack: 'rollback',
        primed: true,
        mount: async ({ mirror, online }) => [
          mirror.serveFiles(await forgeChain(site, online, { snapshot: (s) => void (s.meta[`${ALPHA_BIN}.json`] = { version: earlier.alphaBin.version }) }), 'snapshot naming an older bin'),
        ],
        // TUF spec 5.5.5: no targets role's version may go down from one snapshot to the next.
        kind: 'rollback',
        names: new RegExp(`version \\d+ of ${ALPHA_BIN}\\.json is less than current version \\d+`),
      },
      'root version 1 served as 3.root.json': {
        attack: 'rollback',
        mount: async ({ mirror, pub }) => [mirror.when(metadataUrl('root', 3), misbehave.replace(pub.file('/metadata/1.root.json')), { label: 'old root as the next one' })],
        // TUF spec 5.3.5: the next root must be exactly version N+1 (its signatures are valid here).
        kind: 'rollback',
        names: /Expected root version 3, got 1/,
      },
      'an expired timestamp.json': {
        attack: 'indefinite freeze',
        mount: async ({ mirror, pub, online }) => [
          mirror.serveFiles(await forgeChain(site, online, { snapshotBytes: pub.snapshot().bytes, timestamp: (t) => void (t.expires = LONG_AGO) }), 'expired timestamp'),
        ],
        // TUF spec 5.4.4.
        kind: 'freeze',
        names: /timestamp\.json is expired/,
      },
      'an expired snapshot': {
        attack: 'indefinite freeze',
        mount: async ({ mirror, online }) => [mirror.serveFiles(await forgeChain(site, online, { snapshot: (s) => void (s.expires = LONG_AGO) }), 'expired snapshot')],
        // TUF spec 5.5.6.
        kind: 'freeze',
        names: /snapshot\.json is expired/,
      },
      "an expired hash bin (alpha's)": {
        attack: 'indefinite freeze',
        mount: async ({ mirror, online }) => [mirror.serveFiles(await forgeChain(site, online, { roles: { [ALPHA_BIN]: (t) => void (t.expires = LONG_AGO) } }), 'expired bin')],
        // TUF spec 5.6.5.
        kind: 'freeze',
        names: new RegExp(`${ALPHA_BIN}\\.json is expired`),
      },
      "the previous snapshot's version of alpha's bin served under the current snapshot's name": {
        attack: 'mix-and-match',
        mount: async ({ mirror, pub }) => [mirror.when(metadataUrl(ALPHA_BIN, pub.version(ALPHA_BIN)), misbehave.replace(earlier.alphaBin.bytes), { label: 'bin of another snapshot' })],
        // TUF spec 5.6.4: a targets role's version must be the one the snapshot names.
        kind: 'mix-and-match',
        names: new RegExp(`Version \\d+ of ${ALPHA_BIN} does not match snapshot version \\d+`),
      },
      'timestamp.json never ends': {
        attack: 'endless data',
        mount: async ({ mirror }) => [mirror.when(metadataUrls('timestamp'), misbehave.endless())],
        // TUF spec 5.4.1: at most the configured maximum length of timestamp.json is downloaded.
        kind: 'endless-data',
        names: /timestamp\.json sent more than the 16384 bytes/,
      },
      "alpha's hash bin never ends (no signed length: the snapshot lists versions only)": {
        attack: 'endless data',
        mount: async ({ mirror }) => [mirror.when(metadataUrls(ALPHA_BIN), misbehave.endless())],
        // TUF spec 5.6.1: at most the configured maximum (tuf-js targetsMaxLength, 5 MB) for a
        // targets role whose length the snapshot does not sign (DESIGN.md: versions only).
        kind: 'endless-data',
        names: new RegExp(`${ALPHA_BIN}\\.json sent more than the 5000000 bytes`),
      },
      "alpha's wheel never ends": {
        attack: 'endless data',
        mount: async ({ mirror }) => [mirror.when(targetUrls(ALPHA), misbehave.endless())],
        // TUF spec 5.7.3: at most the signed length of the target is downloaded.
        kind: 'endless-data',
        names: /packages\/alpha\/[0-9a-f]+\.alpha-1\.0-py3-none-any\.whl sent more than the \d+ bytes/,
      },
      "alpha's wheel trickles with pauses longer than the idle timeout": {
        attack: 'slow retrieval',
        env: { [IDLE_TIMEOUT_ENV]: String(IDLE_MS) },
        // Bytes keep coming, but 4 idle timeouts apart.
        mount: async ({ mirror }) => [mirror.when(targetUrls(ALPHA), misbehave.trickle(16, 4 * IDLE_MS))],
        // TUF spec "slow retrieval": the client's per-chunk idle timeout (io/http-transport.ts).
        kind: 'slow-retrieval',
        names: new RegExp(`no data from \\S+alpha-1\\.0-py3-none-any\\.whl for ${IDLE_MS} ms`),
      },
      "one byte of alpha's wheel changed": {
        attack: 'malicious mirror',
        mount: async ({ mirror }) => [mirror.when(targetUrls(ALPHA), misbehave.flipByte())],
        // TUF spec 5.7.3.
        kind: 'hash-mismatch',
        names: new RegExp(`${esc(ALPHA)}.*Expected hash`),
      },
      "alpha's wheel truncated": {
        attack: 'malicious mirror',
        mount: async ({ mirror }) => [mirror.when(targetUrls(ALPHA), misbehave.truncate(10))],
        kind: 'hash-mismatch',
        names: new RegExp(`${esc(ALPHA)}.*Expected length`),
      },
      "alpha's wheel extended": {
        attack: 'malicious mirror',
        mount: async ({ mirror }) => [mirror.when(targetUrls(ALPHA), misbehave.extend(100))],
        kind: 'endless-data',
        names: /alpha-1\.0-py3-none-any\.whl is \d+ bytes, more than the \d+ bytes signed metadata allows/,
      },
      'a root v3 giving the attacker the timestamp and snapshot keys, signed by one stolen root key of the threshold 2': {
        attack: 'key compromise below the threshold',
        mount: async ({ mirror, pub, repo }) => {
          const attacker = await attackerKey();
          const v2 = (JSON.parse(pub.file('/metadata/2.root.json').toString('utf8')) as { signed: RootSigned }).signed;
          const v3: RootSigned = structuredClone(v2);
          v3.version = 3;
          v3.keys[attacker.keyid] = attacker.publicKey;
          v3.roles.timestamp = { keyids: [attacker.keyid], threshold: 1 };
          v3.roles.snapshot = { keyids: [attacker.keyid], threshold: 1 };
          v3.roles.root = { ...v3.roles.root, keyids: [...v3.roles.root.keyids, attacker.keyid] };
          const root3 = await signRole(canonicalize(v3), [keyOf(repo.dir, 'root-1'), attacker]);
          // The rest of the attacker's chain: were root v3 accepted, this would install.
          const chain = await forgeChain(site, attacker);
          chain.set(metadataUrl('root', 3), root3);
          return [mirror.serveFiles(chain, 'root v3 signed by 1 of 2')];
        },
        // TUF spec 5.3.4: a new root needs a threshold of the trusted root's keys (and of its own).
        kind: 'bad-signature',
        names: /root was signed by 1\/2 keys/,
      },
    };

    for (const [name, c] of Object.entries(rows)) {
      it(`${c.attack}: ${name} -> refused (${c.kind})`, async () => {
        const dataDir = copyDataDir(c.primed ? primed : fresh);
        const rules = await c.mount({ mirror, pub: new PublishedSite(site), online, repo });
        await expectRefusedInstall(dataDir, { req: c.req ?? 'alpha', kind: c.kind, names: c.names, env: c.env });
        if (c.neverRequested) expect(mirror.requestsFor(c.neverRequested), 'a file no signed metadata lists was downloaded').to.deep.equal([]);
        else expectServed(rules);
      });
    }

    it('slow retrieval control: a slow but steady trickle (every pause below the idle timeout) installs', async () => {
      // 8 bytes every 40 ms: each pause is 1/50 of the idle timeout.
      const chunk = 8;
      const every = 40;
      // The whole download takes several idle timeouts: only a per-chunk timeout lets it through.
      expect(Math.ceil(new PublishedSite(site).file(`/${ALPHA}`).length / chunk) * every).to.be.greaterThan(2 * IDLE_MS);
      const rule = mirror.when(targetUrls(ALPHA), misbehave.trickle(chunk, every));
      await expectInstalls(copyDataDir(fresh), 'alpha', ['alpha', 'beta'], { env: { [IDLE_TIMEOUT_ENV]: String(IDLE_MS) } });
      expectServed([rule]);
      tally.controls.push('a slow but steady download');
    });

    it('a malformed $TUFPIP_IDLE_TIMEOUT_MS is a usage error (exit 2), never a silently disabled timeout', async () => {
      const seen = mirror.requests.length;
      const r = await install(copyDataDir(fresh), 'alpha', 'python3', { env: { [IDLE_TIMEOUT_ENV]: '30s' } });
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/TUFPIP_IDLE_TIMEOUT_MS must be a whole number of milliseconds/);
      expect(mirror.requests.slice(seen), 'nothing was requested').to.deep.equal([]);
    });
  });

  describe('fast-forward: a timestamp version bump signed by the online key, then the key rotated', () => {
    let repo: TestRepo;
    let site: string;
    let mirror: MaliciousMirror;
    before(async function () {
      repo = await makeRepo({ bins: BINS, wheels: STANDARD_WHEELS });
      site = path.join(repo.dir, 'site');
      mirror = await MaliciousMirror.start(site);
    });
    after(async () => {
      await mirror?.close();
    });

    it('the revoked key\'s bump is refused (bad-signature) and the fast-forwarded client recovers after the rotation', async () => {
      const dataDir = await trustingDataDir(mirror.url, repo.root1);
      const stolen = keyOf(repo.dir, 'online');
      await expectInstalls(dataDir, 'alpha', ['alpha', 'beta']);
      const pub = new PublishedSite(site);
      const honestVersion = pub.timestamp().signed.version;

      // 1. The attacker, holding the online key, fast-forwards the client: timestamp version +1000.
      // Validly signed, so no client can refuse it (TUF spec: fast-forward needs a key rotation to undo).
      const ff = mirror.serveFiles(await forgeChain(site, stolen, { snapshotBytes: pub.snapshot().bytes, timestamp: (t) => void (t.version += 1000) }), 'fast-forward');
      await expectInstalls(dataDir, 'alpha', ['alpha', 'beta']);
      expectServed([ff]);
      mirror.reset();

      // 2. The damage: the honest index moves on, and this client now takes it for a rollback.
      expectOk(await tufpipRepo(['bump', repo.dir, '--force']), 'bump --force');
      expect(pub.timestamp().signed.version).to.equal(honestVersion + 1);
      const frozen = await install(dataDir, 'alpha', freshVenv().python);
      expect(frozen.code).to.equal(1);
      expect(frozen.stderr).to.match(/refused \(rollback\).*timestamp version \d+ is less than current version \d+/);

      // 3. The operator rotates the online key (offline ceremony: root, targets, bins; PEP 458
      // "compromise recovery"), and publishes with the new key.
      const newKey = await writeNewKey(path.join(tmpDir('tufpip-newkey-'), 'keys'), 'online-2');
      const keys = (n: string) => path.join(repo.dir, 'keys', `${n}.pem`);
      const steps: Array<[string, string[]]> = [
        ['root', [keys('root-1'), keys('root-2')]],
        ['targets', [keys('targets')]],
        ['bins', [keys('bins')]],
      ];
      for (const [role, signers] of steps) {
        expectOk(await tufpipRepo(['propose', repo.dir, '--role', role, '--role-key', `online=${newKey.publicPath}`]), `propose ${role}`);
        for (const k of signers) expectOk(await tufpipRepo(['sign', path.join(repo.dir, 'pending', `${role}.json`), '--key', k]), `sign ${role}`);
      }
      expectOk(await tufpipRepo(['publish', repo.dir, '--online-key', `file:${newKey.privatePath}`]), 'publish the rotation');

      // 4. The attacker bumps again with the revoked key: refused. TUF spec 5.4.2 (the timestamp
      // must be signed by the keys root v2 names).
      const revoked = mirror.serveFiles(
        await forgeChain(site, stolen, { snapshotBytes: pub.snapshot().bytes, timestamp: (t) => void (t.version += 2000) }),
        'bump signed by the revoked key',
      );
      await expectRefusedInstall(dataDir, { req: 'alpha', kind: 'bad-signature', names: /timestamp was signed by 0\/1 keys/ });
      expectServed([revoked]);
      mirror.reset();

      // 5. Recovery: root v2 rotated the timestamp key, so the fast-forwarded timestamp the client
      // trusted no longer verifies and is discarded (TUF spec 5.3.11); the honest index installs.
      await expectInstalls(dataDir, 'alpha', ['alpha', 'beta']);
      tally.controls.push('recovery after a fast-forward');
    });
  });

  describe('PEP 480 signature gap: a compromised index publishes a file of a developer-signed project', () => {
    let repo: TestRepo;
    let mirror: MaliciousMirror;
    before(async function () {
      repo = await makeRepo({ bins: BINS, wheels: [{ name: 'alpha', version: '1.0' }] });
      const [m1] = await maintainers(['m1']);
      expectOk(await claim(repo.dir, 'beta', [m1], 1), 'claim beta');
      const wheel = await writeWheel(repo.wheelsDir, { name: 'beta', version: '1.0', deps: ['alpha'] });
      const bundle = await signRelease({ project: 'beta', files: [wheel], signers: [m1], keys: [m1], threshold: 1, out: path.join(tmpDir('tufpip-release-'), 'beta.release.json') });
      expectOk(await tufpipRepo(['add', repo.dir, '--signed', bundle, wheel]), 'add --signed');
      mirror = await MaliciousMirror.start(path.join(repo.dir, 'site'));
    });
    after(async () => {
      await mirror?.close();
    });

    it("the index's online key lists beta 6.6, its maintainers never signed it -> refused (missing-developer-signature)", async () => {
      const dataDir = await trustingDataDir(mirror.url, repo.root1);
      const ok = await expectInstalls(copyDataDir(dataDir), 'beta', ['alpha', 'beta']);
      expect(ok.stdout).to.match(/beta-1\.0-py3-none-any\.whl +sha256:[0-9a-f]{64} +developer-signed: project-beta, key [0-9a-f]{8} \(1 of 1; release role project-beta--1\.0\)/);
      tally.controls.push('a developer-signed release');

      const evil = await writeWheel(path.join(tmpDir('tufpip-evil-'), 'dist'), { name: 'beta', version: '6.6', deps: ['alpha'], body: 'import os  # not from the maintainers\n' });
      await indexOnlyAdd(repo.dir, evil);
      await expectRefusedInstall(dataDir, {
        req: 'beta',
        kind: 'missing-developer-signature',
        // PEP 480: the terminating project-beta delegation does not list it, the index's bin does.
        names: new RegExp(`${esc(`packages/beta/${wheelFilename({ name: 'beta', version: '6.6' })}`)}.*project-beta.*index's bin-[0-9a-f] lists it.*the index may be compromised`),
      });
      expect(mirror.requestsFor(targetUrls(`packages/beta/${wheelFilename({ name: 'beta', version: '6.6' })}`)), 'the unsigned wheel is never downloaded').to.deep.equal([]);
    });
  });
});
