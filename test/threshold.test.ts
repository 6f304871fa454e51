// metadata/threshold.ts: the one threshold verifier. Each rule with a case that meets it and one
// that does not, and, for every key type @tufjs/models reads, the same decision and message as
// its Metadata.verifyDelegate (what tuf-js clients run).
import { expect } from 'chai';
import { constants, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Metadata, MetadataKind } from '@tufjs/models';
import { canonicalize } from '../metadata/canonical.js';
import { ThresholdError, checkSignatures, checkThreshold, delegationFor, ed25519Verifies, signatureVerifies, verifyDelegate, type DelegatorSigned, type KeyJson } from '../metadata/threshold.js';
import { keyIdOf } from '../metadata/keys.js';

interface TestKey {
  keyid: string;
  json: KeyJson;
  sign(data: Buffer): string;
}

function ed25519Key(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12).toString('hex');
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } };
  return { keyid: keyIdOf(json as Parameters<typeof keyIdOf>[0]), json, sign: (d) => sign(null, d, privateKey).toString('hex') };
}

function pemKey(kind: 'ecdsa' | 'rsa'): TestKey {
  const pair = kind === 'ecdsa' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const json = kind === 'ecdsa' ? { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pem } } : { keytype: 'rsa', scheme: 'rsassa-pss-sha256', keyval: { public: pem } };
  const priv: KeyObject = pair.privateKey;
  const signer = kind === 'rsa' ? { key: priv, padding: constants.RSA_PKCS1_PSS_PADDING } : priv;
  return { keyid: `${kind}-key-${Math.random().toString(16).slice(2)}`, json, sign: (d) => sign('sha256', d, signer).toString('hex') };
}

const signedPart = { _type: 'targets', spec_version: '1.0.31', version: 3, expires: '2030-01-01T00:00:00Z', targets: {} };
const data = Buffer.from(canonicalize(signedPart), 'utf8');

function rootWith(keys: TestKey[], threshold: number): DelegatorSigned & Record<string, unknown> {
  const ids = keys.map((k) => k.keyid);
  const role = { keyids: ids, threshold };
  return {
    _type: 'root',
    spec_version: '1.0.31',
    version: 1,
    expires: '2030-01-01T00:00:00Z',
    consistent_snapshot: true,
    keys: Object.fromEntries(keys.map((k) => [k.keyid, k.json])),
    roles: { root: role, targets: role, snapshot: role, timestamp: role },
  };
}

/** What @tufjs/models decides for the same input: undefined when met, else its message. */
function upstream(delegator: Record<string, unknown>, name: string, signatures: { keyid: string; sig: string }[]): string | undefined {
  const envelope = { signed: delegator, signatures: [] } as never;
  const parent = delegator._type === 'root' ? Metadata.fromJSON(MetadataKind.Root, envelope) : Metadata.fromJSON(MetadataKind.Targets, envelope);
  const md = Metadata.fromJSON(MetadataKind.Targets, { signed: signedPart, signatures } as never);
  try {
    parent.verifyDelegate(name, md);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function ours(delegator: DelegatorSigned, name: string, signatures: { keyid: string; sig: string }[]): string | undefined {
  try {
    verifyDelegate(delegator, name, data, signatures);
    return undefined;
  } catch (err) {
    expect(err).to.be.instanceOf(ThresholdError);
    return (err as Error).message;
  }
}

describe('threshold verifier (metadata/threshold.ts)', function () {
  this.timeout(30000);
  const ed = [ed25519Key(), ed25519Key(), ed25519Key()];
  const ec = pemKey('ecdsa');
  const rsa = pemKey('rsa');

  it('each key type verifies its own signature and refuses a signature over other bytes', () => {
    for (const k of [...ed, ec, rsa]) {
      expect(signatureVerifies(k.json, k.sign(data), data), k.json.keytype).to.equal(true);
      expect(signatureVerifies(k.json, k.sign(Buffer.from('other')), data), k.json.keytype).to.equal(false);
    }
    // An ecdsa key given as hex (the uncompressed point), as @tufjs/models also reads it.
    const hexEc = { ...ec.json, keyval: { public: (createPublicKey(ec.json.keyval.public!).export({ format: 'der', type: 'spki' }) as Buffer).subarray(-65).toString('hex') } };
    expect(signatureVerifies(hexEc, ec.sign(data), data)).to.equal(true);
    // Another key's signature, a non-hex string, an unknown key type, a key with no public value.
    expect(signatureVerifies(ed[0].json, ed[1].sign(data), data)).to.equal(false);
    expect(signatureVerifies(ed[0].json, `${ed[0].sign(data)}zz`, data)).to.equal(false);
    expect(signatureVerifies({ ...ed[0].json, keytype: 'dsa' }, ed[0].sign(data), data)).to.equal(false);
    expect(signatureVerifies({ keytype: 'ed25519', scheme: 'ed25519', keyval: {} }, ed[0].sign(data), data)).to.equal(false);
  });

  it('ed25519Verifies: only an ed25519/ed25519 key and a 64-byte signature', () => {
    expect(ed25519Verifies(ed[0].json, ed[0].sign(data), data)).to.equal(true);
    expect(ed25519Verifies({ ...ed[0].json, scheme: 'other' }, ed[0].sign(data), data)).to.equal(false);
    expect(ed25519Verifies(ec.json, ec.sign(data), data)).to.equal(false);
  });

  it('checkSignatures sorts signatures into valid, invalid and unknown keys', () => {
    const keys = { [ed[0].keyid]: ed[0].json, [ed[1].keyid]: ed[1].json };
    const c = checkSignatures(data, [{ keyid: ed[0].keyid, sig: ed[0].sign(data) }, { keyid: ed[1].keyid, sig: ed[0].sign(data) }, { keyid: ed[2].keyid, sig: ed[2].sign(data) }], keys);
    expect(c).to.deep.equal({ valid: [ed[0].keyid], invalid: [ed[1].keyid], unknown: [ed[2].keyid] });
  });

  it('checkThreshold: met by distinct valid keys of the role; not by keys outside it, repeats, or bad signatures', () => {
    const keys = Object.fromEntries(ed.map((k) => [k.keyid, k.json]));
    const role = { keyids: [ed[0].keyid, ed[1].keyid], threshold: 2 };
    const s = (k: TestKey) => ({ keyid: k.keyid, sig: k.sign(data) });
    expect(checkThreshold(data, [s(ed[0]), s(ed[1])], keys, role).met).to.equal(true);
    const short = checkThreshold(data, [s(ed[0]), s(ed[2])], keys, role);
    expect(short.met).to.equal(false);
    expect(short.signedBy).to.deep.equal([ed[0].keyid]);
    expect(short.missing).to.deep.equal([ed[1].keyid]);
    expect(checkThreshold(data, [s(ed[0]), s(ed[0])], keys, role).met).to.equal(false);
    const bad = checkThreshold(data, [s(ed[0]), { keyid: ed[1].keyid, sig: ed[0].sign(data) }], keys, role);
    expect(bad.met).to.equal(false);
    expect(bad.badSignatures).to.deep.equal([ed[1].keyid]);
    // A role key missing from `keys` never counts; a role key listed twice counts once.
    expect(checkThreshold(data, [s(ed[0]), s(ed[1])], { [ed[0].keyid]: ed[0].json }, role).met).to.equal(false);
    expect(checkThreshold(data, [s(ed[0])], keys, { keyids: [ed[0].keyid, ed[0].keyid], threshold: 2 }).met).to.equal(false);
    // Threshold 0 is never met.
    expect(checkThreshold(data, [s(ed[0])], keys, { keyids: [ed[0].keyid], threshold: 0 }).met).to.equal(false);
  });

  it('delegationFor: root roles, delegated roles by name, TAP 15 bins in range', () => {
    const root = rootWith([ed[0]], 1);
    expect(delegationFor(root, 'targets').role.threshold).to.equal(1);
    expect(() => delegationFor(root, 'mirror')).to.throw(ThresholdError, 'no delegation found for mirror');
    const bins: DelegatorSigned = { _type: 'targets', delegations: { keys: {}, succinct_roles: { keyids: [ed[0].keyid], threshold: 1, bit_length: 4, name_prefix: 'bin' } } };
    expect(delegationFor(bins, 'bin-f').role.keyids).to.deep.equal([ed[0].keyid]);
    for (const name of ['bin-10', 'bin-0f', 'bin-g', 'bins']) expect(() => delegationFor(bins, name), name).to.throw(ThresholdError, `no delegation found for ${name}`);
    expect(() => delegationFor({ _type: 'targets' }, 'x')).to.throw(ThresholdError, 'No delegations found for x');
  });

  describe('agrees with @tufjs/models Metadata.verifyDelegate', () => {
    const cases: [string, () => [Record<string, unknown>, string, { keyid: string; sig: string }[]]][] = [
      ['ed25519 root, 2 of 3, met', () => [rootWith(ed, 2), 'targets', [ed[0], ed[2]].map((k) => ({ keyid: k.keyid, sig: k.sign(data) }))]],
      ['ed25519 root, 2 of 3, one signature', () => [rootWith(ed, 2), 'targets', [{ keyid: ed[1].keyid, sig: ed[1].sign(data) }]]],
      ['ed25519 root, a bad signature', () => [rootWith(ed, 1), 'snapshot', [{ keyid: ed[1].keyid, sig: ed[0].sign(data) }]]],
      ['ed25519 root, signatures by keys outside the role', () => [rootWith([ed[0]], 1), 'timestamp', [{ keyid: ed[1].keyid, sig: ed[1].sign(data) }]]],
      ['ecdsa key, met', () => [rootWith([ec], 1), 'targets', [{ keyid: ec.keyid, sig: ec.sign(data) }]]],
      ['ecdsa key, other bytes signed', () => [rootWith([ec], 1), 'targets', [{ keyid: ec.keyid, sig: ec.sign(Buffer.from('x')) }]]],
      ['rsa-pss key, met', () => [rootWith([rsa], 1), 'targets', [{ keyid: rsa.keyid, sig: rsa.sign(data) }]]],
      ['rsa-pss key, other bytes signed', () => [rootWith([rsa], 1), 'targets', [{ keyid: rsa.keyid, sig: rsa.sign(Buffer.from('x')) }]]],
      ['mixed key types, 2 of 3', () => [rootWith([ed[0], ec, rsa], 2), 'targets', [ec, rsa].map((k) => ({ keyid: k.keyid, sig: k.sign(data) }))]],
      ['no such role', () => [rootWith([ed[0]], 1), 'mirror', []]],
      ['delegated targets role by name, met', () => [
        { _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', targets: {}, delegations: { keys: { [ed[0].keyid]: ed[0].json }, roles: [{ name: 'project-a', keyids: [ed[0].keyid], threshold: 1, terminating: true, paths: ['packages/a/*'] }] } },
        'project-a',
        [{ keyid: ed[0].keyid, sig: ed[0].sign(data) }],
      ]],
      ['delegated targets role, not delegated', () => [
        { _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', targets: {}, delegations: { keys: {}, roles: [] } },
        'project-b',
        [],
      ]],
      ['targets without delegations', () => [{ _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', targets: {} }, 'claimed', []]],
      ['succinct bins, met and out of range', () => [
        { _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', targets: {}, delegations: { keys: { [ed[0].keyid]: ed[0].json }, succinct_roles: { keyids: [ed[0].keyid], threshold: 1, bit_length: 2, name_prefix: 'bin' } } },
        'bin-3',
        [{ keyid: ed[0].keyid, sig: ed[0].sign(data) }],
      ]],
      ['succinct bins, a bin out of range', () => [
        { _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', targets: {}, delegations: { keys: { [ed[0].keyid]: ed[0].json }, succinct_roles: { keyids: [ed[0].keyid], threshold: 1, bit_length: 2, name_prefix: 'bin' } } },
        'bin-4',
        [{ keyid: ed[0].keyid, sig: ed[0].sign(data) }],
      ]],
    ];
    for (const [name, make] of cases) {
      it(name, () => {
        const [delegator, role, sigs] = make();
        expect(ours(delegator as unknown as DelegatorSigned, role, sigs)).to.equal(upstream(delegator, role, sigs));
      });
    }
  });
});
