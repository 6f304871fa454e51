// The pure signer-pin and pylock logic (metadata/signer-pin.ts, metadata/pylock.ts): one row per
// change kind, each with the control that holds, and the malformed-lock refusals.
import { expect } from 'chai';
import { comparePins, diffPins, pinOf, type PinnedPackage, type RootPin } from '../metadata/signer-pin.js';
import { parsePylock, pylockDocument, type Pylock } from '../metadata/pylock.js';

const K = (c: string) => c.repeat(64);
const ROOT: RootPin = { keyids: [K('a')], threshold: 1 };
const IDX = 'http://127.0.0.1:1/';
const dev = (keys: string[], threshold: number, role = 'project-gamma') => pinOf(IDX, ROOT, { kind: 'developer', role, keyids: keys, threshold });
const index = (keys: string[]) => pinOf(IDX, ROOT, { kind: 'index', role: 'bin-0a', keyids: keys, threshold: 1 });

describe('signer pins (pure)', () => {
  const cases: Record<string, [ReturnType<typeof dev>, ReturnType<typeof dev>, string | undefined]> = {
    'same keys, other order: holds': [dev([K('1'), K('2')], 2), dev([K('2'), K('1')], 2), undefined],
    'a release role of the same project and keys: holds': [dev([K('1')], 1), dev([K('1')], 1, 'project-gamma--1.1'), undefined],
    'other developer keys: substitution': [dev([K('1')], 1), dev([K('9')], 1), 'substitution'],
    'developer to index: downgrade': [dev([K('1')], 1), index([K('5')]), 'downgrade'],
    'same keys, other threshold: threshold-change': [dev([K('1'), K('2')], 2), dev([K('1'), K('2')], 1), 'threshold-change'],
    'index to developer: now-developer-signed': [index([K('5')]), dev([K('1')], 1), 'now-developer-signed'],
    'other online key: index-key-change': [index([K('5')]), index([K('6')]), 'index-key-change'],
  };
  for (const [name, [from, to, kind]] of Object.entries(cases)) {
    it(name, () => expect(comparePins('gamma', from, to)?.kind).to.equal(kind));
  }

  it('a release role pins its project role (role graph)', () => {
    expect(dev([K('1')], 1, 'project-gamma--1.1').role).to.equal('project-gamma');
  });

  it('diffPins: root change, new packages only under strict, version-only changes are information', () => {
    const locked: PinnedPackage[] = [{ name: 'gamma', version: '1.0', pin: dev([K('1')], 1) }];
    const fresh: PinnedPackage[] = [
      { name: 'gamma', version: '1.1', pin: dev([K('1')], 1) },
      { name: 'alpha', version: '1.0', pin: index([K('5')]) },
    ];
    expect(diffPins(locked, fresh).changes).to.deep.equal([]);
    expect(diffPins(locked, fresh).versions).to.deep.equal([{ name: 'alpha', to: '1.0' }, { name: 'gamma', from: '1.0', to: '1.1' }]);
    expect(diffPins(locked, fresh, { strict: true }).changes.map((c) => c.kind)).to.deep.equal(['new-not-developer-signed']);
    const rotated = fresh.map((p) => ({ ...p, pin: { ...p.pin, root: { keyids: [K('b')], threshold: 1 } } }));
    expect(diffPins(locked, rotated).changes.map((c) => c.kind)).to.deep.equal(['root-change']);
  });
});

describe('pylock document (pure)', () => {
  const lock: Pylock = {
    requiresPython: '>=3.11',
    requirements: ['gamma'],
    requirementFiles: [],
    packages: [
      {
        name: 'gamma',
        version: '1.0',
        index: `${IDX}simple/`,
        wheels: [{ name: 'gamma-1.0-py3-none-any.whl', url: `${IDX}packages/gamma/gamma-1.0-py3-none-any.whl`, size: 10, sha256: K('c') }],
        pin: dev([K('1')], 1),
      },
    ],
  };
  const doc = () => JSON.parse(JSON.stringify(pylockDocument(lock))) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('round trips', () => expect(parsePylock(doc(), 'x.toml')).to.deep.equal(lock));

  const bad: Record<string, [(d: Record<string, any>) => void, RegExp]> = { // eslint-disable-line @typescript-eslint/no-explicit-any
    'wrong lock-version': [(d) => (d['lock-version'] = '2.0'), /lock-version must be "1\.0"/],
    'no signer pin': [(d) => delete d.packages[0].tool, /package gamma: \[packages\.tool\.tufpip\] is missing/],
    'bad hash': [(d) => (d.packages[0].wheels[0].hashes.sha256 = 'abc'), /package gamma: wheels\[0\]\.hashes\.sha256 must be 64/],
    'file of another package': [(d) => (d.packages[0].wheels[0].name = 'alpha-1.0-py3-none-any.whl'), /is not a file of package gamma/],
    'negative size': [(d) => (d.packages[0].wheels[0].size = -1), /size must be an integer >= 0/],
    'no files': [(d) => delete d.packages[0].wheels, /package gamma has neither wheels nor an sdist/],
    'twice': [(d) => d.packages.push(d.packages[0]), /package gamma is locked twice/],
  };
  for (const [name, [edit, msg]] of Object.entries(bad)) {
    it(`refuses: ${name}`, () => {
      const d = doc();
      edit(d);
      expect(() => parsePylock(d, 'x.toml')).to.throw(msg);
    });
  }
});
