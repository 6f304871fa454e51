// IndexClient through an in-memory repository (test/helpers/repo-simulator.ts, the `fetcher`
// option): the TUF client workflow of tuf-js's Updater end to end with no HTTP. The honest path
// (index-signed and developer-signed targets, new versions, root rotation) and each attack of
// TUF spec 5 refused with the kind that names it.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IndexClient, ClientError, type RefusalKind } from '../client/index.js';
import { SignatureGapError } from '../client/lib/client-error.js';
import { buildTimestamp } from '../metadata/builders.js';
import { binForPath } from '../metadata/hash-bins.js';
import { RepositorySimulator, daysFromNow, newSigner } from './helpers/repo-simulator.js';
import { tmpDir } from './helpers/tmp.js';

const ALPHA = 'packages/alpha/alpha-1.0-py3-none-any.whl';
const GAMMA = 'packages/gamma/gamma-1.0-py3-none-any.whl';

describe('IndexClient against the in-memory repository simulator', () => {
  let sim: RepositorySimulator;
  let client: IndexClient;

  beforeEach(async () => {
    sim = new RepositorySimulator();
    sim.addTarget(ALPHA, 'alpha wheel 1.0');
    sim.addTarget('simple/alpha/index.html', '<a href="../../packages/alpha/alpha-1.0-py3-none-any.whl">alpha</a>');
    sim.claim('gamma');
    sim.addTarget(GAMMA, 'gamma wheel 1.0');
    sim.publish();
    client = await open();
  });
  afterEach(async () => {
    await client.close();
  });

  /** A client trusting the simulator's first root, with its own data directory. */
  function open(): Promise<IndexClient> {
    return IndexClient.open({ indexUrl: sim.url, trustedRoot: sim.rootBytes(1), dataDir: tmpDir('tufpip-sim-'), fetcher: sim });
  }

  async function refusal(p: Promise<unknown>): Promise<ClientError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'expected a refusal').to.be.instanceOf(ClientError);
    return err as ClientError;
  }

  async function expectRefused(p: Promise<unknown>, kind: RefusalKind, role?: string): Promise<ClientError> {
    const err = await refusal(p);
    expect(err.kind, err.message).to.equal(kind);
    if (role) expect(err.role, err.message).to.equal(role);
    return err;
  }

  describe('honest repository', () => {
    it('an index-signed target: vouched for by its hash bin (PEP 458), downloaded and verified', async () => {
      await client.refresh();
      const t = await client.lookup(ALPHA);
      expect(t.vouchedBy.kind).to.equal('index');
      expect(t.vouchedBy.role).to.match(/^bin-[0-9a-f]$/);
      expect(t.vouchedBy.signedBy).to.deep.equal([sim.onlineSigner.keyid]);
      const dest = path.join(tmpDir('tufpip-sim-dl-'), 'alpha.whl');
      await client.download(ALPHA, dest);
      expect(fs.readFileSync(dest, 'utf8')).to.equal('alpha wheel 1.0');
      const page = await client.fetchBytes('simple/alpha/index.html');
      expect(page.bytes.toString('utf8')).to.contain('alpha-1.0-py3-none-any.whl');
    });

    it('a developer-signed target: vouched for by the project role and its maintainers key (PEP 480)', async () => {
      const t = await client.lookup(GAMMA);
      expect(t.vouchedBy).to.include({ kind: 'developer', role: 'project-gamma', threshold: 1 });
      expect(t.vouchedBy.signedBy).to.deep.equal([sim.developers.get('gamma')![0].keyid]);
    });

    it('a new release is seen after refresh; with nothing new only timestamp.json is fetched (and the next root probed)', async () => {
      await client.refresh();
      const wheel2 = 'packages/alpha/alpha-2.0-py3-none-any.whl';
      await expectRefused(client.lookup(wheel2), 'not-signed');
      sim.addTarget(wheel2, 'alpha wheel 2.0');
      sim.publish();
      await client.refresh();
      expect((await client.lookup(wheel2)).length).to.equal('alpha wheel 2.0'.length);
      const before = sim.log.length;
      await client.refresh();
      expect(sim.log.slice(before).map((r) => `${r.url.slice(sim.url.length)} ${r.status}`)).to.deep.equal([
        `metadata/${sim.root.version + 1}.root.json 404`,
        'metadata/timestamp.json 200',
      ]);
      expect(client.requests).to.equal(sim.log);
    });

    it('follows a root rotation (TUF spec 5.3): root version 2, signed by the old and the new root keys', async () => {
      await client.refresh();
      sim.rotateRoot(2);
      sim.publish();
      await client.refresh();
      expect(sim.log.some((r) => r.url.endsWith('metadata/2.root.json') && r.status === 200)).to.equal(true);
      expect((await client.lookup(ALPHA)).vouchedBy.kind).to.equal('index');
    });
  });

  describe('attacks (TUF spec 5), each refused with its kind', () => {
    it('bad-signature: a timestamp whose signature does not verify', async () => {
      sim.corruptSignatures('timestamp');
      await expectRefused(client.refresh(), 'bad-signature', 'timestamp');
    });

    it('bad-signature: a timestamp signed by a key the root does not trust', async () => {
      sim.publishTimestamp(buildTimestamp(sim.timestamp!.version + 1, daysFromNow(1), { version: sim.snapshot!.version, ...snapshotMeta(sim) }), [newSigner()]);
      await expectRefused(client.refresh(), 'bad-signature', 'timestamp');
    });

    it('bad-signature: a hash bin re-signed by an attacker', async () => {
      const bin = (await client.lookup(ALPHA)).vouchedBy.role;
      await client.close();
      client = await open();
      sim.corruptSignatures(bin);
      await expectRefused(client.lookup(ALPHA), 'bad-signature', bin);
    });

    it('bad-signature: a new root that the trusted root keys did not sign (TUF spec 5.3.4)', async () => {
      sim.rotateRoot(1, { signedByOldKeys: false });
      sim.publish();
      await expectRefused(client.refresh(), 'bad-signature', 'root');
    });

    it('rollback: an older timestamp replayed after a newer one was seen', async () => {
      await client.refresh();
      const old = sim.timestamp!.version;
      sim.publish();
      await client.refresh();
      sim.serve('metadata/timestamp.json', sim.timestamps.get(old)!);
      await expectRefused(client.refresh(), 'rollback', 'timestamp');
    });

    it('freeze: an expired timestamp', async () => {
      sim.timestampExpires = daysFromNow(-1);
      sim.publish();
      await expectRefused(client.refresh(), 'freeze', 'timestamp');
    });

    it('mix-and-match: an older, validly signed hash bin served under the version the snapshot names', async () => {
      const bin = (await client.lookup(ALPHA)).vouchedBy.role;
      const oldPath = sim.metadataPath(bin);
      sim.addTarget('packages/alpha/alpha-3.0.tar.gz', 'alpha sdist');
      expect(sim.role(bin).signed.targets).to.have.property('packages/alpha/alpha-3.0.tar.gz');
      sim.publish();
      sim.serve(sim.metadataPath(bin), sim.served(oldPath));
      await client.close();
      client = await open();
      await expectRefused(client.lookup(ALPHA), 'mix-and-match', bin);
    });

    it('hash-mismatch: a target whose bytes differ from the signed hash (same length)', async () => {
      sim.corruptTarget(ALPHA);
      const dest = path.join(tmpDir('tufpip-sim-dl-'), 'alpha.whl');
      await expectRefused(client.download(ALPHA, dest), 'hash-mismatch');
      expect(fs.existsSync(dest), 'nothing is written when verification fails').to.equal(false);
    });

    it('endless-data: a target longer than its signed length', async () => {
      sim.serve(sim.targetServedPath(ALPHA), 'alpha wheel 1.0 and then some more bytes');
      await expectRefused(client.fetchBytes(ALPHA), 'endless-data');
    });

    it('missing-developer-signature: a file of a claimed project that only the index signed', async () => {
      const unsigned = 'packages/gamma/gamma-2.0-py3-none-any.whl';
      const bin = binForPath(unsigned, sim.binCount);
      sim.addTarget(unsigned, 'gamma wheel 2.0', bin);
      sim.publish();
      const err = await expectRefused(client.lookup(unsigned), 'missing-developer-signature');
      expect(err).to.be.instanceOf(SignatureGapError);
      expect((err as SignatureGapError).listedBy).to.equal(bin);
    });

    it('not-signed: a path no role lists', async () => {
      await expectRefused(client.lookup('packages/alpha/alpha-9.9.tar.gz'), 'not-signed');
    });
  });
});

/** Length and hash of the snapshot the simulator serves (for a hand-made timestamp). */
function snapshotMeta(sim: RepositorySimulator): { length: number; sha256: string } {
  const b = sim.served(sim.metadataPath('snapshot'));
  return { length: b.length, sha256: createHash('sha256').update(b).digest('hex') };
}
