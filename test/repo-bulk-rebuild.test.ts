// A bulk rebuild (repo-tools/txn/bin-rebuild*.ts): thousands of bins read, verified, edited,
// signed and self-checked on every core. The honest path gives the same bytes on any number of
// threads and a repository that verifies; each check fires on this thread and in a worker thread
// (batches go out in order: with one worker, jobs 0-63 are its first two batches and jobs 64-95
// this thread's first), and a refused rebuild publishes nothing.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { makeRepo, expectOk, type TestRepo } from './helpers/repo.js';
import { tufpipRepo } from './helpers/cli.js';
import { RepoLayout } from '../repo-tools/storage/layout.js';
import { Published } from '../repo-tools/storage/published.js';
import { LocalDiskStorage } from '../repo-tools/storage/local-disk.js';
import { loadSigner, type Signer } from '../repo-tools/keys/signer.js';
import { signRole } from '../repo-tools/txn/transaction.js';
import { binsChain, checkStoreInputs } from '../repo-tools/txn/self-check.js';
import { rebuildBins } from '../repo-tools/txn/bin-rebuild-pool.js';
import type { BinJob, BinRebuildSetup } from '../repo-tools/txn/bin-rebuild.js';
import { scanBins, type BinScanJob, type BinScanSetup } from '../repo-tools/storage/bin-scan.js';
import { bump } from '../repo-tools/commands/bump.js';
import { buildTargets, buildTimestamp, canonicalSnapshot, type TargetInfo } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { TufpipError } from '../metadata/errors.js';

const inDays = (d: number) => new Date(Date.now() + d * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const info = (n: number): TargetInfo => ({ length: n, hashes: { sha256: createHash('sha256').update(String(n)).digest('hex') } });

describe('bulk rebuild of thousands of bins (every core)', function () {
  this.timeout(300_000);
  let repo: TestRepo;
  let layout: RepoLayout;
  let signer: Signer;
  before(async () => {
    repo = await makeRepo({ bins: 4096, wheels: [{ name: 'alpha', version: '1.0' }] });
    layout = new RepoLayout(repo.dir);
    await layout.loadConfig();
    signer = await loadSigner('file:keys/online.pem', { baseDir: repo.dir });
  });

  /** The setup and jobs of a transaction re-signing every bin at version + 1, with an edit in each. */
  async function everyBin(o: { expires?: string; key?: Signer } = {}): Promise<{ setup: BinRebuildSetup; jobs: BinJob[]; pub: Published }> {
    const pub = await Published.load(layout, new LocalDiskStorage(layout));
    const newVersions = new Map(pub.versions);
    const jobs: BinJob[] = [];
    for (const [file, v] of pub.versions) {
      if (!file.startsWith('bin-')) continue;
      const name = file.slice(0, -'.json'.length);
      jobs.push({ name, version: v, edits: [[`packages/p/${name}.whl`, info(jobs.length + 1)]] });
      newVersions.set(file, v + 1);
    }
    const snapshotBytes = await signRole(canonicalSnapshot(pub.snapshotVersion + 1, inDays(7), newVersions), [signer]);
    const sha = createHash('sha256').update(snapshotBytes).digest('hex');
    const newTimestampBytes = await signRole(canonicalize(buildTimestamp(pub.timestamp.signed.version + 1, inDays(1), { version: pub.snapshotVersion + 1, length: snapshotBytes.length, sha256: sha })), [signer]);
    const chain = await binsChain(new Map(), async (r) => (await pub.role(r)).bytes);
    const key = o.key ?? signer;
    const setup: BinRebuildSetup = {
      ...checkStoreInputs({ rootBytes: pub.rootBytes, oldTimestampBytes: pub.timestampBytes, newTimestampBytes, snapshotBytes }, chain),
      reader: new LocalDiskStorage(layout).readerForWorkers(),
      publishedBinsBytes: (await pub.role('bins')).bytes,
      expires: o.expires ?? inDays(7),
      key: key.threadKey!(),
    };
    return { setup, jobs, pub };
  }

  async function refused(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the rebuild was refused').to.be.instanceOf(TufpipError);
    expect((err as TufpipError).code).to.equal(code);
    expect((err as TufpipError).message).to.match(message);
  }

  /** Runs `fn` while the published file of `bin` lists a target injected without the key. */
  async function withInjectedTarget(bin: { name: string; version: number }, fn: () => Promise<void>): Promise<void> {
    const file = layout.metadataFile(`${bin.version}.${bin.name}.json`);
    const saved = fs.readFileSync(file);
    const j = JSON.parse(saved.toString());
    j.signed.targets['packages/evil/evil-1.0-py3-none-any.whl'] = info(666);
    fs.writeFileSync(file, JSON.stringify(j));
    try {
      await fn();
    } finally {
      fs.writeFileSync(file, saved);
    }
  }

  it('honest: the same bytes on one thread and on three, each bin its edit applied and signed at the next version', async () => {
    const { setup, jobs, pub } = await everyBin();
    const some = jobs.slice(0, 300);
    const alone = await rebuildBins(setup, some, 0);
    const progress: number[] = [];
    const shared = await rebuildBins(setup, some, 2, (done, total) => {
      expect(total).to.equal(300);
      progress.push(done);
    });
    expect(progress.at(-1), 'progress reaches the total').to.equal(300);
    expect(progress.every((d, k) => k === 0 || d >= progress[k - 1]), 'progress never goes back').to.equal(true);
    expect(alone.size).to.equal(300);
    expect([...shared.keys()].sort()).to.deep.equal([...alone.keys()].sort());
    for (const [name, bytes] of alone) expect(shared.get(name)!.equals(bytes), name).to.equal(true);
    // Against the transaction's own way of building one bin (ed25519 signatures are deterministic).
    const job = some[5];
    const cur = await pub.role(job.name);
    const expected = await signRole(canonicalize(buildTargets(job.version + 1, setup.expires, { ...cur.signed.targets, [job.edits[0][0]]: job.edits[0][1]! })), [signer]);
    expect(alone.get(job.name)!.toString()).to.equal(expected.toString());
  });

  for (const [where, victimIndex, workers] of [
    ['in a worker thread', 0, 1],
    ['on this thread', 64, 1],
    ['with no worker thread', 0, 0],
  ] as const) {
    describe(`refusals ${where}`, () => {
      it('refuses to build on a published bin changed on disk (a target injected without the key)', async () => {
        const { setup, jobs } = await everyBin();
        const victim = jobs[victimIndex];
        await withInjectedTarget(victim, () =>
          refused(rebuildBins(setup, jobs, workers), 'BAD_INPUT', new RegExp(`published ${victim.version}\\.${victim.name}\\.json failed verification .*refusing to build on it`)),
        );
      });
      it('refuses a published bin that is missing', async () => {
        const { setup, jobs } = await everyBin();
        const victim = jobs[victimIndex];
        const file = layout.metadataFile(`${victim.version}.${victim.name}.json`);
        fs.renameSync(file, `${file}.away`);
        try {
          await refused(rebuildBins(setup, jobs, workers), 'NOT_FOUND', new RegExp(`published role ${victim.version}\\.${victim.name}\\.json is missing`));
        } finally {
          fs.renameSync(`${file}.away`, file);
        }
      });
      it('self-check: refuses a new bin tuf-js does not accept (a negative length), naming it', async () => {
        const { setup, jobs } = await everyBin();
        const victim = jobs[victimIndex];
        victim.edits.push(['packages/p/bad.whl', { length: -1, hashes: { sha256: 'a'.repeat(64) } }]);
        await refused(rebuildBins(setup, jobs, workers), 'SELF_CHECK', new RegExp(`self-check refused the new metadata \\(${victim.name}: ValueError: .*nothing was published`));
      });
      it('self-check: refuses new bins signed by a key bins does not delegate to', async () => {
        const other = { keyid: 'f'.repeat(64), threadKey: () => generateKeyPairSync('ed25519').privateKey } as unknown as Signer;
        const { setup, jobs } = await everyBin({ key: other });
        await refused(rebuildBins(setup, jobs, workers), 'SELF_CHECK', /self-check refused the new metadata \(bin-[0-9a-f]+: UnsignedMetadataError: .*nothing was published/);
      });
      it('self-check: refuses new bins that are already expired', async () => {
        const { setup, jobs } = await everyBin({ expires: '2001-01-01T00:00:00Z' });
        await refused(rebuildBins(setup, jobs, workers), 'SELF_CHECK', /self-check refused the new metadata \(bin-[0-9a-f]+: ExpiredMetadataError: /);
      });
    });
  }

  describe('status reads every bin on every core (repo-tools/storage/bin-scan.ts)', () => {
    async function scanSetup(): Promise<{ setup: BinScanSetup; jobs: BinScanJob[] }> {
      const pub = await Published.load(layout, new LocalDiskStorage(layout));
      const jobs = [...pub.versions].filter(([f]) => f.startsWith('bin-')).map(([f, version]) => ({ name: f.slice(0, -'.json'.length), version }));
      return { setup: { reader: new LocalDiskStorage(layout).readerForWorkers(), publishedBinsBytes: (await pub.role('bins')).bytes }, jobs };
    }

    it('honest: the same facts on one thread and on three, as the files say', async () => {
      const { setup, jobs } = await scanSetup();
      const alone = await scanBins(setup, jobs, 0);
      const shared = await scanBins(setup, jobs, 2);
      expect(alone.size).to.equal(4096);
      expect(Object.fromEntries(shared)).to.deep.equal(Object.fromEntries(alone));
      const j = jobs[7];
      const bytes = fs.readFileSync(layout.metadataFile(`${j.version}.${j.name}.json`));
      expect(shared.get(j.name)).to.deep.equal({ bytes: bytes.length, targets: Object.keys(JSON.parse(bytes.toString()).signed.targets).length });
      const r = await tufpipRepo(['status', repo.dir, '--json']);
      expectOk(r, 'status');
      const total = [...alone.values()].reduce((n, f) => n + f.targets, 0);
      expect(JSON.parse(r.stdout).binsSummary).to.include({ count: 4096, targets: total });
    });

    for (const [where, victimIndex, workers] of [
      ['in a worker thread', 0, 1],
      ['on this thread', 64, 1],
    ] as const) {
      it(`refuses a published bin changed on disk, ${where}, naming it (and so does status)`, async () => {
        const { setup, jobs } = await scanSetup();
        const victim = jobs[victimIndex];
        await withInjectedTarget(victim, async () => {
          await refused(scanBins(setup, jobs, workers), 'BAD_INPUT', new RegExp(`published ${victim.version}\\.${victim.name}\\.json failed verification`));
          const r = await tufpipRepo(['status', repo.dir]);
          expect(r.code).to.equal(1);
          expect(r.stderr).to.match(new RegExp(`published ${victim.version}\\.${victim.name}\\.json failed verification`));
        });
      });
    }
  });

  it('a transaction with thousands of bins takes the bulk path; a refused one publishes nothing, an honest one verifies', async () => {
    const pub = await Published.load(layout, new LocalDiskStorage(layout));
    const bin = [...pub.versions].find(([f]) => f.startsWith('bin-'))!;
    const file = layout.metadataFile(`${bin[1]}.${bin[0]}`);
    const saved = fs.readFileSync(file);
    const j = JSON.parse(saved.toString());
    j.signed.targets['packages/evil/evil-1.0-py3-none-any.whl'] = info(666);
    fs.writeFileSync(file, JSON.stringify(j));
    const before = fs.readdirSync(layout.metadataDir).sort();
    const ts = fs.readFileSync(layout.metadataFile('timestamp.json'));
    const r = await tufpipRepo(['bump', repo.dir, '--force']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(new RegExp(`published ${bin[1]}\\.${bin[0].replace('.', '\\.')} failed verification`));
    expect(fs.readdirSync(layout.metadataDir).sort(), 'no new file').to.deep.equal(before);
    expect(fs.readFileSync(layout.metadataFile('timestamp.json')).equals(ts), 'timestamp.json unchanged').to.equal(true);
    fs.writeFileSync(file, saved);
    const done = await bump(repo.dir, { force: true });
    expect(done.commit.bulkBins).to.equal(4096);
    expectOk(await tufpipRepo(['verify', repo.dir]), 'verify after the bulk bump');
    const after = await Published.load(layout, new LocalDiskStorage(layout));
    expect(after.versionOf(bin[0].slice(0, -'.json'.length))).to.equal(bin[1] + 1);
  });
});
