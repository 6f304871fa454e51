// STYLE.md "Deterministic golden data" and "Crypto checked against published vectors and a second
// implementation": with the published demo keys in keys-example/ and a fixed `now`, `init`
// produces byte-identical metadata on every run (ed25519 is deterministic, RFC 8032), equal to the
// golden manifest in test/fixtures/golden-init.json (python-tuf tests/generated_data/generate_md.py
// does the same); every signature verifies with @tufjs/models' Key.verifySignature running its
// own upstream code, and with node:crypto over the reference canonical JSON; our signer
// reproduces the RFC 8032 test vectors.
//
// If the metadata format changes on purpose, regenerate the manifest with
//   TUFPIP_UPDATE_GOLDEN=1 npx mocha dist/test/repo-golden.test.js
// and review the diff of test/fixtures/golden-init.json.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { createHash, createPrivateKey, createPublicKey, verify as edVerify } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import type { JSONObject } from '@tufjs/models/dist/utils/types.js';
import { upstreamMethods, withUpstreamModels } from '../tuf/linear-models.js';
import { keyIdOf, type PublicKeyJson } from '../metadata/keys.js';
import { initRepo, type InitResult } from '../repo-tools/commands/init.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { PROJECT_ROOT } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

/** @tufjs/canonical-json's own canonicalize, whatever tuf/linear-models.ts installed since. */
const referenceCanonicalize = upstreamMethods[8] as (v: unknown) => string;

const NOW = new Date('2090-01-01T00:00:00Z');
const URL_ = 'https://pypi.example.org/';
const BINS = 16;
const KEY_NAMES = ['root-1', 'root-2', 'root-3', 'targets', 'claimed', 'bins', 'online'];
const KEYS_DIR = path.join(PROJECT_ROOT, 'keys-example');
const GOLDEN = path.join(PROJECT_ROOT, 'test', 'fixtures', 'golden-init.json');


/** Every file under dir: relative path -> sha256. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out[r] = createHash('sha256').update(fs.readFileSync(path.join(dir, r))).digest('hex');
    }
  };
  walk('');
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('repo: deterministic golden metadata (keys-example/, fixed now)', function () {
  this.timeout(60_000);
  let keys: string;
  const runs: { dir: string; result: InitResult }[] = [];

  before(async () => {
    for (const n of KEY_NAMES) {
      expect(fs.existsSync(path.join(KEYS_DIR, `${n}.pem`)), `keys-example/${n}.pem (made with tufpip-repo keygen)`).to.equal(true);
    }
    // A private copy of the demo keys: init must read them all and generate none.
    keys = path.join(tmpDir('tufpip-golden-keys-'), 'keys');
    fs.mkdirSync(keys, { mode: 0o700 });
    for (const f of fs.readdirSync(KEYS_DIR).filter((x) => /\.(pem|pub\.json)$/.test(x))) fs.copyFileSync(path.join(KEYS_DIR, f), path.join(keys, f));
    for (let i = 0; i < 2; i++) {
      const dir = path.join(tmpDir('tufpip-golden-'), 'repo');
      const result = await initRepo({ dir, url: URL_, bins: BINS, now: NOW, keysDir: keys });
      expect(result.generatedKeys).to.deep.equal([]);
      runs.push({ dir, result });
    }
  });

  const md = (file: string, run = 0) => fs.readFileSync(path.join(runs[run].dir, 'site', 'metadata', file));

  it('init produces byte-identical metadata and pages on two runs', () => {
    const [a, b] = runs.map((r) => hashes(path.join(r.dir, 'site')));
    // simple/index.html and its hash-named copy; root, timestamp, snapshot, targets, claimed,
    // recently-claimed, bins; every bin.
    expect(Object.keys(a)).to.have.length(2 + 7 + BINS);
    expect(b).to.deep.equal(a);
    expect(fs.readFileSync(path.join(runs[1].dir, 'config.json'), 'utf8')).to.equal(fs.readFileSync(path.join(runs[0].dir, 'config.json'), 'utf8'));
  });

  it('matches the golden manifest', () => {
    const site = hashes(path.join(runs[0].dir, 'site'));
    const manifest = {
      comment: 'sha256 of every file `initRepo` writes under site/ with keys-example/ and now below. Regenerate: TUFPIP_UPDATE_GOLDEN=1 (see test/repo-golden.test.ts).',
      now: NOW.toISOString(),
      url: URL_,
      bins: BINS,
      keyids: runs[0].result.keyids,
      files: site,
    };
    if (process.env.TUFPIP_UPDATE_GOLDEN) {
      fs.mkdirSync(path.dirname(GOLDEN), { recursive: true });
      fs.writeFileSync(GOLDEN, JSON.stringify(manifest, null, 2) + '\n');
    }
    expect(fs.existsSync(GOLDEN), `${GOLDEN} is missing: create it with TUFPIP_UPDATE_GOLDEN=1`).to.equal(true);
    const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as typeof manifest;
    expect(manifest.keyids, 'keys-example/ changed since the golden manifest was made').to.deep.equal(golden.keyids);
    expect(manifest.files, 'init output changed: if on purpose, regenerate with TUFPIP_UPDATE_GOLDEN=1 and review').to.deep.equal(golden.files);
  });

  it('uses the key IDs of the keys-example/*.pub.json files, computed per the spec', () => {
    const id = (n: string) => keyIdOf(JSON.parse(fs.readFileSync(path.join(KEYS_DIR, `${n}.pub.json`), 'utf8')) as PublicKeyJson);
    const k = runs[0].result.keyids;
    expect(k.root).to.deep.equal(['root-1', 'root-2', 'root-3'].map(id));
    expect(k.targets).to.deep.equal([id('targets')]);
    expect(k.claimed).to.deep.equal([id('claimed')]);
    expect(k.bins).to.deep.equal([id('bins')]);
    expect(k.online).to.deep.equal([id('online')]);
    const root = JSON.parse(md('1.root.json').toString()) as { signed: { keys: Record<string, PublicKeyJson> } };
    for (const [keyid, key] of Object.entries(root.signed.keys)) {
      expect(createHash('sha256').update(referenceCanonicalize({ keytype: key.keytype, scheme: key.scheme, keyval: key.keyval })).digest('hex')).to.equal(keyid);
    }
  });

  it('every file is canonical JSON and every signature verifies with @tufjs/models (upstream code) and node:crypto', () => {
    const files = fs.readdirSync(path.join(runs[0].dir, 'site', 'metadata'));
    const parsed = new Map<string, JSONObject>();
    for (const f of files) {
      const bytes = md(f);
      const json = JSON.parse(bytes.toString('utf8')) as JSONObject;
      expect(referenceCanonicalize(json), `${f} is canonical JSON`).to.equal(bytes.toString('utf8'));
      parsed.set(f, json);
    }
    const signedBy: [file: string, kind: MetadataKind, delegator: string | 'self', role: string][] = [
      ['1.root.json', MetadataKind.Root, 'self', 'root'],
      ['timestamp.json', MetadataKind.Timestamp, '1.root.json', 'timestamp'],
      ['1.snapshot.json', MetadataKind.Snapshot, '1.root.json', 'snapshot'],
      ['1.targets.json', MetadataKind.Targets, '1.root.json', 'targets'],
      ['1.claimed.json', MetadataKind.Targets, '1.targets.json', 'claimed'],
      ['1.recently-claimed.json', MetadataKind.Targets, '1.targets.json', 'recently-claimed'],
      ['1.bins.json', MetadataKind.Targets, '1.targets.json', 'bins'],
      ...Array.from({ length: BINS }, (_, i) => [`1.bin-${i.toString(16)}.json`, MetadataKind.Targets, '1.bins.json', `bin-${i.toString(16)}`] as [string, MetadataKind, string, string]),
    ];
    expect(signedBy.map(([f]) => f).sort()).to.deep.equal([...files].sort());

    withUpstreamModels(() => {
      const load = (f: string, kind: MetadataKind) => Metadata.fromJSON(kind as MetadataKind.Targets, structuredClone(parsed.get(f)!)) as Metadata<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const [file, kind, delegatorFile, role] of signedBy) {
        const m = load(file, kind);
        const delegator = delegatorFile === 'self' ? m : load(delegatorFile, delegatorFile === '1.root.json' ? MetadataKind.Root : MetadataKind.Targets);
        // Threshold check, the way a client walks the graph.
        delegator.verifyDelegate(role, m);
        // Each listed key's signature on its own (Key.verifySignature), and by node:crypto over
        // the reference canonical JSON of the signed part.
        const signed = delegator.signed as { keys?: Record<string, { verifySignature(x: unknown): void; keyVal: { public: string } }>; roles?: Record<string, { keyIDs: string[] }>; delegations?: { keys: Record<string, { verifySignature(x: unknown): void; keyVal: { public: string } }>; roles?: Record<string, { keyIDs: string[] }>; succinctRoles?: { keyIDs: string[] } } };
        const keysOf = signed.keys ?? signed.delegations!.keys;
        const keyIDs = (signed.roles ?? signed.delegations?.roles)?.[role]?.keyIDs ?? signed.delegations!.succinctRoles!.keyIDs;
        const envelope = parsed.get(file) as { signed: unknown; signatures: { keyid: string; sig: string }[] };
        expect(envelope.signatures.map((s) => s.keyid).sort(), file).to.deep.equal([...keyIDs].sort());
        for (const id of keyIDs) {
          keysOf[id].verifySignature(m);
          const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keysOf[id].keyVal.public, 'hex')]);
          const sig = envelope.signatures.find((s) => s.keyid === id)!.sig;
          const ok = edVerify(null, Buffer.from(referenceCanonicalize(envelope.signed)), createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(sig, 'hex'));
          expect(ok, `${file}: signature by ${id.slice(0, 8)}`).to.equal(true);
        }
      }
      // Negative control: one changed value in the signed part fails the same check.
      const tampered = structuredClone(parsed.get('1.targets.json')!) as { signed: { version: number } };
      tampered.signed.version = 2;
      const t = Metadata.fromJSON(MetadataKind.Targets, tampered as unknown as JSONObject);
      expect(() => load('1.root.json', MetadataKind.Root).verifyDelegate('targets', t)).to.throw(/targets was signed by 0\/1 keys/);
      const targetsKey = Object.values((load('1.root.json', MetadataKind.Root).signed as Root).keys).find((k) => k.keyID === runs[0].result.keyids.targets[0])!;
      expect(() => targetsKey.verifySignature(t)).to.throw(/failed to verify/);
    });
  });

  it('expiries are the fixed now plus the configured periods', () => {
    const exp = (f: string) => (JSON.parse(md(f).toString()) as { signed: { expires: string } }).signed.expires;
    const plus = (days: number) => new Date(NOW.getTime() + days * 86400_000).toISOString().replace('.000Z', 'Z');
    expect(exp('1.root.json')).to.equal(plus(365));
    expect(exp('timestamp.json')).to.equal(plus(1));
    expect(exp('1.snapshot.json')).to.equal(plus(7));
    expect(exp('1.bin-0.json')).to.equal(plus(7));
    expect(exp('1.bins.json')).to.equal(plus(365));
  });

  it('our ed25519 signer reproduces the RFC 8032 test vectors (TEST 1 and TEST 2)', async () => {
    const vectors = [
      {
        seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
        pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
        msg: '',
        sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      },
      {
        seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
        pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
        msg: '72',
        sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
      },
    ];
    for (const v of vectors) {
      const der = Buffer.from(`302e020100300506032b657004220420${v.seed}`, 'hex');
      const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
      const signer = privateKeyFromPem(pem, 'RFC 8032 vector');
      expect(signer.publicKey.keyval.public).to.equal(v.pub);
      expect(await signer.sign(Buffer.from(v.msg, 'hex'))).to.equal(v.sig);
      expect(signer.keyid).to.equal(createHash('sha256').update(referenceCanonicalize({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: v.pub } })).digest('hex'));
    }
  });
});
