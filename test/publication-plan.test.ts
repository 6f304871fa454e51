// metadata/publication-plan.ts: the pure plan step of the publication pipeline. Given the
// published state, the edits and `now`, it returns the payloads to sign (role, version, canonical
// signed text, signer slot), the snapshot and the timestamp as a function of the snapshot bytes.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { buildTargets, canonicalSnapshot, serializeEnvelope, type TargetInfo, type TargetsSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { TufpipError } from '../metadata/errors.js';
import { defaultExpiryDays, expiresAt } from '../metadata/profile.js';
import { SNAPSHOT_TEXT_EDITS, editedTargetsText, planPublication, type PublicationEdits, type PublishedState } from '../metadata/publication-plan.js';
import { SnapshotText } from '../metadata/snapshot-text.js';

const NOW = new Date('2030-01-02T03:04:05.678Z');
const SIG = { keyid: 'a'.repeat(64), sig: 'b'.repeat(128) };
const info = (n: number): TargetInfo => ({ length: n, hashes: { sha256: n.toString(16).padStart(64, '0') } });

function published(versions: Map<string, number>, current: Record<string, TargetsSigned> = {}): PublishedState {
  const text = SnapshotText.fromBytes(Buffer.from(serializeEnvelope(canonicalSnapshot(9, '2030-01-01T00:00:00Z', versions), [SIG]), 'utf8'));
  return {
    timestampVersion: 20,
    snapshotVersion: 9,
    snapshotText: () => text,
    versionOf: (r) => versions.get(`${r}.json`),
    versions: () => versions,
    current: new Map(Object.entries(current).map(([r, s]) => [r, { version: s.version, signed: s }])),
  };
}

function edits(e: Partial<PublicationEdits>): PublicationEdits {
  return { targetEdits: new Map(), resign: new Set(), replaced: new Map(), presigned: new Map(), bulk: new Set(), forceSnapshot: false, newRoot: false, ...e };
}

describe('metadata/publication-plan: the plan step (pure)', () => {
  const versions = new Map([
    ['bins.json', 1],
    ['bin-0.json', 3],
    ['bin-1.json', 5],
    ['claimed.json', 2],
    ['recently-claimed.json', 1],
    ['targets.json', 1],
  ]);
  const bin0 = buildTargets(3, '2029-01-01T00:00:00Z', { 'packages/a/a-1.whl': info(1), 'packages/a/a-0.whl': info(2) });

  it('edits a bin in place: next version, expiry from now, targets edited, signed by the online key', () => {
    const plan = planPublication(
      published(versions, { 'bin-0': bin0 }),
      edits({ targetEdits: new Map([['bin-0', new Map<string, TargetInfo | null>([['packages/a/a-2.whl', info(3)], ['packages/a/a-0.whl', null]])]]) }),
      NOW,
      defaultExpiryDays,
    );
    expect(plan.payloads).to.have.length(1);
    const p = plan.payloads[0];
    expect([p.role, p.version, p.slot]).to.deep.equal(['bin-0', 4, 'online']);
    const exp = expiresAt(NOW, defaultExpiryDays.bin);
    expect(p.signedText).to.equal(canonicalize(buildTargets(4, exp, { 'packages/a/a-1.whl': info(1), 'packages/a/a-2.whl': info(3) })));
    expect(p.due).to.deep.equal({ expires: exp, periodDays: defaultExpiryDays.bin });
    expect(bin0.targets).to.have.keys('packages/a/a-1.whl', 'packages/a/a-0.whl'); // the input is not changed
    expect([...plan.versionEdits]).to.deep.equal([['bin-0.json', 4]]);
  });

  it('edits a small snapshot change as text; the result equals the snapshot built in full', () => {
    const plan = planPublication(published(versions, { 'bin-0': bin0 }), edits({ resign: new Set(['bin-0']) }), NOW, defaultExpiryDays);
    expect(plan.snapshot?.built).to.equal('edited');
    expect(plan.snapshot?.version).to.equal(10);
    const full = new Map(versions).set('bin-0.json', 4);
    expect(plan.snapshot?.signedText).to.equal(canonicalSnapshot(10, expiresAt(NOW, defaultExpiryDays.snapshot), full));
  });

  it('builds the snapshot in full past SNAPSHOT_TEXT_EDITS changed roles or for a new role', () => {
    const many = new Map<string, number>();
    for (let i = 0; i <= SNAPSHOT_TEXT_EDITS; i++) many.set(`bin-${i.toString(16)}.json`, 1);
    const presigned = new Map([...many.keys()].map((f) => [f.slice(0, -5), 2]));
    const plan = planPublication(published(many), edits({ presigned }), NOW, defaultExpiryDays);
    expect(plan.snapshot?.built).to.equal('in-full');
    expect(plan.snapshot?.newVersions?.get('bin-0.json')).to.equal(2);
    const fresh = planPublication(published(versions), edits({ presigned: new Map([['project-x', 1]]) }), NOW, defaultExpiryDays);
    expect(fresh.snapshot?.built).to.equal('in-full');
    expect(fresh.snapshot?.newVersions?.get('project-x.json')).to.equal(1);
  });

  it('orders payloads: edited in place, then replaced (given signers), then presigned; offline presigned roles reset their due entry', () => {
    const claimed = buildTargets(3, '2031-01-01T00:00:00Z', {});
    const plan = planPublication(
      published(versions, { 'bin-1': buildTargets(5, 'x', {}) }),
      edits({ presigned: new Map([['targets', 2]]), replaced: new Map([['claimed', claimed]]), resign: new Set(['bin-1']) }),
      NOW,
      defaultExpiryDays,
    );
    expect(plan.payloads.map((p) => [p.role, p.slot, p.version])).to.deep.equal([
      ['bin-1', 'online', 6],
      ['claimed', 'given', 3],
      ['targets', 'presigned', 2],
    ]);
    expect(plan.payloads[1].signedText).to.equal(canonicalize(claimed));
    expect(plan.payloads[2].due).to.deep.equal({ expires: '', periodDays: 0 });
  });

  it('plans bulk bins by version only; a role not in the snapshot is NOT_FOUND', () => {
    const plan = planPublication(published(versions), edits({ resign: new Set(['bin-1']), bulk: new Set(['bin-1']) }), NOW, defaultExpiryDays);
    expect(plan.payloads).to.deep.equal([{ role: 'bin-1', version: 6, slot: 'bulk', due: { expires: expiresAt(NOW, defaultExpiryDays.bin), periodDays: defaultExpiryDays.bin } }]);
    expect(() => planPublication(published(versions), edits({ resign: new Set(['bin-7']), bulk: new Set(['bin-7']) }), NOW, defaultExpiryDays))
      .to.throw(TufpipError, /bin-7 is not in the published snapshot/);
    expect(() => planPublication(published(versions), edits({ resign: new Set(['bin-7']) }), NOW, defaultExpiryDays)).to.throw(TufpipError, /not in the published snapshot/);
  });

  it('refuses a role both edited and replaced', () => {
    const e = edits({ targetEdits: new Map([['bin-0', new Map()]]), replaced: new Map([['bin-0', bin0]]) });
    expect(() => planPublication(published(versions, { 'bin-0': bin0 }), e, NOW, defaultExpiryDays)).to.throw(/both edited and replaced/);
  });

  it('leaves the snapshot alone for a timestamp-only publication; the timestamp names the snapshot bytes given', () => {
    const plan = planPublication(published(versions), edits({}), NOW, defaultExpiryDays);
    expect(plan.snapshot).to.equal(undefined);
    const bytes = Buffer.from('snapshot bytes');
    const ts = plan.timestamp(bytes);
    expect(ts.version).to.equal(21);
    const signed = JSON.parse(ts.signedText) as { meta: Record<string, unknown>; expires: string };
    expect(signed.meta['snapshot.json']).to.deep.equal({ version: 9, length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } });
    expect(signed.expires).to.equal(expiresAt(NOW, defaultExpiryDays.timestamp));
    expect(planPublication(published(versions), edits({ forceSnapshot: true }), NOW, defaultExpiryDays).timestamp(bytes).signedText).to.include('"version":10');
  });

  it('plans init from an empty published state: version 1 of everything, snapshot and timestamp 1', () => {
    const empty: PublishedState = { timestampVersion: 0, snapshotVersion: 0, snapshotText: () => undefined, versionOf: () => undefined, versions: () => new Map(), current: new Map() };
    const plan = planPublication(empty, edits({ replaced: new Map([['targets', buildTargets(1, 'x', {})], ['bins', buildTargets(1, 'y', {})]]) }), NOW, defaultExpiryDays);
    expect(plan.snapshot?.built).to.equal('in-full');
    expect([...plan.snapshot!.newVersions!]).to.deep.equal([['targets.json', 1], ['bins.json', 1]]);
    expect(plan.timestamp(Buffer.from('s')).version).to.equal(1);
  });

  it('editedTargetsText in place edits the caller\'s own parse (the bulk rebuild) and agrees with the copy', () => {
    const mine = JSON.parse(JSON.stringify(bin0)) as TargetsSigned;
    const e: [string, TargetInfo | null][] = [['packages/a/a-1.whl', null]];
    const copy = editedTargetsText(bin0, e, 4, 'z');
    expect(editedTargetsText(mine, e, 4, 'z', true)).to.equal(copy);
    expect(mine.targets).to.not.have.property('packages/a/a-1.whl');
    expect(bin0.targets).to.have.property('packages/a/a-1.whl');
  });
});
