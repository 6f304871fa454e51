// The "diamond delegation" gap of tuf-js 5.0.1 (fixed in tuf-js 6.0.2 / python-tuf #2978): role X
// is delegated by A with key K1 and by B with key K2, and X is signed only with K1. Once X was
// loaded through A, stock tuf-js returns it by name when the walk reaches it through B, so a
// target only B's branch may vouch for is accepted without K2's signature. TUF spec 5.6.3: the
// role must verify against the keys of the delegator the walk came through.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { IndexClient, ClientError } from '../client/index.js';
import { HttpFetcher } from '../tuf/fetcher.js';
import { TufFixture, delegation, delegationsOf, newKey, type TestKey } from './helpers/tuf-fixture.js';
import { tmpDir } from './helpers/tmp.js';

describe('client: diamond delegation (a role reached through a second delegator is verified against it)', () => {
  let fx: TufFixture;
  let k1: TestKey;
  let k2: TestKey;

  function build(xSigners: 'k1' | 'k1+k2'): TufFixture {
    const f = new TufFixture();
    const a = newKey();
    const b = newKey();
    k1 = newKey();
    k2 = newKey();
    // targets -> A (a/*), B (b/*); A -> X with K1 (a/*); B -> X with K2 (b/*).
    f.role('targets').signed.delegations = delegationsOf([
      { role: delegation('A', [a], ['a/*']), keys: [a] },
      { role: delegation('B', [b], ['b/*']), keys: [b] },
    ]);
    f.setRole('A', [a], delegationsOf([{ role: delegation('X', [k1], ['a/*']), keys: [k1] }]));
    f.setRole('B', [b], delegationsOf([{ role: delegation('X', [k2], ['b/*']), keys: [k2] }]));
    f.setRole('X', xSigners === 'k1' ? [k1] : [k1, k2]);
    f.addTarget('X', 'a/one.txt', Buffer.from('one\n'));
    f.addTarget('X', 'b/two.txt', Buffer.from('two\n'));
    f.publish();
    return f;
  }

  afterEach(async () => {
    await fx?.close();
  });

  function stockUpdater(f: TufFixture): Updater {
    const dir = tmpDir('tufpip-stock-');
    fs.copyFileSync(f.rootFile(1), path.join(dir, 'root.json'));
    return new Updater({ metadataDir: dir, metadataBaseUrl: `${f.url}metadata/`, targetBaseUrl: f.url, fetcher: new HttpFetcher() });
  }

  async function client(f: TufFixture): Promise<IndexClient> {
    return IndexClient.open({ indexUrl: f.url, dataDir: tmpDir('tufpip-data-'), trustedRoot: fs.readFileSync(f.rootFile(1)) });
  }

  it('stock tuf-js 5.0.1 accepts X through B although B requires K2 (the gap this fix closes)', async () => {
    fx = build('k1');
    await fx.serve();
    const u = stockUpdater(fx);
    await u.refresh();
    expect(await u.getTargetInfo('a/one.txt')).to.not.equal(undefined);
    // Wrong: B delegates X to K2 only, and X carries no K2 signature.
    expect(await u.getTargetInfo('b/two.txt')).to.not.equal(undefined);
  });

  it('tufpip refuses X through B when only K1 signed it (bad-signature), after X was verified through A', async () => {
    fx = build('k1');
    await fx.serve();
    const c = await client(fx);
    try {
      const a = await c.lookup('a/one.txt');
      expect(a.vouchedBy.role).to.equal('X');
      expect(a.vouchedBy.signedBy).to.deep.equal([k1.keyid]);
      const err = await c.lookup('b/two.txt').catch((e: unknown) => e);
      expect(err, String(err)).to.be.instanceOf(ClientError);
      expect((err as ClientError).kind).to.equal('bad-signature');
      expect((err as ClientError).message).to.contain('X was signed by 0/1 keys');
    } finally {
      await c.close();
    }
  });

  it('stock and tufpip agree when X is reached through B first (both refuse)', async () => {
    fx = build('k1');
    await fx.serve();
    const u = stockUpdater(fx);
    await u.refresh();
    const stockErr = await u.getTargetInfo('b/two.txt').catch((e: unknown) => e);
    expect(stockErr).to.be.instanceOf(Error);
    const c = await client(fx);
    try {
      const err = await c.lookup('b/two.txt').catch((e: unknown) => e);
      expect((err as ClientError).kind).to.equal('bad-signature');
    } finally {
      await c.close();
    }
  });

  it('honest diamond: X signed by K1 and K2 is accepted through both delegators, each vouch naming its own key', async () => {
    fx = build('k1+k2');
    await fx.serve();
    const c = await client(fx);
    try {
      const a = await c.lookup('a/one.txt');
      const b = await c.lookup('b/two.txt');
      expect(a.vouchedBy).to.include({ role: 'X', threshold: 1 });
      expect(a.vouchedBy.keyids).to.deep.equal([k1.keyid]);
      expect(b.vouchedBy.keyids).to.deep.equal([k2.keyid]);
      expect(b.vouchedBy.signedBy).to.deep.equal([k2.keyid]);
    } finally {
      await c.close();
    }
  });
});
