// Attacks on a real `tufpip-repo` index served on loopback, against the real `tufpip install`
// with real pip in a fresh venv (issue 3 "What must hold"): each is refused with the attack class
// (RefusalKind) and the file or role in the message, a non-zero exit, and the venv unchanged
// (pip install never ran). Scenario table in the style of python-tuf's
// tests/test_updater_key_rotations.py.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { RefusalKind } from '../client/lib/api.js';
import { buildTimestamp, type RootSigned, type TimestampSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { projectPageHtml } from '../metadata/simple-html.js';
import { hashedPath } from '../metadata/target-paths.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { parseEnvelope } from '../metadata/envelope.js';
import { signRole } from '../repo-tools/txn/transaction.js';
import { sha256Hex } from '../metadata/hash.js';
import { freshVenv } from './helpers/python.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { tufpipRepo } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { newKey, signEnvelope } from './helpers/tuf-fixture.js';
import { jsonOf, trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';
import { wheelBytes, writeWheel } from './helpers/wheels.js';
import { sha256File } from './helpers/hash.js';

const BETA = 'packages/beta/beta-1.1-py3-none-any.whl';

/** A refusal is one `tufpip: error:` line, never a crash with a stack trace. */
function expectCleanError(stderr: string): void {
  expect(stderr, stderr).to.match(/^tufpip: error: /m);
  expect(stderr, stderr).to.not.match(/^\s+at |Node\.js v\d/m);
}

/** Rewrites a served target in place: its plain and hash-prefixed (consistent snapshot) names. */
function tamper(ix: TrustedIndex, targetPath: string, change: (b: Buffer) => Buffer): void {
  const plain = path.join(ix.site, targetPath);
  const hashed = path.join(ix.site, hashedPath(targetPath, sha256File(plain)));
  const bytes = change(fs.readFileSync(plain));
  for (const f of [hashed, plain]) fs.writeFileSync(f, bytes);
}

function flipByte(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[Math.floor(c.length / 2)] ^= 0x01;
  return c;
}

/** Re-signs timestamp.json with the repository's online key (metadata/builders + signRole). */
async function resignTimestamp(ix: TrustedIndex, edit: (t: TimestampSigned) => TimestampSigned): Promise<void> {
  const file = path.join(ix.site, 'metadata', 'timestamp.json');
  const cur = parseEnvelope<TimestampSigned>(fs.readFileSync(file), file).signed;
  const online = privateKeyFromPem(fs.readFileSync(path.join(ix.repo.dir, 'keys', 'online.pem'), 'utf8'), 'online.pem');
  fs.writeFileSync(file, await signRole(canonicalize(edit(cur)), [online]));
}

interface Attack {
  /** Run before the attack (e.g. a fetch that makes the client trust newer metadata). */
  prepare?: (ix: TrustedIndex) => Promise<Buffer>;
  attack: (ix: TrustedIndex, prepared?: Buffer) => Promise<void>;
  install?: string;
  kind: RefusalKind;
  /** What the message must name besides the kind (file or role). */
  names: RegExp;
}

const attacks: Record<string, Attack> = {
  'a tampered wheel (one byte changed)': {
    attack: async (ix) => tamper(ix, BETA, flipByte),
    kind: 'hash-mismatch',
    names: /packages\/beta\/beta-1\.1-py3-none-any\.whl/,
  },
  'a tampered wheel (shorter)': {
    attack: async (ix) => tamper(ix, BETA, (b) => b.subarray(0, b.length - 10)),
    kind: 'hash-mismatch',
    names: /packages\/beta\/beta-1\.1-py3-none-any\.whl/,
  },
  'a tampered wheel (longer: more bytes than signed)': {
    attack: async (ix) => tamper(ix, BETA, (b) => Buffer.concat([b, Buffer.alloc(100, 1)])),
    kind: 'endless-data',
    names: /packages\/beta\/beta-1\.1-py3-none-any\.whl/,
  },
  'a tampered simple page (a link pointed elsewhere, same length)': {
    attack: async (ix) => tamper(ix, 'simple/alpha/index.html', (b) => Buffer.from(b.toString().replace('alpha-1.0-py3', 'alpha-9.0-py3'))),
    kind: 'hash-mismatch',
    names: /simple\/alpha\/index\.html/,
  },
  'a replayed older timestamp.json': {
    prepare: async (ix) => {
      const file = path.join(ix.site, 'metadata', 'timestamp.json');
      const old = fs.readFileSync(file);
      // A new release, which the client sees (it now trusts the newer timestamp)...
      expectOk(await tufpipRepo(['add', ix.repo.dir, await writeWheel(ix.repo.wheelsDir, { name: 'beta', version: '1.2' })]), 'add');
      expectOk(await ix.run(['fetch', 'beta', '-d', tmpDir('tufpip-warm-')]), 'warm-up fetch');
      return old;
    },
    // ...then the server answers with the timestamp from before the release.
    attack: async (ix, old) => fs.writeFileSync(path.join(ix.site, 'metadata', 'timestamp.json'), old!),
    kind: 'rollback',
    names: /timestamp/,
  },
  'an expired timestamp.json (freeze)': {
    attack: (ix) => resignTimestamp(ix, (t) => buildTimestamp(t.version + 1, '2020-01-01T00:00:00Z', {
      version: t.meta['snapshot.json'].version,
      length: t.meta['snapshot.json'].length!,
      sha256: t.meta['snapshot.json'].hashes!.sha256,
    })),
    kind: 'freeze',
    names: /timestamp/,
  },
  'a new root (2.root.json) signed by the wrong key': {
    attack: async (ix) => {
      const file = path.join(ix.site, 'metadata', '1.root.json');
      const root = parseEnvelope<RootSigned>(fs.readFileSync(file), file).signed;
      const attacker = newKey();
      fs.writeFileSync(path.join(ix.site, 'metadata', '2.root.json'), signEnvelope({ ...root, version: 2 }, [attacker]));
    },
    kind: 'bad-signature',
    names: /root/,
  },
  'a project served that no role of the index lists': {
    attack: async (ix) => {
      const bytes = await wheelBytes({ name: 'evil', version: '1.0' });
      fs.mkdirSync(path.join(ix.site, 'packages', 'evil'), { recursive: true });
      fs.mkdirSync(path.join(ix.site, 'simple', 'evil'), { recursive: true });
      fs.writeFileSync(path.join(ix.site, 'packages', 'evil', 'evil-1.0-py3-none-any.whl'), bytes);
      fs.writeFileSync(path.join(ix.site, 'simple', 'evil', 'index.html'), projectPageHtml('evil', [{ filename: 'evil-1.0-py3-none-any.whl', sha256: sha256Hex(bytes) }]));
    },
    install: 'evil',
    // No role lists its page: for the verified index there is no such project.
    kind: 'not-on-index',
    names: /simple\/evil\/index\.html/,
  },
};

describe('client attacks: tufpip install refuses, names the attack, installs nothing', function () {
  let ix: TrustedIndex | undefined;
  afterEach(async () => {
    await ix?.close();
    ix = undefined;
  });

  for (const [name, c] of Object.entries(attacks)) {
    it(`${name} -> ${c.kind}`, async () => {
      ix = await trustedIndex();
      await c.attack(ix, await c.prepare?.(ix));
      const venv = freshVenv();
      const before = venv.fingerprint();
      const r = await ix.run(['install', c.install ?? 'alpha', '--python', venv.python, '--json']);
      expect(r.code, r.stderr).to.equal(1);
      const out = jsonOf<{ ok: boolean; error: { kind: string; message: string } }>(r);
      expect(out.ok).to.equal(false);
      expect(out.error.kind).to.equal(c.kind);
      // The message a person reads names the attack class and the file or role (one line, no crash).
      expectCleanError(r.stderr);
      expect(r.stderr).to.include(c.kind);
      expect(r.stderr).to.match(c.names);
      expect(venv.fingerprint()).to.equal(before);
    });
  }

  it('a root from another repository (the client trusts keys this index does not use) -> bad-signature', async () => {
    ix = await trustedIndex();
    const other = await makeRepo();
    const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
    const { tufpip } = await import('./helpers/cli.js');
    expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', ix.url, '--root', other.root1]), 'trust add (other root)');
    const venv = freshVenv();
    const before = venv.fingerprint();
    const r = await tufpip(['--data-dir', dataDir, 'install', 'alpha', '--python', venv.python]);
    expect(r.code).to.equal(1);
    expectCleanError(r.stderr);
    expect(r.stderr).to.match(/refused \(bad-signature\)/);
    expect(r.stderr).to.match(/timestamp|root/);
    expect(venv.fingerprint()).to.equal(before);
  });

  it('a policy (tufpip.toml) requiring developer signatures refuses index-signed packages -> missing-developer-signature', async () => {
    ix = await trustedIndex();
    const cwd = tmpDir('tufpip-policy-');
    fs.writeFileSync(path.join(cwd, 'tufpip.toml'), '[policy]\nrequire-developer-signed = ["Beta"]\n');
    const venv = freshVenv();
    const before = venv.fingerprint();
    const r = await ix.run(['install', 'alpha', '--python', venv.python], { cwd });
    expect(r.code).to.equal(1);
    expectCleanError(r.stderr);
    expect(r.stderr).to.match(/refused \(missing-developer-signature\) \[packages\/beta\/beta-1\.1-py3-none-any\.whl\]/);
    expect(r.stderr).to.include(path.join(cwd, 'tufpip.toml'));
    expect(venv.fingerprint()).to.equal(before);
    // The same install without the policy file goes through.
    expectOk(await ix.run(['install', 'alpha', '--python', venv.python]), 'install without policy');
  });
});

describe('client attacks: plain HTTP off loopback', () => {
  /** A TCP listener standing in as HTTP(S)_PROXY: any connection the client tries arrives here. */
  async function recorder(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
    let n = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      n++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      connections: () => n,
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    };
  }

  it('refuses http://192.0.2.1/ (TEST-NET) without --allow-http before any connection; with it, a connection is attempted', async () => {
    const rec = await recorder();
    try {
      const env = { ...process.env, HTTP_PROXY: rec.url, http_proxy: rec.url, HTTPS_PROXY: rec.url, https_proxy: rec.url, NO_PROXY: '', no_proxy: '' };
      const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
      const { tufpip } = await import('./helpers/cli.js');
      const venv = freshVenv();
      const before = venv.fingerprint();
      const refused = await tufpip(['--data-dir', dataDir, 'install', '--index', 'http://192.0.2.1/', 'alpha', '--python', venv.python, '--json'], { env });
      expect(refused.code).to.equal(1);
      expect(jsonOf<{ error: { kind: string } }>(refused).error.kind).to.equal('insecure-transport');
      expectCleanError(refused.stderr);
      expect(refused.stderr).to.match(/refused \(insecure-transport\).*192\.0\.2\.1/);
      expect(rec.connections()).to.equal(0);
      expect(venv.fingerprint()).to.equal(before);

      // The same index trusted by name (trust add --allow-http): still refused without the flag.
      const other = await makeRepo();
      expectOk(await tufpip(['--data-dir', dataDir, 'trust', 'add', 'http://192.0.2.1/', '--root', other.root1, '--name', 'testnet', '--allow-http'], { env }), 'trust add');
      const byName = await tufpip(['--data-dir', dataDir, 'fetch', '--index', 'testnet', 'alpha', '-d', tmpDir('tufpip-dest-')], { env });
      expect(byName.code).to.equal(1);
      expectCleanError(byName.stderr);
      expect(byName.stderr).to.match(/refused \(insecure-transport\)/);
      expect(rec.connections()).to.equal(0);

      // Control: with --allow-http the client does try to connect (through the recorder).
      const allowed = await tufpip(['--data-dir', dataDir, 'fetch', '--index', 'testnet', '--allow-http', 'alpha', '-d', tmpDir('tufpip-dest-')], { env });
      expect(allowed.code).to.not.equal(0);
      expectCleanError(allowed.stderr);
      expect(allowed.stderr).to.match(/network/);
      expect(rec.connections()).to.be.greaterThan(0);
    } finally {
      await rec.close();
    }
  });
});
