// metadata/snapshot-text.ts: a snapshot read and edited as text must agree exactly with the
// reference (JSON.parse + @tufjs/canonical-json), and must not recognise anything but tufpip's
// canonical shape (callers then take the full path).
import { expect } from 'chai';
import canonicalJson from '@tufjs/canonical-json';
import { SnapshotText } from '../metadata/snapshot-text.js';
import { canonicalSnapshot, serializeEnvelope } from '../metadata/builders.js';
import { binName } from '../metadata/roles.js';

const SIG = { keyid: 'a'.repeat(64), sig: 'b'.repeat(128) };
const EXPIRES = '2030-01-02T03:04:05Z';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function versionsFor(bins: number, random: () => number, projects: string[] = []): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of ['targets', 'bins', 'claimed', 'recently-claimed', ...projects]) m.set(`${r}.json`, 1 + Math.floor(random() * 5));
  for (let i = 0; i < bins; i++) m.set(`${binName(i, bins)}.json`, 1 + Math.floor(random() * 1000));
  return m;
}

function fileOf(versions: Map<string, number>, version = 7, expires = EXPIRES, sigs = [SIG]): Buffer {
  return Buffer.from(serializeEnvelope(canonicalSnapshot(version, expires, versions), sigs), 'utf8');
}

/** The reference: what a client canonicalises after parsing the file. */
const reference = (bytes: Buffer) => canonicalJson.canonicalize((JSON.parse(bytes.toString('utf8')) as { signed: unknown }).signed);

describe('metadata/snapshot-text: the snapshot as text', () => {
  const projects = ['project-alpha', 'project-alpha--1.0', 'project-alpha--1.0.post1', 'project-b-c', 'project-zz--2!1.0+local'];

  for (const bins of [1, 2, 16, 256, 16384]) {
    it(`reads a ${bins}-bin snapshot: every entry, version, expiry, and the signed text the reference canonicalises`, () => {
      const random = rng(bins);
      const versions = versionsFor(bins, random, projects);
      const bytes = fileOf(versions, 42, EXPIRES, [SIG, { keyid: 'c'.repeat(64), sig: 'd'.repeat(128) }]);
      const t = SnapshotText.fromBytes(bytes);
      expect(t, 'recognised').to.not.equal(undefined);
      expect(t!.version).to.equal(42);
      expect(t!.expires).to.equal(EXPIRES);
      expect(t!.size).to.equal(versions.size);
      expect(t!.signatures.map((s) => s.keyid)).to.deep.equal(['a'.repeat(64), 'c'.repeat(64)]);
      expect(t!.signedText).to.equal(reference(bytes));
      for (const [file, v] of versions) expect(t!.versionOf(file), file).to.equal(v);
      for (const absent of ['aaa.json', 'bin-.json', 'zzz.json', 'project-alpha--1.json', 'targets', 'bins.jso', `${binName(0, bins)}.jsonx`]) {
        expect(t!.versionOf(absent), absent).to.equal(undefined);
      }
    });
  }

  it('next(): equals a full canonical build of the edited map, and the reference agrees (random edits)', () => {
    const random = rng(99);
    for (const bins of [1, 4, 64, 1024]) {
      const versions = versionsFor(bins, random, projects);
      const t = SnapshotText.fromBytes(fileOf(versions))!;
      for (let round = 0; round < 20; round++) {
        const names = [...versions.keys()];
        const changes = new Map<string, number>();
        const n = Math.floor(random() * 5);
        for (let i = 0; i < n; i++) changes.set(names[Math.floor(random() * names.length)], Math.floor(random() * 1e12) + 1);
        const expires = `2031-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}T00:00:00Z`;
        const text = t.next(8 + round, expires, changes)!;
        const want = new Map(versions);
        for (const [k, v] of changes) want.set(k, v);
        expect(text).to.equal(canonicalSnapshot(8 + round, expires, want));
        const again = Buffer.from(serializeEnvelope(text, [SIG]));
        expect(reference(again)).to.equal(text);
        const t2 = SnapshotText.fromBytes(again)!;
        // fromEditOf (the self-check's reading of an edit) agrees with the full reading.
        const e2 = SnapshotText.fromEditOf(again, t, [...changes.keys()]);
        expect(e2, 'an edit is recognised as one').to.not.equal(undefined);
        for (const k of ['version', 'expires', 'specVersion', 'size', 'signedText', 'signatures'] as const) expect(e2![k], k).to.deep.equal(t2[k]);
        expect(t2.sameEntriesExcept(t, [...changes.keys()]), 'same entries apart from the changed ones').to.equal(true);
        if (changes.size > 0 && [...changes].some(([k, v]) => versions.get(k) !== v)) {
          expect(t2.sameEntriesExcept(t, []), 'the changed entries do differ').to.equal(false);
        }
      }
    }
  });

  it('next(): undefined for an entry the snapshot does not list (a new role: the caller builds in full)', () => {
    const t = SnapshotText.fromBytes(fileOf(versionsFor(4, rng(1))))!;
    expect(t.next(8, EXPIRES, new Map([['project-new.json', 1]]))).to.equal(undefined);
    expect(() => t.next(8, EXPIRES, new Map([['bin-0.json', 0]]))).to.throw(RangeError);
    expect(() => t.next(0, EXPIRES, new Map())).to.throw(RangeError);
  });

  it('sameEntriesExcept(): false when an entry is dropped or another one changed', () => {
    const versions = versionsFor(16, rng(2));
    const t = SnapshotText.fromBytes(fileOf(versions))!;
    const dropped = new Map(versions);
    dropped.delete('bin-7.json');
    expect(SnapshotText.fromBytes(fileOf(dropped))!.sameEntriesExcept(t, [])).to.equal(false);
    expect(SnapshotText.fromBytes(fileOf(dropped))!.sameEntriesExcept(t, ['bin-7.json'])).to.equal(false);
    const other = new Map(versions);
    other.set('bin-3.json', versions.get('bin-3.json')! + 1);
    other.set('bin-9.json', versions.get('bin-9.json')! + 1);
    const t2 = SnapshotText.fromBytes(fileOf(other))!;
    expect(t2.sameEntriesExcept(t, ['bin-3.json'])).to.equal(false);
    expect(t2.sameEntriesExcept(t, ['bin-3.json', 'bin-9.json'])).to.equal(true);
  });

  describe('recognises nothing but the canonical shape', () => {
    const good = fileOf(versionsFor(4, rng(3))).toString('latin1');
    const cases: Record<string, (s: string) => string> = {
      'pretty-printed (valid JSON, signed over the canonical form)': (s) => JSON.stringify(JSON.parse(s), null, 1),
      'two entries swapped (keys out of order)': (s) => s.replace(/("bin-0\.json":\{"version":\d+\}),("bin-1\.json":\{"version":\d+\})/, '$2,$1'),
      'a duplicate key': (s) => s.replace(/"bin-1\.json":\{"version":(\d+)\}/, '"bin-1.json":{"version":$1},"bin-1.json":{"version":$1}'),
      'a version that is a string': (s) => s.replace(/"bin-1\.json":\{"version":(\d+)\}/, '"bin-1.json":{"version":"$1"}'),
      'a version 0': (s) => s.replace(/"bin-1\.json":\{"version":\d+\}/, '"bin-1.json":{"version":0}'),
      'a version with a leading zero': (s) => s.replace(/"bin-1\.json":\{"version":(\d+)\}/, '"bin-1.json":{"version":0$1}'),
      'a float version': (s) => s.replace(/"bin-1\.json":\{"version":(\d+)\}/, '"bin-1.json":{"version":$1.5}'),
      'a version beyond 2^53': (s) => s.replace(/"bin-1\.json":\{"version":\d+\}/, '"bin-1.json":{"version":9007199254740993}'),
      'an unknown role': (s) => s.replace('"bins.json"', '"aaa.json":{"version":1},"bins.json"'),
      'an entry with length and hashes': (s) => s.replace(/"bin-1\.json":\{"version":(\d+)\}/, '"bin-1.json":{"length":1,"version":$1}'),
      'an extra field in signed': (s) => s.replace('"spec_version"', '"x":1,"spec_version"'),
      'a non-ASCII byte in a name': (s) => s.replace('"bins.json"', '"bins\u00e9.json"'),
      'whitespace after a comma': (s) => s.replace('},"bin-1.json"', '}, "bin-1.json"'),
      'trailing bytes': (s) => s + '\n',
      'no signatures field': (s) => s.replace(/^\{"signatures":\[[^\]]*\],/, '{'),
      'two signatures by one key': (s) => s.replace(/"signatures":\[(\{[^}]*\})\]/, '"signatures":[$1,$1]'),
      'a signature that is not hex': (s) => s.replace(/"sig":"b/, '"sig":"z'),
      'another _type': (s) => s.replace('"_type":"snapshot"', '"_type":"timestamp"'),
      'an expiry with milliseconds': (s) => s.replace(EXPIRES, '2030-01-02T03:04:05.000Z'),
    };
    const prev = SnapshotText.fromBytes(Buffer.from(good, 'latin1'))!;
    /** The entries the damages touch, as if the transaction had edited them. */
    const edited = ['bin-0.json', 'bin-1.json', 'bins.json'];
    it('the unmodified file is recognised (control), also as an edit of itself', () => {
      expect(SnapshotText.fromBytes(Buffer.from(good, 'latin1'))).to.not.equal(undefined);
      expect(SnapshotText.fromEditOf(Buffer.from(good, 'latin1'), prev, edited)).to.not.equal(undefined);
      const bumped = good.replace(/"bin-1\.json":\{"version":\d+\}/, '"bin-1.json":{"version":123456789012345}');
      expect(SnapshotText.fromEditOf(Buffer.from(bumped, 'latin1'), prev, edited)!.versionOf('bin-1.json')).to.equal(123456789012345);
    });
    for (const [name, damage] of Object.entries(cases)) {
      it(name, () => {
        const s = damage(good);
        expect(s, 'the damage applied').to.not.equal(good);
        expect(SnapshotText.fromBytes(Buffer.from(s, 'utf8'))).to.equal(undefined);
        expect(SnapshotText.fromEditOf(Buffer.from(s, 'utf8'), prev, edited), 'as an edit of the good file').to.equal(undefined);
      });
    }
    it('an edit that changes an entry it was not told about is not recognised as an edit', () => {
      const other = good.replace(/"bin-2\.json":\{"version":(\d+)\}/, (_m, v: string) => `"bin-2.json":{"version":${Number(v) + 1}}`);
      expect(SnapshotText.fromBytes(Buffer.from(other, 'latin1')), 'canonical all the same').to.not.equal(undefined);
      expect(SnapshotText.fromEditOf(Buffer.from(other, 'latin1'), prev, edited)).to.equal(undefined);
      expect(SnapshotText.fromEditOf(Buffer.from(other, 'latin1'), prev, [...edited, 'bin-2.json'])).to.not.equal(undefined);
    });
  });
});
