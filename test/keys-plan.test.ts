// Issue 5, the pure checks behind `pending` and `publish` (metadata/root-rotation.ts,
// metadata/publish-plan.ts), held against tuf-js itself: for every subset of signers of a root
// rotation, checkRootChain accepts exactly when tuf-js's TrustedMetadataStore.updateRoot (the
// client's own code, TUF spec 5.3.4 - 5.3.5) accepts; a key counts once however often it signs.
import { expect } from 'chai';
import { TrustedMetadataStore } from 'tuf-js/dist/store.js';
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { buildRoot, serializeEnvelope, type Envelope, type RootSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { checkRootChain } from '../metadata/root-rotation.js';
import { keyPool, type PoolKey } from './helpers/ceremony.js';

function root(version: number, rootKeys: PoolKey[], threshold: number, other: PoolKey): RootSigned {
  const keys = Object.fromEntries([...rootKeys, other].map((k) => [k.keyid, k.publicKey]));
  const ref = { keyids: [other.keyid], threshold: 1 };
  return buildRoot({ version, expires: '2099-01-01T00:00:00Z', keys, roles: { root: { keyids: rootKeys.map((k) => k.keyid), threshold }, targets: ref, snapshot: ref, timestamp: ref } });
}

function sign(signed: RootSigned, by: PoolKey[]): Envelope<RootSigned> {
  const bytes = Buffer.from(canonicalize(signed), 'utf8');
  return { signed, signatures: by.map((k) => ({ keyid: k.keyid, sig: k.signer.signSync(bytes) })) };
}

const bytesOf = (e: Envelope<RootSigned>) => Buffer.from(serializeEnvelope(canonicalize(e.signed), e.signatures), 'utf8');

function tufJsAccepts(trusted: Envelope<RootSigned>, next: Envelope<RootSigned>): boolean {
  const store = new TrustedMetadataStore(bytesOf(trusted));
  try {
    store.updateRoot(bytesOf(next));
    return true;
  } catch {
    return false;
  }
}

describe('keys: root chain checks agree with tuf-js', function () {
  this.timeout(60_000);
  let k: PoolKey[];
  before(async () => {
    k = await keyPool(6);
  });

  const rotations: Record<string, { old: [number[], number]; next: [number[], number]; version?: number }> = {
    'one key replaced, 2 of 3': { old: [[0, 1, 2], 2], next: [[1, 2, 3], 2] },
    'threshold raised 1 of 3 -> 3 of 3': { old: [[0, 1, 2], 1], next: [[0, 1, 2], 3] },
    'all keys replaced, 2 of 2 -> 2 of 2': { old: [[0, 1], 2], next: [[2, 3], 2] },
    'version skipped (v3 after v1)': { old: [[0, 1], 1], next: [[0, 1], 1], version: 3 },
  };
  for (const [name, r] of Object.entries(rotations)) {
    it(`${name}: every subset of signers`, () => {
      const trusted = sign(root(1, r.old[0].map((i) => k[i]), r.old[1], k[5]), r.old[0].map((i) => k[i]));
      const signedNext = root(r.version ?? 2, r.next[0].map((i) => k[i]), r.next[1], k[5]);
      const candidates = [0, 1, 2, 3, 4];
      let accepted = 0;
      for (let mask = 0; mask < 1 << candidates.length; mask++) {
        const by = candidates.filter((_, b) => mask & (1 << b)).map((i) => k[i]);
        const next = sign(signedNext, by);
        const report = checkRootChain(trusted.signed, next);
        expect(report.ok, `signers ${by.map((x) => x.name).join(',')}: ${report.problems.join('; ')}`).to.equal(tufJsAccepts(trusted, next));
        if (report.ok) accepted++;
      }
      if (r.version) expect(accepted).to.equal(0);
      else expect(accepted).to.be.greaterThan(0);
    });
  }

  it('a key that signs twice counts once; a signature by a key outside the root role counts for nothing', () => {
    const trusted = sign(root(1, [k[0], k[1]], 2, k[5]), [k[0], k[1]]);
    const signedNext = root(2, [k[0], k[1]], 2, k[5]);
    const twice = sign(signedNext, [k[0], k[0]]);
    let r = checkRootChain(trusted.signed, twice);
    expect(r.ok).to.equal(false);
    expect(r.old.signedBy).to.deep.equal([k[0].keyid]);
    expect(tufJsAccepts(trusted, twice)).to.equal(false);
    // k5 is in "keys" (it is the targets key here) but not a root key.
    const outsider = sign(signedNext, [k[0], k[5]]);
    r = checkRootChain(trusted.signed, outsider);
    expect(r.ok).to.equal(false);
    expect(r.problems[0]).to.match(/TUF spec 5\.3\.4: root v2 needs 2 signatures from the 2 keys of the trusted root v1 .*has 1/);
    expect(tufJsAccepts(trusted, outsider)).to.equal(false);
    // A corrupted signature by a root key is reported as such.
    const corrupt = sign(signedNext, [k[0], k[1]]);
    corrupt.signatures[1] = { keyid: k[1].keyid, sig: corrupt.signatures[1].sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    r = checkRootChain(trusted.signed, corrupt);
    expect(r.old.badSignatures).to.deep.equal([k[1].keyid]);
    expect(r.problems[0]).to.match(/signatures that do not verify: [0-9a-f]{8}/);
  });
});
