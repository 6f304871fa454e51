// The transaction's self-check (DESIGN.md "Publishing rules"; repo-tools/txn/self-check.ts and
// snapshot-edit-check.ts): before timestamp.json is replaced, what is about to be published is
// verified the way a client would. Each row builds the inputs of one transaction on a real
// repository (its keys, its published files), damages one thing, and expects a SELF_CHECK
// refusal; the honest rows pass. Both snapshot paths are covered: edited as text (an add) and
// built in full (a new role, or a published snapshot not in tufpip's shape).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { makeRepo, expectOk, type TestRepo } from './helpers/repo.js';
import { tufpipRepo } from './helpers/cli.js';
import { writeWheel } from './helpers/wheels.js';
import { addFiles } from '../repo-tools/commands/add.js';
import { RepoLayout } from '../repo-tools/storage/layout.js';
import { Published } from '../repo-tools/storage/published.js';
import { LocalDiskStorage } from '../repo-tools/storage/local-disk.js';
import { loadSigner, privateKeyFromPem, type Signer } from '../repo-tools/keys/signer.js';
import { generateKey } from '../repo-tools/keys/keygen.js';
import { selfCheck, type SelfCheckInput } from '../repo-tools/txn/self-check.js';
import { signRole } from '../repo-tools/txn/transaction.js';
import { buildTargets, buildTimestamp, canonicalSnapshot } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { SnapshotText } from '../metadata/snapshot-text.js';
import { TufpipError } from '../metadata/errors.js';
import { sha256 } from './helpers/hash.js';

const inDays = (d: number) => new Date(Date.now() + d * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A transaction's self-check input around a new snapshot: a new timestamp naming `named` (default: the snapshot's bytes) at `version`. */
async function inputFor(
  pub: Published,
  signer: Signer,
  o: { snapshotBytes: Buffer; version: number; named?: Buffer; snapshot: SelfCheckInput['snapshot']; changedRoles: Map<string, Buffer> },
): Promise<SelfCheckInput> {
  const named = o.named ?? o.snapshotBytes;
  const timestampBytes = await signRole(canonicalize(buildTimestamp(pub.timestamp.signed.version + 1, inDays(1), { version: o.version, length: named.length, sha256: sha256(named) })), [signer]);
  return {
    rootBytes: pub.rootBytes,
    oldTimestampBytes: pub.timestampBytes,
    newTimestampBytes: timestampBytes,
    snapshotBytes: o.snapshotBytes,
    snapshotChanged: true,
    snapshot: o.snapshot,
    changedRoles: o.changedRoles,
    roleBytes: async (r) => (await pub.role(r)).bytes,
  };
}

interface Knobs {
  /** Edits the snapshot's signed text before it is signed. */
  text?: (signed: string) => string;
  /** Replaces the snapshot file after signing (the timestamp still names what is published). */
  file?: (bytes: Buffer) => Buffer;
  snapshotSigners?: 'online' | 'other' | 'none';
  /** The edits the self-check is told about (default: the real one). */
  claimed?: (real: Map<string, number>) => Map<string, number>;
  binVersion?: (v: number) => number;
  snapshotExpires?: string;
  /** Version the timestamp names (default: the snapshot's own). */
  timestampNames?: (v: number) => number;
  /** The timestamp names the hash of other bytes. */
  timestampHashOf?: (bytes: Buffer) => Buffer;
}

describe('repo: the self-check refuses what a client would refuse', function () {
  this.timeout(120_000);
  let repo: TestRepo;
  let layout: RepoLayout;
  let online: Signer;
  let other: Signer;
  /** A bin the add of alpha changed (version 2 or more), so that rolling it back to 1 is a rollback. */
  let BIN = '';

  before(async () => {
    repo = await makeRepo({ bins: 16, wheels: [{ name: 'alpha', version: '1.0' }, { name: 'beta', version: '1.0' }, { name: 'gamma', version: '2.0' }] });
    layout = new RepoLayout(repo.dir);
    await layout.loadConfig();
    online = await loadSigner('file:keys/online.pem', { baseDir: repo.dir });
    other = privateKeyFromPem(generateKey().pem, 'a test key');
    const pub = await Published.load(layout, new LocalDiskStorage(layout));
    BIN = [...pub.versions].find(([f, v]) => f.startsWith('bin-') && v >= 2)![0].slice(0, -'.json'.length);
  });

  /** The inputs of an `add` that re-signs BIN, with one knob turned. */
  async function editedInput(k: Knobs = {}): Promise<SelfCheckInput> {
    const pub = await Published.load(layout, new LocalDiskStorage(layout));
    const prev = pub.snapshotText!;
    expect(prev, 'the published snapshot is in tufpip\'s shape').to.not.equal(undefined);
    const cur = await pub.role(BIN);
    const binVersion = (k.binVersion ?? ((v) => v))(cur.version + 1);
    const binBytes = await signRole(canonicalize(buildTargets(binVersion, inDays(7), cur.signed.targets, cur.signed.delegations)), [online]);
    const edits = new Map([[`${BIN}.json`, cur.version + 1]]);
    const version = prev.version + 1;
    let signed = prev.next(version, k.snapshotExpires ?? inDays(7), edits)!;
    if (k.text) signed = k.text(signed);
    const signers = { online: [online], other: [other], none: [] }[k.snapshotSigners ?? 'online'];
    let snapshotBytes = await signRole(signed, signers);
    if (k.file) snapshotBytes = k.file(snapshotBytes);
    return inputFor(pub, online, {
      snapshotBytes,
      version: (k.timestampNames ?? ((v) => v))(version),
      named: (k.timestampHashOf ?? ((b) => b))(snapshotBytes),
      snapshot: { oldSnapshot: prev, edits: (k.claimed ?? ((e) => e))(edits) },
      changedRoles: new Map([[BIN, binBytes]]),
    });
  }

  async function expectRefused(input: SelfCheckInput, message: RegExp): Promise<void> {
    const err = await selfCheck(input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'refused').to.be.instanceOf(TufpipError);
    expect((err as TufpipError).code).to.equal('SELF_CHECK');
    expect((err as Error).message).to.match(message);
    expect((err as Error).message).to.match(/nothing was published/);
  }

  describe('a snapshot edited as text (an add: a few versions change)', () => {
    it('honest: passes', async () => {
      await selfCheck(await editedInput());
    });

    const cases: Record<string, [Knobs, RegExp]> = {
      'signed by a key root does not trust for snapshot (TUF spec 5.5.3)': [{ snapshotSigners: 'other' }, /signed by 0 of the root's snapshot keys, threshold 1/],
      'its signature dropped (5.5.3)': [{ snapshotSigners: 'none' }, /signed by 0 of the root's snapshot keys/],
      'a byte changed after signing, the timestamp naming the changed bytes (5.5.3)': [
        { file: (b) => Buffer.from(b.toString('latin1').replace(/"bin-7\.json":\{"version":(\d+)\}/, (_m, v: string) => `"bin-7.json":{"version":${Number(v) + 1}}`), 'latin1') },
        /signed by 0 of the root's snapshot keys/,
      ],
      'the file differs from what the timestamp names (5.5.2)': [{ timestampHashOf: (b) => Buffer.concat([b, Buffer.from(' ')]) }, /snapshot|length|hash/i],
      'another entry changed too, validly signed (5.5.5: nothing but the edits may change)': [
        { text: (t) => t.replace(/"bin-7\.json":\{"version":(\d+)\}/, (_m, v: string) => `"bin-7.json":{"version":${Number(v) + 1}}`) },
        /entries other than the edited ones differ/,
      ],
      'an entry dropped, validly signed (5.5.5)': [{ text: (t) => t.replace(/"bin-7\.json":\{"version":\d+\},/, '') }, /entries other than the edited ones differ/],
      'the edited entry rolled back, validly signed (5.5.5)': [
        { text: (t) => t.replace(new RegExp(`"${BIN}\\.json":\\{"version":\\d+\\}`), `"${BIN}.json":{"version":1}`), claimed: (e) => new Map([...e].map(([k]) => [k, 1])) },
        /goes back from version \d+ to 1/,
      ],
      'the self-check told another version than the text holds': [{ claimed: (e) => new Map([...e].map(([k, v]) => [k, v + 1])) }, /is at version \d+, expected \d+/],
      'not in canonical form (a space), validly signed over that text': [{ text: (t) => t.replace('"meta":{', '"meta": {') }, /not in canonical form/],
      'a version other than the timestamp names (5.5.4)': [{ timestampNames: (v) => v + 1 }, /version \d+, the timestamp names \d+/],
      'expired (5.5.6)': [{ snapshotExpires: '2001-01-01T00:00:00Z' }, /expired/i],
      'the changed bin at a version other than the snapshot lists (5.6.4)': [{ binVersion: (v) => v + 1 }, /does not match snapshot version/],
    };
    for (const [name, [knobs, message]] of Object.entries(cases)) {
      it(`refuses: ${name}`, async () => {
        await expectRefused(await editedInput(knobs), message);
      });
    }
  });

  describe('a snapshot built in full', () => {
    async function fullInput(damage?: (versions: Map<string, number>) => void): Promise<SelfCheckInput> {
      const pub = await Published.load(layout, new LocalDiskStorage(layout));
      const newVersions = new Map(pub.versions);
      const cur = await pub.role(BIN);
      const binBytes = await signRole(canonicalize(buildTargets(cur.version + 1, inDays(7), cur.signed.targets, cur.signed.delegations)), [online]);
      newVersions.set(`${BIN}.json`, cur.version + 1);
      damage?.(newVersions);
      const snapshotBytes = await signRole(canonicalSnapshot(pub.snapshotVersion + 1, inDays(7), newVersions), [online]);
      return inputFor(pub, online, { snapshotBytes, version: pub.snapshotVersion + 1, snapshot: { oldVersions: pub.versions, newVersions }, changedRoles: new Map([[BIN, binBytes]]) });
    }
    it('honest: passes', async () => {
      await selfCheck(await fullInput());
    });
    it('refuses a role dropped (5.5.5)', async () => {
      await expectRefused(await fullInput((v) => v.delete('bin-7.json')), /it drops bin-7\.json/);
    });
    it('refuses a role rolled back (5.5.5)', async () => {
      // Another bin alpha's add changed (version 2 or more), back to version 1.
      const pub = await Published.load(layout, new LocalDiskStorage(layout));
      const victim = [...pub.versions].find(([f, v]) => f.startsWith('bin-') && v >= 2 && f !== `${BIN}.json`)![0];
      await expectRefused(await fullInput((v) => v.set(victim, 1)), new RegExp(`rolls ${victim.replace('.', '\\.')} back`));
    });
  });

  describe('thousands of bins (a share verified in a worker thread)', () => {
    let big: TestRepo;
    let bigLayout: RepoLayout;
    before(async () => {
      big = await makeRepo({ bins: 4096 });
      bigLayout = new RepoLayout(big.dir);
      await bigLayout.loadConfig();
    });
    /** Every bin re-signed at version + 1 (a bump of every bin); `bad` gets another version. */
    async function allBins(bad?: string): Promise<{ input: SelfCheckInput; bins: string[] }> {
      const pub = await Published.load(bigLayout, new LocalDiskStorage(bigLayout));
      const signer = await loadSigner('file:keys/online.pem', { baseDir: big.dir });
      const newVersions = new Map(pub.versions);
      const changedRoles = new Map<string, Buffer>();
      const bins = [...pub.versions.keys()].filter((f) => f.startsWith('bin-')).map((f) => f.slice(0, -'.json'.length));
      for (const b of bins) {
        const cur = await pub.role(b);
        changedRoles.set(b, await signRole(canonicalize(buildTargets(cur.version + (b === bad ? 2 : 1), inDays(7), cur.signed.targets)), [signer]));
        newVersions.set(`${b}.json`, cur.version + 1);
      }
      const snapshotBytes = await signRole(canonicalSnapshot(pub.snapshotVersion + 1, inDays(7), newVersions), [signer]);
      const input = await inputFor(pub, signer, { snapshotBytes, version: pub.snapshotVersion + 1, snapshot: { oldVersions: pub.versions, newVersions }, changedRoles });
      return { input, bins };
    }
    it('honest: passes', async () => {
      await selfCheck((await allBins()).input);
    });
    it('refuses a bin at the wrong version in a worker thread\'s share, naming it', async () => {
      const { bins } = await allBins();
      // Bins are dealt out in turn: the second goes to the first worker (the first stays here).
      const victim = bins[1];
      await expectRefused((await allBins(victim)).input, new RegExp(`\\(${victim}: BadVersionError: Version \\d+ of ${victim} does not match snapshot version`));
    });
    it('refuses a bin at the wrong version in this thread\'s share too', async () => {
      const { bins } = await allBins();
      await expectRefused((await allBins(bins[0])).input, /does not match snapshot version/);
    });
  });

  it('add: a published snapshot not in tufpip\'s shape (pretty-printed, validly signed) takes the full path and publishes a canonical one', async () => {
    const r = await makeRepo({ bins: 8, wheels: [{ name: 'beta', version: '1.0' }] });
    const l = new RepoLayout(r.dir);
    await l.loadConfig();
    const pub = await Published.load(l, new LocalDiskStorage(l));
    const signer = await loadSigner('file:keys/online.pem', { baseDir: r.dir });
    // Same signed content, another serialisation: clients accept it (the signature covers the
    // canonical form), the text path does not recognise it.
    const snapFile = l.metadataFile(`${pub.snapshotVersion}.snapshot.json`);
    const pretty = Buffer.from(JSON.stringify(JSON.parse(fs.readFileSync(snapFile, 'utf8')), null, 2));
    expect(SnapshotText.fromBytes(pretty)).to.equal(undefined);
    fs.writeFileSync(snapFile, pretty);
    const ts = pub.timestamp.signed;
    fs.writeFileSync(
      l.metadataFile('timestamp.json'),
      await signRole(canonicalize(buildTimestamp(ts.version, ts.expires, { version: pub.snapshotVersion, length: pretty.length, sha256: sha256(pretty) })), [signer]),
    );
    expectOk(await tufpipRepo(['verify', r.dir]), 'verify of the pretty-printed state');
    const w = await writeWheel(path.join(r.wheelsDir, 'more'), { name: 'gamma', version: '1.0' });
    expect((await addFiles(r.dir, [w])).commit.snapshotBuilt).to.equal('in-full');
    const after = await Published.load(l, new LocalDiskStorage(l));
    expect(after.snapshotVersion).to.equal(pub.snapshotVersion + 1);
    expect(after.snapshotText, 'the new snapshot is canonical again').to.not.equal(undefined);
    expectOk(await tufpipRepo(['verify', r.dir]), 'verify after the add');
    // ... and the next add edits it as text.
    const w2 = await writeWheel(path.join(r.wheelsDir, 'more'), { name: 'gamma', version: '1.1' });
    expect((await addFiles(r.dir, [w2])).commit.snapshotBuilt).to.equal('edited');
    expectOk(await tufpipRepo(['verify', r.dir]), 'verify after the second add');
  });
});
