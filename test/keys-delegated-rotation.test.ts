// Issue 5 "Rotation and recovery": replacing the keys of targets, bins, claimed and the online key
// (PEP 458 "In the Event of a Key Compromise"), as a scenario table. Each case runs the ceremony
// in two steps on one repository: first without its last proposal, which `publish` must refuse
// (exit 1, nothing changed: a re-keyed delegator whose delegate is not re-signed, or no single
// online key for every online role), then complete, after which a tuf-js client that trusted root
// v1 and cached metadata signed by the old keys updates and downloads a package, a fresh client
// does too, `verify` passes and the cron job (`bump`) keeps working.
// Then: metadata signed with a stolen online key is refused once that key is replaced.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { buildTimestamp, serializeEnvelope, type Envelope, type RootSigned, type TargetsSigned, type TimestampSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { sha256Hex } from '../metadata/hash.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';
import { writeWheel } from './helpers/wheels.js';
import { CachedClient, ceremony, errorName, initWithRootKeys, keyPool, type CeremonyRepo, type PoolKey } from './helpers/ceremony.js';

type Step = { role: string; args: string[]; signers: string[] };

interface DelegatedCase {
  steps: (r: CeremonyRepo, k: PoolKey[]) => Step[];
  publishArgs?: (r: CeremonyRepo, k: PoolKey[]) => string[];
  /** publish without the last step is refused with this. */
  refused: RegExp;
  /** What the published metadata must say afterwards. */
  check: (r: CeremonyRepo, k: PoolKey[]) => void;
}

const WHEEL = 'packages/alpha/alpha-1.0-py3-none-any.whl';
const readEnv = <T>(r: CeremonyRepo, file: string) => JSON.parse(fs.readFileSync(path.join(r.metadataDir, file), 'utf8')) as Envelope & { signed: T };
const published = (r: CeremonyRepo) => {
  const ts = readEnv<TimestampSigned>(r, 'timestamp.json');
  const snap = readEnv<{ meta: Record<string, { version: number }> }>(r, `${ts.signed.meta['snapshot.json'].version}.snapshot.json`);
  return { ts, snap, role: <T = TargetsSigned>(name: string) => readEnv<T>(r, `${snap.signed.meta[`${name}.json`].version}.${name}.json`) };
};
const root = (r: CeremonyRepo, v: number) => readEnv<RootSigned>(r, `${v}.root.json`).signed;
const signers = (e: Envelope) => e.signatures.map((s) => s.keyid);

const cases: Record<string, DelegatedCase> = {
  'targets key replaced: root lists the new key, targets is re-signed by it': {
    steps: (r, k) => [
      { role: 'root', args: ['--role-key', `targets=${k[3].pub}`], signers: [k[0].pem, k[1].pem] },
      { role: 'targets', args: [], signers: [k[3].pem] },
    ],
    refused: /root v2 changes the targets keys, and the published targets v1 is not signed by them \(TUF spec 5\.6\.3\)/,
    check: (r, k) => {
      expect(root(r, 2).roles.targets).to.deep.equal({ keyids: [k[3].keyid], threshold: 1 });
      expect(signers(published(r).role('targets'))).to.deep.equal([k[3].keyid]);
    },
  },
  'targets threshold raised to 2 of 2 (PEP 458 recommends (2, 2) for targets)': {
    steps: (r, k) => [
      { role: 'root', args: ['--role-key', `targets=${k[3].pub}`, '--role-key', `targets=${k[4].pub}`, '--role-threshold', 'targets=2'], signers: [k[0].pem, k[2].pem] },
      { role: 'targets', args: [], signers: [k[3].pem, k[4].pem] },
    ],
    refused: /root v2 changes the targets keys, and the published targets v1 is not signed by them/,
    check: (r, k) => {
      expect(root(r, 2).roles.targets).to.deep.equal({ keyids: [k[3].keyid, k[4].keyid], threshold: 2 });
      expect(signers(published(r).role('targets')).sort()).to.deep.equal([k[3].keyid, k[4].keyid].sort());
    },
  },
  'bins key replaced: targets delegates bins to the new key, bins is re-signed by it': {
    steps: (r, k) => [
      { role: 'targets', args: ['--role-key', `bins=${k[3].pub}`], signers: [r.key('targets')] },
      { role: 'bins', args: [], signers: [k[3].pem] },
    ],
    refused: /targets v2 changes the bins keys, and the published bins v1 is not signed by them/,
    check: (r, k) => {
      const t = published(r).role('targets').signed;
      expect(t.delegations!.roles!.find((d) => d.name === 'bins')!.keyids).to.deep.equal([k[3].keyid]);
      expect(signers(published(r).role('bins'))).to.deep.equal([k[3].keyid]);
    },
  },
  'claimed key replaced: targets delegates claimed to the new key, claimed is re-signed by it': {
    steps: (r, k) => [
      { role: 'targets', args: ['--role-key', `claimed=${k[3].pub}`], signers: [r.key('targets')] },
      { role: 'claimed', args: [], signers: [k[3].pem] },
    ],
    refused: /targets v2 changes the claimed keys, and the published claimed v1 is not signed by them/,
    check: (r, k) => {
      expect(signers(published(r).role('claimed'))).to.deep.equal([k[3].keyid]);
    },
  },
  'online key replaced: root (timestamp, snapshot), targets (recently-claimed), bins (every bin); publish re-signs them all': {
    steps: (r, k) => [
      { role: 'root', args: ['--role-key', `online=${k[5].pub}`], signers: [k[1].pem, k[2].pem] },
      { role: 'targets', args: ['--role-key', `online=${k[5].pub}`], signers: [r.key('targets')] },
      { role: 'bins', args: ['--role-key', `online=${k[5].pub}`], signers: [r.key('bins')] },
    ],
    publishArgs: (r, k) => ['--online-key', `file:${k[5].pem}`],
    refused: /no single online key would be trusted for timestamp, snapshot, recently-claimed and every bin .*bin-\*: [0-9a-f]{8} \(threshold 1, bins v1\)/,
    check: (r, k) => onlineRolesSignedBy(r, k[5].keyid),
  },
  'PEP 458 compromise recovery: targets, bins and online keys all replaced in one publish': {
    steps: (r, k) => [
      { role: 'root', args: ['--role-key', `targets=${k[3].pub}`, '--role-key', `online=${k[5].pub}`], signers: [k[0].pem, k[1].pem] },
      { role: 'targets', args: ['--role-key', `bins=${k[4].pub}`, '--role-key', `online=${k[5].pub}`], signers: [k[3].pem] },
      { role: 'bins', args: ['--role-key', `online=${k[5].pub}`], signers: [k[4].pem] },
    ],
    publishArgs: (r, k) => ['--online-key', `file:${k[5].pem}`],
    refused: /targets v2 changes the bins keys, and the published bins v1 is not signed by them/,
    check: (r, k) => {
      onlineRolesSignedBy(r, k[5].keyid);
      expect(signers(published(r).role('targets'))).to.deep.equal([k[3].keyid]);
      expect(signers(published(r).role('bins'))).to.deep.equal([k[4].keyid]);
    },
  },
};

/** Every online role as published is signed by `keyid` alone, and config.json names that key. */
function onlineRolesSignedBy(r: CeremonyRepo, keyid: string): void {
  const p = published(r);
  expect(signers(p.ts)).to.deep.equal([keyid]);
  expect(signers(p.snap)).to.deep.equal([keyid]);
  for (const name of Object.keys(p.snap.signed.meta).map((f) => f.replace(/\.json$/, ''))) {
    if (/^bin-/.test(name) || name === 'recently-claimed') expect(signers(p.role(name)), name).to.deep.equal([keyid]);
  }
  const cfg = JSON.parse(fs.readFileSync(path.join(r.dir, 'config.json'), 'utf8')) as { onlineSigner: string };
  expect(cfg.onlineSigner).to.match(/^file:/);
  // config.json's file: paths are relative to the repository.
  expect(privateKeyFromPem(fs.readFileSync(path.resolve(r.dir, cfg.onlineSigner.slice(5)), 'utf8'), 'online').keyid).to.equal(keyid);
}

async function repoWithWheel(pool: PoolKey[]): Promise<{ repo: CeremonyRepo; wheel: Buffer }> {
  const repo = await initWithRootKeys([pool[0], pool[1], pool[2]], 2);
  const file = await writeWheel(path.join(repo.dir, '..', 'dists'), { name: 'alpha', version: '1.0' });
  expectOk(await tufpipRepo(['add', repo.dir, file]), 'add');
  return { repo, wheel: fs.readFileSync(file) };
}

describe('keys: replacing targets, bins, claimed and online keys', function () {
  this.timeout(120_000);
  let pool: PoolKey[];
  before(async () => {
    pool = await keyPool(6);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const { repo, wheel } = await repoWithWheel(pool);
      const client = new CachedClient(repo, repo.root1);
      expect((await client.download(WHEEL)).equals(wheel)).to.equal(true);
      const steps = c.steps(repo, pool);
      const publishArgs = c.publishArgs?.(repo, pool) ?? [];

      // Without the last proposal: refused, nothing changed (pending files included).
      const tree = snapshotTree(repo.dir);
      const early = await ceremony(repo, steps.slice(0, -1), publishArgs);
      expect(early.code, early.stdout).to.equal(1);
      expect(early.stderr).to.match(/nothing was published/);
      expect(early.stderr).to.match(c.refused);
      const after = diffTrees(tree, snapshotTree(repo.dir)).filter((l) => !/ pending(\/|$)/.test(l));
      expect(after, 'only pending/ changed').to.deep.equal([]);
      // `pending` says the same before anyone publishes.
      const report = JSON.parse(expectOk(await tufpipRepo(['pending', repo.dir, '--json']), 'pending').stdout) as { blockers: string[] };
      expect(report.blockers.join('\n')).to.match(c.refused);

      // Complete: published together.
      const done = expectOk(await ceremony(repo, steps.slice(-1), publishArgs), 'publish');
      for (const s of steps) expect(done.stdout).to.match(new RegExp(`published ${s.role} v2`));
      expect(fs.readdirSync(path.join(repo.dir, 'pending'))).to.deep.equal([]);
      c.check(repo, pool);

      // The client that trusted root v1 and cached metadata under the old keys follows.
      expect((await client.download(WHEEL)).equals(wheel)).to.equal(true);
      const fresh = new CachedClient(repo, repo.root1);
      expect((await fresh.download(WHEEL)).equals(wheel)).to.equal(true);
      expectOk(await tufpipRepo(['verify', repo.dir]), 'verify');
      // The cron job signs with the online key config.json names, and clients accept it.
      expectOk(await tufpipRepo(['bump', repo.dir, '--force']), 'bump --force');
      expect((await client.download(WHEEL)).equals(wheel)).to.equal(true);
    });
  }

  describe('an interrupted publish is finished by running publish again', () => {
    const rotate = (k: PoolKey[], r: CeremonyRepo): Step[] => [
      { role: 'root', args: ['--role-key', `online=${k[5].pub}`], signers: [k[0].pem, k[1].pem] },
      { role: 'targets', args: ['--role-key', `online=${k[5].pub}`], signers: [r.key('targets')] },
      { role: 'bins', args: ['--role-key', `online=${k[5].pub}`], signers: [r.key('bins')] },
    ];
    const pendingCopy = (r: CeremonyRepo) => Object.fromEntries(fs.readdirSync(path.join(r.dir, 'pending')).map((f) => [f, fs.readFileSync(path.join(r.dir, 'pending', f))]));

    it('killed after the new root was written, before timestamp.json: the rest is published on the next run', async () => {
      const { repo, wheel } = await repoWithWheel(pool);
      const steps = rotate(pool, repo);
      for (const s of steps) {
        expectOk(await tufpipRepo(['propose', repo.dir, '--role', s.role, ...s.args]), 'propose');
        for (const key of s.signers) expectOk(await tufpipRepo(['sign', path.join(repo.dir, 'pending', `${s.role}.json`), '--key', key]), 'sign');
      }
      // A twin of the repository publishes; the original gets only its 2.root.json, as if the
      // publishing process had died right after writing it (the order of Transaction.commit).
      const twin = path.join(repo.dir, '..', 'twin');
      fs.cpSync(repo.dir, twin, { recursive: true });
      expectOk(await tufpipRepo(['publish', twin, '--online-key', `file:${pool[5].pem}`]), 'publish twin');
      fs.copyFileSync(path.join(twin, 'site', 'metadata', '2.root.json'), path.join(repo.metadataDir, '2.root.json'));
      // Clients following 2.root.json now refuse the old key's timestamp: the index is stuck until
      // publish runs again (it names what is already done).
      expect(errorName(await new CachedClient(repo, repo.root1).refresh())).to.equal('UnsignedMetadataError');
      const r = expectOk(await tufpipRepo(['publish', repo.dir, '--online-key', `file:${pool[5].pem}`]), 'publish again');
      expect(r.stdout).to.match(/already published by an interrupted earlier run, now finished: root/);
      expect(r.stdout).to.match(/published targets v2/);
      expect(r.stdout).to.match(/published bins v2/);
      onlineRolesSignedBy(repo, pool[5].keyid);
      expect(fs.readdirSync(path.join(repo.dir, 'pending'))).to.deep.equal([]);
      const client = new CachedClient(repo, repo.root1);
      expect((await client.download(WHEEL)).equals(wheel)).to.equal(true);
      expectOk(await tufpipRepo(['verify', repo.dir]), 'verify');
    });

    it('killed after the commit, before config.json and the pending files were updated: publish again finishes it', async () => {
      const { repo, wheel } = await repoWithWheel(pool);
      const steps = rotate(pool, repo);
      const config = fs.readFileSync(path.join(repo.dir, 'config.json'));
      for (const s of steps) {
        expectOk(await tufpipRepo(['propose', repo.dir, '--role', s.role, ...s.args]), 'propose');
        for (const key of s.signers) expectOk(await tufpipRepo(['sign', path.join(repo.dir, 'pending', `${s.role}.json`), '--key', key]), 'sign');
      }
      const files = pendingCopy(repo);
      // --online-key with a path relative to the current directory; config.json gets it relative to the repository.
      const keyDir = path.dirname(pool[5].pem);
      expectOk(await tufpipRepo(['publish', repo.dir, '--online-key', `file:${path.basename(pool[5].pem)}`], { cwd: keyDir }), 'publish');
      const saved = (JSON.parse(fs.readFileSync(path.join(repo.dir, 'config.json'), 'utf8')) as { onlineSigner: string }).onlineSigner;
      expect(saved).to.equal(`file:${path.relative(repo.dir, pool[5].pem)}`);
      const ts = fs.readFileSync(path.join(repo.metadataDir, 'timestamp.json'));
      // Back to the moment after the commit.
      fs.writeFileSync(path.join(repo.dir, 'config.json'), config);
      for (const [f, b] of Object.entries(files)) fs.writeFileSync(path.join(repo.dir, 'pending', f), b);
      const bump = await tufpipRepo(['bump', repo.dir, '--force']);
      expect(bump.code).to.equal(1);
      expect(bump.stderr).to.match(/is not the online key root trusts/);
      const r = expectOk(await tufpipRepo(['publish', repo.dir, '--online-key', `file:${pool[5].pem}`]), 'publish again');
      expect(r.stdout).to.match(/already published by an interrupted earlier run, now finished: root, targets, bins/);
      expect(fs.readFileSync(path.join(repo.metadataDir, 'timestamp.json')).equals(ts), 'nothing new was published').to.equal(true);
      expect(fs.readdirSync(path.join(repo.dir, 'pending'))).to.deep.equal([]);
      onlineRolesSignedBy(repo, pool[5].keyid);
      expectOk(await tufpipRepo(['bump', repo.dir, '--force']), 'bump with the new key');
      expect((await new CachedClient(repo, repo.root1).download(WHEEL)).equals(wheel)).to.equal(true);
    });
  });

  describe('a stolen online key, once replaced, signs nothing clients accept', () => {
    let repo: CeremonyRepo;
    let wheel: Buffer;
    let client: CachedClient;

    /** timestamp.json for the current snapshot, version = published + 1, signed by `pem`. */
    function craftTimestamp(pem: string): Buffer {
      const p = published(repo);
      const snapVersion = p.ts.signed.meta['snapshot.json'].version;
      const snapBytes = fs.readFileSync(path.join(repo.metadataDir, `${snapVersion}.snapshot.json`));
      const signed = buildTimestamp(p.ts.signed.version + 1, p.ts.signed.expires, { version: snapVersion, length: snapBytes.length, sha256: sha256Hex(snapBytes) });
      const signer = privateKeyFromPem(fs.readFileSync(pem, 'utf8'), pem);
      const text = canonicalize(signed);
      return Buffer.from(serializeEnvelope(text, [{ keyid: signer.keyid, sig: signer.signSync(Buffer.from(text, 'utf8')) }]), 'utf8');
    }

    before(async () => {
      ({ repo, wheel } = await repoWithWheel(pool));
      client = new CachedClient(repo, repo.root1);
      expect((await client.download(WHEEL)).equals(wheel)).to.equal(true);
    });

    it('before the rotation, a timestamp crafted with the online key is accepted (the control)', async () => {
      const good = fs.readFileSync(path.join(repo.metadataDir, 'timestamp.json'));
      const crafted = craftTimestamp(repo.key('online'));
      fs.writeFileSync(path.join(repo.metadataDir, 'timestamp.json'), crafted);
      const probe = new CachedClient(repo, repo.root1);
      expect(await probe.refresh()).to.equal(undefined);
      expect(probe.trustedTimestampVersion()).to.equal(published(repo).ts.signed.version);
      fs.writeFileSync(path.join(repo.metadataDir, 'timestamp.json'), good);
    });

    it('after root, targets and bins name a new online key, the old key\'s timestamp is refused (TUF spec 5.4.2)', async () => {
      const k = pool;
      const r = await ceremony(repo, [
        { role: 'root', args: ['--role-key', `online=${k[5].pub}`], signers: [k[0].pem, k[1].pem] },
        { role: 'targets', args: ['--role-key', `online=${k[5].pub}`], signers: [repo.key('targets')] },
        { role: 'bins', args: ['--role-key', `online=${k[5].pub}`], signers: [repo.key('bins')] },
      ], ['--online-key', `file:${k[5].pem}`]);
      expectOk(r, 'online key rotation');
      onlineRolesSignedBy(repo, k[5].keyid);
      expect((await client.download(WHEEL)).equals(wheel)).to.equal(true);
      const trustedTs = client.trustedTimestampVersion();

      // The thief publishes a newer timestamp.json signed with the old (stolen) online key.
      const tsFile = path.join(repo.metadataDir, 'timestamp.json');
      const real = fs.readFileSync(tsFile);
      fs.writeFileSync(tsFile, craftTimestamp(repo.key('online')));
      const err = await client.refresh();
      expect(errorName(err), String(err)).to.equal('UnsignedMetadataError');
      expect(String((err as Error).message)).to.match(/timestamp was signed by 0\/1 keys/);
      expect(client.trustedTimestampVersion(), 'the client kept what it had').to.equal(trustedTs);
      // So does a client that only ever trusted root v1: it updates root first (TUF spec 5.3).
      const fresh = new CachedClient(repo, repo.root1);
      expect(errorName(await fresh.refresh())).to.equal('UnsignedMetadataError');
      expect(fresh.trustedRootVersion()).to.equal(2);

      // The same file signed with the new key would be accepted: it is the key that is refused.
      fs.writeFileSync(tsFile, real);
      fs.writeFileSync(tsFile, craftTimestamp(k[5].pem));
      expect(await client.refresh()).to.equal(undefined);
      expect(client.trustedTimestampVersion()).to.equal(trustedTs + 1);
    });

    it('a bin signed with the stolen key is refused as well (TUF spec 5.6.3)', async () => {
      // The thief re-signs the bin that lists the wheel, same content, under its published name.
      const p = published(repo);
      const binName = Object.keys(p.snap.signed.meta).map((f) => f.replace(/\.json$/, '')).find((n) => /^bin-/.test(n) && p.role(n).signed.targets[WHEEL])!;
      const bin = p.role(binName);
      const old = privateKeyFromPem(fs.readFileSync(repo.key('online'), 'utf8'), 'old online');
      const text = canonicalize(bin.signed);
      const file = path.join(repo.metadataDir, `${p.snap.signed.meta[`${binName}.json`].version}.${binName}.json`);
      const real = fs.readFileSync(file);
      fs.writeFileSync(file, serializeEnvelope(text, [{ keyid: old.keyid, sig: old.signSync(Buffer.from(text, 'utf8')) }]));
      try {
        const fresh = new CachedClient(repo, repo.root1);
        const err = await fresh.download(WHEEL).then(() => undefined, (e: unknown) => e);
        expect(String(err)).to.match(new RegExp(`Unable to load targets error .*${binName} was signed by 0/1 keys`));
      } finally {
        fs.writeFileSync(file, real);
      }
    });
  });
});
