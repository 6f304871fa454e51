// metadata/key-transition.ts: the document, its two thresholds (old keys AND new keys, counted by
// metadata/threshold.ts), and following a chain from a pinned key set to the current one.
import './setup.js';
import { expect } from 'chai';
import { sign } from 'node:crypto';
import {
  buildTransition,
  checkTransition,
  followTransitions,
  isTransitionPath,
  parseTransition,
  transitionBytes,
  transitionHash,
  transitionPath,
  type KeySet,
  type KeyTransition,
} from '../metadata/key-transition.js';
import { parseDistFilename } from '../metadata/pep503.js';
import { planRelease } from '../metadata/releases.js';
import { newKey, type TestKey } from './helpers/tuf-fixture.js';

const setOf = (keys: TestKey[], threshold: number): KeySet => ({ keys: Object.fromEntries(keys.map((k) => [k.keyid, k.pub])), threshold });
const idsOf = (keys: TestKey[], threshold: number) => ({ keyids: keys.map((k) => k.keyid), threshold });

function signed(t: KeyTransition, signers: TestKey[]): KeyTransition {
  const bytes = transitionBytes(t.signed);
  return { ...t, signatures: signers.map((k) => ({ keyid: k.keyid, sig: sign(null, bytes, k.priv).toString('hex') })) };
}

describe('metadata/key-transition: maintainers rotating their keys', () => {
  const A = [newKey(), newKey(), newKey()];
  const B = [newKey(), newKey()];
  const C = [newKey()];
  const t1 = signed(buildTransition({ project: 'gamma', sequence: 1, previous: null, old: setOf(A, 2), new: setOf(B, 2) }), [A[0], A[2], ...B]);
  const t2 = signed(buildTransition({ project: 'gamma', sequence: 2, previous: transitionHash(t1.signed), old: setOf(B, 2), new: setOf(C, 1) }), [...B, C[0]]);

  it('its target path is one segment under packages/<p>/, matched by the project pattern, never a distribution filename', () => {
    expect(transitionPath('gamma', 3)).to.equal('packages/gamma/tufpip-key-transition-3.json');
    expect(isTransitionPath(transitionPath('gamma', 3))).to.equal(true);
    expect(isTransitionPath('packages/gamma/gamma-1.0-py3-none-any.whl')).to.equal(false);
    expect(isTransitionPath('packages/gamma/x/tufpip-key-transition-1.json')).to.equal(false);
    expect(isTransitionPath('packages/gamma/tufpip-key-transition-0.json')).to.equal(false);
    expect(() => parseDistFilename('tufpip-key-transition-1.json')).to.throw();
  });

  it('a transition signed by a threshold of the old and of the new keys counts; it round-trips through JSON', () => {
    expect(checkTransition(t1, 'gamma')).to.include({ ok: true });
    expect(checkTransition(parseTransition(JSON.stringify(t1)), 'gamma').ok).to.equal(true);
  });

  it('too few old keys, too few new keys, another project, or a changed document: it does not count', () => {
    const fewOld = signed(t1, [A[0], ...B]);
    expect(checkTransition(fewOld, 'gamma').reason).to.equal('transition 1 is signed by 1/2 of the old keys');
    const fewNew = signed(t1, [A[0], A[1], B[0]]);
    expect(checkTransition(fewNew, 'gamma').reason).to.equal('transition 1 is signed by 1/2 of the new keys');
    expect(checkTransition(t1, 'alpha').reason).to.equal('transition 1 is for project gamma, not alpha');
    const tampered: KeyTransition = { ...t1, signed: { ...t1.signed, new: setOf(C, 1) } };
    expect(checkTransition(tampered, 'gamma').ok).to.equal(false);
    // A key listed under another key's ID cannot make a signature count twice.
    const misfiled: KeyTransition = signed({ ...t1, signed: { ...t1.signed, new: { keys: { [B[0].keyid]: B[0].pub, [B[1].keyid]: B[0].pub }, threshold: 2 } } }, [A[0], A[1], B[0]]);
    expect(checkTransition(misfiled, 'gamma').reason).to.contain('not listed under its own key ID');
  });

  it('follows A -> B -> C, and from a lock made after B, B -> C', () => {
    expect(followTransitions('gamma', [t1, t2], idsOf(A, 2), idsOf(C, 1))).to.deep.equal({ covered: true, followed: [1, 2], reason: '' });
    expect(followTransitions('gamma', [t1, t2], idsOf(A, 2), idsOf(B, 2))).to.include({ covered: true });
    expect(followTransitions('gamma', [t1, t2], idsOf(B, 2), idsOf(C, 1)).followed).to.deep.equal([2]);
  });

  it('refuses a chain that skips a link, breaks its hash chain, starts elsewhere, or ends elsewhere', () => {
    expect(followTransitions('gamma', [], idsOf(A, 2), idsOf(B, 2)).reason).to.equal('the project publishes no key transition');
    expect(followTransitions('gamma', [t2], idsOf(B, 2), idsOf(C, 1)).reason).to.equal('transition 1 carries sequence number 2');
    const unlinked = signed(buildTransition({ project: 'gamma', sequence: 2, previous: '0'.repeat(64), old: setOf(B, 2), new: setOf(C, 1) }), [...B, C[0]]);
    expect(followTransitions('gamma', [t1, unlinked], idsOf(A, 2), idsOf(C, 1)).reason).to.equal('transition 2 does not name transition 1 as its predecessor');
    const jump = signed(buildTransition({ project: 'gamma', sequence: 2, previous: transitionHash(t1.signed), old: setOf(A, 2), new: setOf(C, 1) }), [A[0], A[1], C[0]]);
    expect(followTransitions('gamma', [t1, jump], idsOf(A, 2), idsOf(C, 1)).reason).to.equal('transition 2 does not start from the keys transition 1 moved to');
    expect(followTransitions('gamma', [t1], idsOf(C, 1), idsOf(B, 2)).reason).to.equal('no transition starts from the pinned keys');
    expect(followTransitions('gamma', [t1], idsOf(A, 2), idsOf(C, 1)).reason).to.equal('the transitions do not lead to the keys now signing');
    expect(followTransitions('gamma', [t1], idsOf(A, 1), idsOf(B, 2)).covered).to.equal(false);
    const weak = signed(t2, [B[0], C[0]]);
    expect(followTransitions('gamma', [t1, weak], idsOf(A, 2), idsOf(C, 1))).to.deep.equal({ covered: false, followed: [1], reason: 'transition 2 is signed by 1/2 of the old keys' });
  });

  it('parseTransition refuses what is not a transition', () => {
    expect(() => parseTransition('{')).to.throw('not valid JSON');
    expect(() => parseTransition('{"signed":{"_type":"targets"}}')).to.throw('not a tufpip-key-transition document');
    expect(() => parseTransition(JSON.stringify({ ...t1, signed: { ...t1.signed, previous: 'x' } }))).to.throw('malformed');
  });

  it('planRelease: the project role lists its transitions, keeps them in later releases, never rewrites one', () => {
    const keys = Object.fromEntries(B.map((k) => [k.keyid, k.pub]));
    const info = { length: 10, hashes: { sha256: 'a'.repeat(64) } };
    const base = { project: 'gamma', keys, threshold: 2, now: new Date('2026-01-01T00:00:00Z'), expiresDays: 30 };
    const first = planRelease({ ...base, version: '1.0', files: [{ filename: 'gamma-1.0-py3-none-any.whl', length: 1, sha256: 'b'.repeat(64) }], transitions: new Map([[transitionPath('gamma', 1), info]]) });
    const proj = first.roles.get('project-gamma')!;
    expect(proj.targets).to.deep.equal({ [transitionPath('gamma', 1)]: info });
    const releases = new Map([...first.roles].filter(([n]) => n !== 'project-gamma'));
    const next = planRelease({ ...base, version: '1.1', files: [{ filename: 'gamma-1.1-py3-none-any.whl', length: 1, sha256: 'c'.repeat(64) }], current: { project: proj, releases } });
    expect(Object.keys(next.roles.get('project-gamma')!.targets)).to.deep.equal([transitionPath('gamma', 1)]);
    expect(() => planRelease({ ...base, version: '1.1', files: [], current: { project: proj, releases }, transitions: new Map([[transitionPath('gamma', 1), { ...info, length: 11 }]]) })).to.throw('never rewritten');
  });
});
