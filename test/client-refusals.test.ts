// Every attack class the client names (client/errors.ts classifyTufError, the one adapter from
// tuf-js errors), each proved to fire against a real repository served on loopback, with the
// honest path passing on the same fixture. Scenario table (STYLE.md): name -> what the server does.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IndexClient, ClientError, type RefusalKind } from '../client/index.js';
import { buildTimestamp } from '../metadata/builders.js';
import { hashedPath } from '../metadata/target-paths.js';
import { TufFixture, delegation, delegationsOf, isoDays, newKey, signEnvelope } from './helpers/tuf-fixture.js';
import { untilClock } from './helpers/wait.js';
import { tmpDir } from './helpers/tmp.js';

const A = 'files/a.txt';
const D = 'files/d.txt';
const A_BYTES = Buffer.from('the honest content of a\n');

function fixture(): TufFixture {
  const f = new TufFixture();
  const dKey = newKey();
  f.role('targets').signed.delegations = delegationsOf([{ role: delegation('D', [dKey], ['files/d*']), keys: [dKey] }]);
  f.setRole('D', [dKey]);
  f.addTarget('targets', A, A_BYTES);
  f.addTarget('D', D, Buffer.from('delegated\n'));
  f.publish();
  return f;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const file = (f: TufFixture, name: string) => path.join(f.metadataDir, name);

interface Case {
  kind: RefusalKind;
  /** What the server does after the client's first, honest refresh. */
  attack: (f: TufFixture) => void | Promise<void>;
  /** What the client does then (default: refresh). */
  then?: 'refresh' | 'download-a' | 'lookup-d';
  /** Substrings the message must contain. */
  says: string[];
}

const cases: Record<string, Case> = {
  'expired timestamp (freeze)': {
    kind: 'freeze',
    attack: (f) => {
      f.timestampExpires = isoDays(-1);
      f.publish();
    },
    says: ['timestamp', 'freeze attack', "cron job"],
  },
  'expired snapshot (freeze)': {
    kind: 'freeze',
    attack: (f) => {
      f.snapshotExpires = isoDays(-1);
      f.publish();
    },
    says: ['role snapshot', 'snapshot.json is expired', 'freeze'],
  },
  'expired delegated role (freeze)': {
    kind: 'freeze',
    attack: (f) => {
      f.role('D').signed.expires = isoDays(-1);
      f.bump('D');
      f.publish();
    },
    then: 'lookup-d',
    says: ['D.json is expired', 'role D'],
  },
  'replayed older timestamp.json (rollback)': {
    kind: 'rollback',
    attack: (f) => {
      const v1 = f.timestamps.get(1)!;
      f.publish();
      fs.writeFileSync(file(f, 'timestamp.json'), v1);
    },
    // the client must have seen timestamp v2 first
    then: 'refresh',
    says: ['New timestamp version 1 is less than current version 2', 'rollback'],
  },
  'next root with a skipped version number (rollback)': {
    kind: 'rollback',
    attack: (f) => {
      f.root = f.makeRoot(3, f.rootKeys);
      fs.writeFileSync(file(f, '2.root.json'), signEnvelope(f.root, f.rootKeys));
    },
    says: ['Expected root version 2, got 3'],
  },
  'timestamp signed by the wrong key (bad-signature)': {
    kind: 'bad-signature',
    attack: (f) => {
      f.writeTimestamp(buildTimestamp(++f.timestampVersion, isoDays(1), { version: 1, length: 1, sha256: '00' }), [newKey()]);
    },
    says: ['timestamp was signed by 0/1 keys'],
  },
  'new root signed by a key the trusted root does not know (bad-signature)': {
    kind: 'bad-signature',
    attack: (f) => {
      const rogue = [newKey()];
      f.root = f.makeRoot(2, rogue);
      fs.writeFileSync(file(f, '2.root.json'), signEnvelope(f.root, rogue));
    },
    says: ['root was signed by 0/1 keys'],
  },
  'timestamp names a snapshot whose own version differs (mix-and-match)': {
    kind: 'mix-and-match',
    attack: (f) => {
      const old = fs.readFileSync(file(f, '1.snapshot.json'));
      fs.writeFileSync(file(f, '2.snapshot.json'), old);
      f.writeTimestamp(buildTimestamp(++f.timestampVersion, isoDays(1), { version: 2, length: old.length, sha256: sha(old) }));
    },
    says: ["Snapshot version doesn't match timestamp", 'mix-and-match'],
  },
  'snapshot names a role version whose file holds another version (mix-and-match)': {
    kind: 'mix-and-match',
    attack: (f) => {
      const oldD = fs.readFileSync(file(f, '1.D.json'));
      f.bump('D');
      f.publish();
      fs.writeFileSync(file(f, '2.D.json'), oldD);
    },
    then: 'lookup-d',
    says: ['Version 1 of D does not match snapshot version 2'],
  },
  'snapshot bytes differ from what timestamp signed (hash-mismatch)': {
    kind: 'hash-mismatch',
    attack: (f) => {
      f.publish();
      const p = file(f, `${f.snapshotVersion}.snapshot.json`);
      const text = fs.readFileSync(p, 'utf8');
      fs.writeFileSync(p, text.replace(/"expires":"(\d{4})/, (_m, y: string) => `"expires":"${Number(y) + 1}`));
    },
    says: ['Expected hash', 'role snapshot'],
  },
  'tampered target file, same length (hash-mismatch)': {
    kind: 'hash-mismatch',
    attack: (f) => {
      const p = path.join(f.site, hashedPath(A, sha(A_BYTES)));
      const b = fs.readFileSync(p);
      b[0] ^= 1;
      fs.writeFileSync(p, b);
    },
    then: 'download-a',
    says: ['Expected hash', A],
  },
  'target file longer than signed (endless-data)': {
    kind: 'endless-data',
    attack: (f) => {
      fs.appendFileSync(path.join(f.site, hashedPath(A, sha(A_BYTES))), Buffer.alloc(4096, 1));
    },
    then: 'download-a',
    says: [`more than the ${A_BYTES.length} bytes signed metadata allows`, 'endless-data'],
  },
  'timestamp.json larger than the client accepts (endless-data)': {
    kind: 'endless-data',
    attack: (f) => {
      fs.appendFileSync(file(f, 'timestamp.json'), Buffer.alloc(20_000, 0x20));
    },
    says: ['timestamp.json', 'endless-data'],
  },
  'index unreachable (network)': {
    kind: 'network',
    attack: async (f) => {
      await f.close();
    },
    says: ['cannot reach', 'could not be reached'],
  },
};

describe('client: refusals name the attack class (scenario table against a served fixture)', () => {
  let fx: TufFixture;
  afterEach(async () => {
    await fx?.close();
  });

  async function open(f: TufFixture): Promise<IndexClient> {
    return IndexClient.open({ indexUrl: f.url, dataDir: tmpDir('tufpip-data-'), trustedRoot: fs.readFileSync(f.rootFile(1)), idleTimeoutMs: 5000 });
  }

  it('honest path: refresh, lookup through a delegation, download, refresh again', async () => {
    fx = fixture();
    await fx.serve();
    const c = await open(fx);
    try {
      await c.refresh();
      expect((await c.lookup(D)).vouchedBy.role).to.equal('D');
      const dest = path.join(tmpDir(), 'a.txt');
      await c.download(A, dest);
      expect(fs.readFileSync(dest)).to.deep.equal(A_BYTES);
      fx.publish();
      await c.refresh();
    } finally {
      await c.close();
    }
  });

  it('a long-lived client refreshes before answering from a timestamp that has expired since its refresh', async () => {
    fx = fixture();
    const expiredAt = new Date(Date.now() + 1500).toISOString().replace(/\.\d{3}Z$/, 'Z');
    fx.timestampExpires = expiredAt;
    fx.publish();
    await fx.serve();
    const c = await open(fx);
    try {
      await c.refresh();
      fx.timestampExpires = isoDays(1);
      fx.publish();
      await untilClock(Date.parse(expiredAt)); // the event: the signed expiry instant has passed
      const before = c.requests.length;
      expect((await c.lookup(A)).path).to.equal(A);
      expect(c.requests.slice(before).map((r) => path.basename(r.url))).to.include('timestamp.json');
    } finally {
      await c.close();
    }
  });

  it('after a refused refresh, lookups refuse too instead of answering from the older metadata', async () => {
    fx = fixture();
    await fx.serve();
    const c = await open(fx);
    try {
      await c.refresh();
      expect((await c.lookup(A)).path).to.equal(A);
      fx.writeTimestamp(buildTimestamp(++fx.timestampVersion, isoDays(1), { version: 1, length: 1, sha256: '00' }), [newKey()]);
      expect(((await c.refresh().catch((e: unknown) => e)) as ClientError).kind).to.equal('bad-signature');
      expect(((await c.lookup(A).catch((e: unknown) => e)) as ClientError).kind).to.equal('bad-signature');
    } finally {
      await c.close();
    }
  });

  for (const [name, k] of Object.entries(cases)) {
    it(`${name} -> ${k.kind}`, async () => {
      fx = fixture();
      await fx.serve();
      // A first refresh the honest way (the replay case needs the client to have seen v2).
      if (name.startsWith('replayed')) fx.publish();
      const c = await open(fx);
      const dest = path.join(tmpDir(), 'a.txt');
      try {
        await c.refresh();
        await k.attack(fx);
        const then = k.then ?? 'refresh';
        const run = then === 'refresh' ? c.refresh() : then === 'lookup-d' ? c.refresh().then(() => c.lookup(D)) : c.refresh().then(() => c.download(A, dest));
        const err = await run.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, 'refused').to.be.instanceOf(ClientError);
        const e = err as ClientError;
        expect(e.kind, e.message).to.equal(k.kind);
        for (const s of k.says) expect(e.message).to.contain(s);
        if (k.kind !== 'network') expect(e.message).to.contain(fx.url);
        expect(fs.existsSync(dest), 'nothing written').to.equal(false);
        expect(fs.readdirSync(path.dirname(dest))).to.deep.equal([]);
      } finally {
        await c.close();
      }
    });
  }
});
