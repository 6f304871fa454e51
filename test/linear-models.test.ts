// Differential tests for tuf/linear-models.ts and metadata/canonical-fast.ts: every patched
// function must behave exactly like the @tufjs/models 4.1.1 / @tufjs/canonical-json 2.0.0 original
// it replaces (same objects, prototypes, own-key order, errors), plus one end-to-end signature check.
//
// The originals are tuf/linear-models.ts's `upstreamMethods`, captured when that module is
// evaluated (importing it patches nothing; installLinearModels() does, whoever calls it first), and
// are swapped back in around each "original" call so that nested calls (Targets.fromJSON ->
// Delegations.fromJSON, toJSON -> canonicalize) are original too.
import { expect } from 'chai';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import util from 'node:util';
import { Metadata, MetadataKind, Root, Snapshot, Targets } from '@tufjs/models';
import type { JSONObject } from '@tufjs/models/dist/utils/types.js';

import { LINEAR_SLOTS, upstreamMethods } from '../tuf/linear-models.js';
const require = createRequire(import.meta.url);
const { Delegations } = require('@tufjs/models/dist/delegations.js') as typeof import('@tufjs/models/dist/delegations.js');
const { DelegatedRole, SuccinctRoles } = require('@tufjs/models/dist/role.js') as typeof import('@tufjs/models/dist/role.js');
const { UnsignedMetadataError } = require('@tufjs/models/dist/error.js') as typeof import('@tufjs/models/dist/error.js');
const canonicalJson = require('@tufjs/canonical-json') as { canonicalize: (value: unknown) => string };

// --- originals (upstreamMethods), whatever was installed since ------------------------------

const SLOTS = LINEAR_SLOTS;

const currentMethods = (): unknown[] => SLOTS.map(([owner, name]) => Reflect.get(owner, name));
const setMethods = (methods: unknown[]): void => {
  SLOTS.forEach(([owner, name], i) => Reflect.set(owner, name, methods[i]));
};

// Captured by linear-models.ts itself before it patches (another test file may load it first).
const ORIGINALS = [...upstreamMethods];
const referenceCanonicalize = ORIGINALS[8] as (value: unknown) => string;

/** Run `fn` with every original upstream method in place, then restore whatever was there. */
function withOriginals<T>(fn: () => T): T {
  const saved = currentMethods();
  setMethods(ORIGINALS);
  try {
    return fn();
  } finally {
    setMethods(saved);
  }
}

// --- comparison -----------------------------------------------------------------------------

type Outcome = { threw: false; value: unknown } | { threw: true; error: unknown };

function attempt(fn: () => unknown): Outcome {
  try {
    return { threw: false, value: fn() };
  } catch (error) {
    return { threw: true, error };
  }
}

/** Prototype names, own keys in order (with enumerability) and values, recursively. */
function layout(value: unknown): string {
  if (typeof value !== 'object' || value === null) return `${typeof value}:${String(value)}`;
  const proto: unknown = Object.getPrototypeOf(value);
  const protoName = proto === null ? 'null' : (proto as { constructor?: { name?: string } }).constructor?.name;
  const parts = Reflect.ownKeys(value).map((key) => {
    const desc = Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor;
    const shown = 'value' in desc ? layout(desc.value) : 'accessor';
    return `${String(key)}${desc.enumerable ? '' : '(hidden)'}=${shown}`;
  });
  return `${protoName}{${parts.join(',')}}`;
}

function expectSame(original: Outcome, patched: Outcome, label: string): void {
  if (original.threw || patched.threw) {
    expect(patched.threw, `${label}: patched threw? ${describeOutcome(patched)}`).to.equal(original.threw);
    expect(original.threw, `${label}: original threw? ${describeOutcome(original)}`).to.equal(true);
    const [a, b] = [original, patched] as Array<{ error: unknown }>;
    const ctor = (e: unknown) => (typeof e === 'object' && e !== null ? e.constructor : typeof e);
    expect(ctor(b.error), `${label}: error class`).to.equal(ctor(a.error));
    expect((b.error as Error).message, `${label}: error message`).to.equal((a.error as Error).message);
    return;
  }
  const [a, b] = [original.value, patched.value];
  if (typeof a === 'object' && a !== null) {
    expect(Object.getPrototypeOf(b), `${label}: prototype`).to.equal(Object.getPrototypeOf(a));
  }
  expect(util.isDeepStrictEqual(a, b), `${label}: isDeepStrictEqual`).to.equal(true);
  expect(layout(b), `${label}: own keys and order`).to.equal(layout(a));
}

function describeOutcome(o: Outcome): string {
  return o.threw ? `threw ${String(o.error)}` : 'returned';
}

const fromJSONs = {
  snapshot: (data: unknown) => Snapshot.fromJSON(data as JSONObject),
  targets: (data: unknown) => Targets.fromJSON(data as JSONObject),
  delegations: (data: unknown) => Delegations.fromJSON(data as JSONObject),
  root: (data: unknown) => Root.fromJSON(data as JSONObject),
};
type Kind = keyof typeof fromJSONs;

/** fromJSON original vs patched; when it succeeds, toJSON original vs patched on the result. */
function checkKind(kind: Kind, data: unknown, label: string): void {
  const original = attempt(() => withOriginals(() => fromJSONs[kind](data)));
  const patched = attempt(() => fromJSONs[kind](data));
  expectSame(original, patched, `${label} fromJSON`);
  if (!patched.threw) checkToJSON(patched.value as { toJSON(): unknown }, label);
}

function checkToJSON(model: { toJSON(): unknown }, label: string): void {
  const original = attempt(() => withOriginals(() => model.toJSON()));
  const patched = attempt(() => model.toJSON());
  expectSame(original, patched, `${label} toJSON`);
  if (!original.threw && !patched.threw) {
    expect(JSON.stringify(patched.value), `${label} toJSON text`).to.equal(JSON.stringify(original.value));
  }
}

// --- inputs ---------------------------------------------------------------------------------

/** An object with exactly these own keys, in this order ("__proto__" included, as JSON.parse does). */
function obj(entries: ReadonlyArray<readonly [string, unknown]>): JSONObject {
  const out: JSONObject = {};
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/** mulberry32: a small seeded PRNG, so failures are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_KEYS = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '1', '01', '0', '10', '2', '-1',
  '1.5', '4294967294', '4294967295', 'ü.json', 'Ωmega', '😀', '', 'a"b', 'a\\b', '\u0000', 'x y',
];

class Gen {
  private readonly next: () => number;
  constructor(seed: number, private readonly badRate: number) {
    this.next = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** True with the generator's malformation rate. */
  bad(): boolean {
    return this.chance(this.badRate);
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  key(i: number): string {
    return this.chance(0.25) ? this.pick(ODD_KEYS) : `f-${i}.json`;
  }
  /** Unrecognized fields, sometimes including odd keys. */
  extras(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    if (this.chance(0.3)) out.push(['x-extra', this.pick([1, 'a', null, [1, 'b'], { nested: true }])]);
    if (this.chance(0.1)) out.push([this.pick(['__proto__', 'constructor', '7']), { odd: 1 }]);
    return out;
  }
  map(size: number, value: (i: number) => unknown): JSONObject {
    const entries: Array<[string, unknown]> = [];
    for (let i = 0; i < size; i++) entries.push([this.key(i), value(i)]);
    return obj(entries);
  }
  size(): number {
    return this.pick([0, 1, 2, 3, 5, 8, 13, 40, 120]);
  }

  common(type: string): Array<[string, unknown]> {
    const spec = this.bad() ? this.pick([undefined, 5, '2.0.0', 'a.b', '1']) : this.pick(['1.0.31', '1.0']);
    const expires = this.bad() ? this.pick([undefined, 5]) : '2030-01-01T00:00:00Z';
    const version = this.bad() ? this.pick([undefined, '1']) : 1 + this.int(9);
    const fields: Array<[string, unknown]> = [['_type', type]];
    if (spec !== undefined) fields.push(['spec_version', spec]);
    if (expires !== undefined) fields.push(['expires', expires]);
    if (version !== undefined) fields.push(['version', version]);
    return fields;
  }

  metaFile(): unknown {
    if (this.bad()) {
      return this.pick<unknown>([
        null, 5, 'x', [], { version: '5' }, { version: 0 }, { version: 1, length: 'x' }, { version: 1, length: -1 },
        { version: 1, hashes: { sha256: 1 } }, { version: 1, hashes: 'x' }, { version: 1, hashes: null }, {},
      ]);
    }
    const entries: Array<[string, unknown]> = [['version', 1 + this.int(20)]];
    if (this.chance(0.3)) entries.push(['length', this.int(5000)]);
    if (this.chance(0.3)) entries.push(['hashes', { sha256: this.hex(8) }]);
    return obj([...entries, ...this.extras()]);
  }

  snapshot(size = this.size()): unknown {
    const fields = this.common('snapshot');
    if (this.bad()) fields.push(['meta', this.pick<unknown>(['x', 5, null, [1], true])]);
    else if (this.chance(0.9)) fields.push(['meta', this.map(size, () => this.metaFile())]);
    return obj([...fields, ...this.extras()]);
  }

  targetFile(): unknown {
    if (this.bad()) {
      return this.pick<unknown>([
        null, 'x', [], { hashes: {} }, { length: '1', hashes: {} }, { length: -1, hashes: {} },
        { length: 1 }, { length: 1, hashes: { sha256: 1 } }, { length: 1, hashes: 'x' },
      ]);
    }
    const entries: Array<[string, unknown]> = [['length', this.int(100000)], ['hashes', { sha256: this.hex(16) }]];
    if (this.chance(0.3)) entries.push(['custom', { name: 'pkg', odd: [1, 2] }]);
    return obj([...entries, ...this.extras()]);
  }

  publicKey(): unknown {
    if (this.bad()) {
      return this.pick<unknown>([
        null, 'x', {}, { keytype: 1, scheme: 'ed25519', keyval: { public: 'ab' } },
        { keytype: 'ed25519', keyval: { public: 'ab' } }, { keytype: 'ed25519', scheme: 'ed25519', keyval: null },
        { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 1 } },
      ]);
    }
    return obj([
      ['keytype', 'ed25519'], ['scheme', 'ed25519'], ['keyval', { public: this.hex(64) }], ...this.extras(),
    ]);
  }

  keyids(): unknown {
    if (this.bad()) return this.pick<unknown>([undefined, 'k1', [1], ['k1', 'k1'], null]);
    const n = 1 + this.int(3);
    return Array.from({ length: n }, (_, i) => `k${i}-${this.hex(4)}`);
  }

  delegatedRole(): unknown {
    if (this.bad() && this.chance(0.3)) return this.pick<unknown>([{}, [], { name: 'x' }]);
    const name = this.bad() ? this.pick<unknown>([5, undefined, 'root', 'targets'])
      : this.chance(0.3) ? this.pick(['__proto__', 'constructor', '1', '01', 'dup', 'dup', '😀']) : `role-${this.hex(3)}`;
    const fields: Array<[string, unknown]> = [['keyids', this.keyids()]];
    fields.push(['threshold', this.bad() ? this.pick<unknown>(['1', 0, undefined]) : 1 + this.int(2)]);
    if (name !== undefined) fields.push(['name', name]);
    fields.push(['terminating', this.bad() ? this.pick<unknown>(['yes', undefined]) : this.chance(0.5)]);
    const which = this.int(this.bad() ? 5 : 3);
    if (which === 0 || which === 3) fields.push(['paths', ['pkg-*/*', 'a/b']]);
    if (which === 1 || which === 3) fields.push(['path_hash_prefixes', ['00', 'ab']]);
    if (which === 4) fields.push(['paths', this.pick<unknown>(['a', [1]])]);
    return obj([...fields.filter(([, v]) => v !== undefined), ...this.extras()]);
  }

  succinctRoles(): unknown {
    const fields: Array<[string, unknown]> = [
      ['keyids', this.keyids()],
      ['threshold', this.bad() ? '1' : 1],
      ['bit_length', this.bad() ? this.pick<unknown>([0, 33, '8']) : 1 + this.int(14)],
      ['name_prefix', this.bad() ? 1 : 'bins'],
    ];
    return obj([...fields.filter(([, v]) => v !== undefined), ...this.extras()]);
  }

  delegations(size = this.size()): unknown {
    const fields: Array<[string, unknown]> = [];
    if (this.bad()) fields.push(['keys', this.pick<unknown>([undefined, 'x', null, { a: null }, [{ keytype: 'ed25519' }]])]);
    else fields.push(['keys', this.map(Math.min(size, 20), () => this.publicKey())]);
    const shape = this.int(4);
    if (shape === 0 || shape === 2) {
      fields.push(['roles', this.bad() ? this.pick<unknown>([{}, 'x', [null], ['x'], null])
        : Array.from({ length: size }, () => this.delegatedRole())]);
    }
    if (shape === 1 || shape === 2) {
      fields.push(['succinct_roles', this.bad() ? this.pick<unknown>(['x', null, 5]) : this.succinctRoles()]);
    }
    return obj([...fields.filter(([, v]) => v !== undefined), ...this.extras()]);
  }

  targets(size = this.size()): unknown {
    const fields = this.common('targets');
    if (this.bad()) fields.push(['targets', this.pick<unknown>(['x', null, [{ length: 1, hashes: {} }], [1]])]);
    else if (this.chance(0.9)) fields.push(['targets', this.map(size, () => this.targetFile())]);
    if (this.bad()) fields.push(['delegations', this.pick<unknown>(['x', null, [], 5])]);
    else if (this.chance(0.6)) fields.push(['delegations', this.delegations()]);
    return obj([...fields, ...this.extras()]);
  }

  role(): unknown {
    if (this.bad()) return this.pick<unknown>([null, {}, { keyids: 'x', threshold: 1 }, { keyids: [], threshold: '1' }]);
    return obj([['keyids', this.keyids()], ['threshold', 1], ...this.extras()]);
  }

  root(): unknown {
    const fields = this.common('root');
    if (!this.bad()) fields.push(['consistent_snapshot', this.chance(0.5)]);
    else if (this.chance(0.5)) fields.push(['consistent_snapshot', 'true']);
    if (this.bad()) fields.push(['keys', this.pick<unknown>(['x', null, { a: 5 }])]);
    else fields.push(['keys', this.map(this.int(6), () => this.publicKey())]);
    const names = ['root', 'targets', 'snapshot', 'timestamp'];
    if (this.bad()) names.splice(this.int(4), 1);
    if (this.chance(0.3)) names.push(this.pick(ODD_KEYS));
    if (this.bad()) fields.push(['roles', this.pick<unknown>(['x', null, [1]])]);
    else fields.push(['roles', obj(names.map((n) => [n, this.role()]))]);
    return obj([...fields, ...this.extras()]);
  }
}

const COMMON = { _type: 'x', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z' };
const KEY = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'ab'.repeat(32) } };
const ROLE = { name: 'a', keyids: ['k1'], threshold: 1, terminating: false, paths: ['a/*'] };
const SUCCINCT = { keyids: ['k1'], threshold: 1, bit_length: 4, name_prefix: 'bins' };
const TOP_ROLES = { root: { keyids: ['k1'], threshold: 1 }, targets: { keyids: [], threshold: 1 },
  snapshot: { keyids: [], threshold: 1 }, timestamp: { keyids: [], threshold: 1 } };

/** Hand-written cases: [kind, label, input]. Inputs with "__proto__" keys are built with obj(). */
const NAMED_CASES: Array<[Kind, string, unknown]> = [
  ['snapshot', 'no meta', { ...COMMON }],
  ['snapshot', 'empty meta', { ...COMMON, meta: {} }],
  ['snapshot', 'meta with odd keys', { ...COMMON, meta: obj(ODD_KEYS.map((k, i) => [k, { version: i + 1 }])) }],
  ['snapshot', 'unrecognized fields incl __proto__', obj([...Object.entries(COMMON), ['meta', {}], ['__proto__', { a: 1 }], ['z', 1]])],
  ['snapshot', 'meta entry with unrecognized __proto__', { ...COMMON, meta: { 'a.json': obj([['version', 1], ['__proto__', 5]]) } }],
  ['snapshot', 'meta not an object', { ...COMMON, meta: 'x' }],
  ['snapshot', 'meta is an array of objects', { ...COMMON, meta: [{ version: 1 }] }],
  ['snapshot', 'meta entry null', { ...COMMON, meta: { a: null } }],
  ['snapshot', 'version a string', { ...COMMON, meta: { a: { version: '1' } } }],
  ['snapshot', 'version 0', { ...COMMON, meta: { a: { version: 0 } } }],
  ['snapshot', 'length wrong type', { ...COMMON, meta: { a: { version: 1, length: '1' } } }],
  ['snapshot', 'hashes not a string record', { ...COMMON, meta: { a: { version: 1, hashes: { sha256: 1 } } } }],
  ['snapshot', 'second entry bad, first fine', { ...COMMON, meta: { a: { version: 1 }, b: { version: 'x' } } }],
  ['snapshot', 'bad spec_version and bad meta', { ...COMMON, spec_version: '2.0', meta: 'x' }],
  ['snapshot', 'data null', null],
  ['snapshot', 'data a number', 5],
  ['targets', 'no targets', { ...COMMON }],
  ['targets', 'targets with odd paths', { ...COMMON, targets: obj(ODD_KEYS.map((k) => [k, { length: 1, hashes: { sha256: 'aa' } }])) }],
  ['targets', 'targets array', { ...COMMON, targets: [] }],
  ['targets', 'targets array of objects', { ...COMMON, targets: [{ length: 1, hashes: {} }] }],
  ['targets', 'targets a string', { ...COMMON, targets: 'x' }],
  ['targets', 'target length wrong type', { ...COMMON, targets: { a: { length: '1', hashes: {} } } }],
  ['targets', 'target hashes missing', { ...COMMON, targets: { a: { length: 1 } } }],
  ['targets', 'bad targets before bad delegations', { ...COMMON, targets: 5, delegations: 'x' }],
  ['targets', 'delegations a string', { ...COMMON, targets: {}, delegations: 'x' }],
  ['targets', 'delegations null', { ...COMMON, delegations: null }],
  ['targets', 'delegations an array', { ...COMMON, delegations: [] }],
  ['targets', 'delegations with roles', { ...COMMON, delegations: { keys: { k1: KEY }, roles: [ROLE] } }],
  ['targets', 'delegations with succinct_roles', { ...COMMON, delegations: { keys: { k1: KEY }, succinct_roles: SUCCINCT } }],
  ['delegations', 'keys missing', { roles: [ROLE] }],
  ['delegations', 'keys a string', { keys: 'x' }],
  ['delegations', 'keys entry null', { keys: { k: null } }],
  ['delegations', 'key missing keytype', { keys: { k: { scheme: 'ed25519', keyval: { public: 'ab' } } } }],
  ['delegations', 'key named __proto__', { keys: obj([['__proto__', KEY], ['constructor', KEY]]) }],
  ['delegations', 'roles not an array', { keys: {}, roles: { a: ROLE } }],
  ['delegations', 'roles with null', { keys: {}, roles: [ROLE, null] }],
  ['delegations', 'roles entry missing keyids', { keys: {}, roles: [{ ...ROLE, keyids: undefined }] }],
  ['delegations', 'roles entry missing name', { keys: {}, roles: [{ keyids: [], threshold: 1, terminating: true }] }],
  ['delegations', 'duplicate role names', { keys: {}, roles: [ROLE, { ...ROLE, threshold: 2 }, { ...ROLE, name: 'b' }, { ...ROLE, paths: ['x'] }] }],
  ['delegations', 'role names __proto__ / constructor / numeric',
    { keys: {}, roles: ['b', '__proto__', '10', 'constructor', '01', '2', '__proto__'].map((name, i) => ({ ...ROLE, name, threshold: i + 1 })) }],
  ['delegations', 'role named root', { keys: {}, roles: [{ ...ROLE, name: 'root' }] }],
  ['delegations', 'paths and path_hash_prefixes', { keys: {}, roles: [{ ...ROLE, path_hash_prefixes: ['a'] }] }],
  ['delegations', 'succinct_roles', { keys: { k1: KEY }, succinct_roles: SUCCINCT, x: 1 }],
  ['delegations', 'succinct_roles bad bit_length', { keys: { k1: KEY }, succinct_roles: { ...SUCCINCT, bit_length: 0 } }],
  ['delegations', 'bad succinct_roles before bad keys', { keys: 'x', succinct_roles: { ...SUCCINCT, name_prefix: 1 } }],
  ['delegations', 'succinct_roles not an object', { keys: {}, succinct_roles: 'x' }],
  ['delegations', 'roles and succinct_roles', { keys: {}, roles: [ROLE], succinct_roles: SUCCINCT }],
  ['delegations', 'data null', null],
  ['delegations', 'data a number', 5],
  ['delegations', 'data undefined', undefined],
  ['root', 'minimal', { ...COMMON, consistent_snapshot: true, keys: { k1: KEY }, roles: TOP_ROLES }],
  ['root', 'no keys', { ...COMMON, consistent_snapshot: true, roles: TOP_ROLES }],
  ['root', 'no roles', { ...COMMON, consistent_snapshot: false }],
  ['root', 'consistent_snapshot missing', { ...COMMON, keys: 'x', roles: TOP_ROLES }],
  ['root', 'keys a string', { ...COMMON, consistent_snapshot: true, keys: 'x', roles: 5 }],
  ['root', 'roles a string', { ...COMMON, consistent_snapshot: true, keys: {}, roles: 'x' }],
  ['root', 'missing top-level role', { ...COMMON, consistent_snapshot: true, roles: { root: TOP_ROLES.root } }],
  ['root', 'extra roles incl __proto__',
    { ...COMMON, consistent_snapshot: true, keys: obj([['__proto__', KEY]]), roles: obj([...Object.entries(TOP_ROLES), ['__proto__', TOP_ROLES.root]]) }],
];

// --- tests ----------------------------------------------------------------------------------

describe('linear-models', () => {
  let linear: typeof import('../tuf/linear-models.js');
  let fast: typeof import('../metadata/canonical-fast.js');

  before(async () => {
    linear = await import('../tuf/linear-models.js');
    fast = await import('../metadata/canonical-fast.js');
    linear.installLinearModels();
  });

  it('installs once, on the shared classes, replacing every original', () => {
    expect(linear.isLinearModelsInstalled()).to.equal(true);
    const installed = currentMethods();
    installed.forEach((method, i) => {
      // If this fails, upstreamMethods holds patched methods (something patched before
      // tuf/linear-models.js was evaluated), and the differential tests below would compare the
      // patch with itself.
      expect(method, `slot ${i} replaced`).to.not.equal(ORIGINALS[i]);
    });
    expect(canonicalJson.canonicalize).to.equal(fast.fastCanonicalize);
    linear.installLinearModels();
    expect(currentMethods()).to.deep.equal(installed);

    const targets = Targets.fromJSON({
      ...COMMON, targets: {}, delegations: { keys: { k1: KEY }, roles: [ROLE] },
    } as unknown as JSONObject);
    expect(targets.delegations).to.be.instanceOf(Delegations);
    expect(targets.delegations?.roles?.a).to.be.instanceOf(DelegatedRole);
    const succinct = Delegations.fromJSON({ keys: {}, succinct_roles: SUCCINCT } as unknown as JSONObject);
    expect(succinct.succinctRoles).to.be.instanceOf(SuccinctRoles);
  });

  it('keeps a "__proto__" key as an own property, as the spread does', () => {
    const snapshot = Snapshot.fromJSON(obj([...Object.entries(COMMON), ['meta', obj([['__proto__', { version: 2 }]])]]));
    expect(Object.getPrototypeOf(snapshot.meta)).to.equal(Object.prototype);
    expect(Object.hasOwn(snapshot.meta, '__proto__')).to.equal(true);
    expect(JSON.stringify(snapshot.toJSON().meta)).to.equal('{"__proto__":{"version":2}}');
  });

  for (const [kind, label, input] of NAMED_CASES) {
    it(`${kind}: ${label}`, () => checkKind(kind, input, `${kind} ${label}`));
  }

  const FUZZ: Array<[Kind, (g: Gen) => unknown]> = [
    ['snapshot', (g) => g.snapshot()],
    ['targets', (g) => g.targets()],
    ['delegations', (g) => g.delegations()],
    ['root', (g) => g.root()],
  ];
  for (const [kind, make] of FUZZ) {
    it(`${kind}: 400 random inputs, valid and malformed, agree with the original`, () => {
      for (let seed = 1; seed <= 400; seed++) {
        const g = new Gen(seed, seed % 3 === 0 ? 0 : seed % 3 === 1 ? 0.05 : 0.3);
        checkKind(kind, make(g), `${kind} seed ${seed}`);
      }
    });
  }

  it('agrees on large valid inputs (1,000 entries)', () => {
    const g = new Gen(99, 0);
    checkKind('snapshot', g.snapshot(1000), 'snapshot 1000');
    checkKind('targets', g.targets(1000), 'targets 1000');
    checkKind('delegations', g.delegations(1000), 'delegations 1000');
  });

  it('toJSON agrees on hand-modified models (broken entries, missing maps)', () => {
    const snapshot = Snapshot.fromJSON({ ...COMMON, meta: { a: { version: 1 } } } as unknown as JSONObject);
    (snapshot.meta as Record<string, unknown>).b = { version: 2 }; // no toJSON
    checkToJSON(snapshot, 'snapshot with a plain meta entry');
    const targets = Targets.fromJSON({ ...COMMON, targets: {}, delegations: { keys: {}, roles: [] } } as unknown as JSONObject);
    (targets as unknown as { targets: unknown }).targets = undefined;
    checkToJSON(targets, 'targets with targets undefined');
    const delegations = Delegations.fromJSON({ keys: { k1: KEY } } as unknown as JSONObject);
    (delegations as unknown as { keys: unknown }).keys = null;
    checkToJSON(delegations, 'delegations with keys null');
    const root = Root.fromJSON({ ...COMMON, consistent_snapshot: true, roles: TOP_ROLES } as unknown as JSONObject);
    (root.roles as Record<string, unknown>).extra = 1;
    checkToJSON(root, 'root with a broken role');
  });

  describe('fastCanonicalize', () => {
    const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '\\"', '\n', '\t', '\u0000', '\u001f', '\u007f', '\u2028',
      'é', '中', '😀', '\ud800', '\udc00', '/', '{', '}', ':', ','];

    function randomString(g: Gen): string {
      let s = '';
      const n = g.int(8);
      for (let i = 0; i < n; i++) s += g.pick(ALPHABET);
      return s;
    }

    function randomValue(g: Gen, depth: number): unknown {
      const choice = g.int(depth > 3 ? 5 : 8);
      switch (choice) {
        case 0: return randomString(g);
        case 1: return g.pick([0, -0, 1, -1, 42, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e21, 2 ** 64]);
        case 2: return g.chance(0.5);
        case 3: return null;
        case 4: return g.pick(['', 'version', '__proto__', '10', '2']);
        case 5: {
          const arr = Array.from({ length: g.int(5) }, () => randomValue(g, depth + 1));
          if (g.chance(0.1)) arr.length += 2; // trailing holes
          return arr;
        }
        default: {
          const entries: Array<[string, unknown]> = [];
          const n = g.int(7);
          for (let i = 0; i < n; i++) {
            const key = g.chance(0.3) ? g.pick(['', '__proto__', '10', '2', '01', 'a', 'A', 'é', '😀', '\ud800']) : randomString(g);
            entries.push([key, randomValue(g, depth + 1)]);
          }
          return obj(entries);
        }
      }
    }

    it('is byte-identical to @tufjs/canonical-json on random nested values', () => {
      for (let seed = 1; seed <= 3000; seed++) {
        const value = randomValue(new Gen(seed, 0), 0);
        const expected = referenceCanonicalize(value);
        const actual = fast.fastCanonicalize(value);
        expect(actual, `seed ${seed}`).to.equal(expected);
        expect(Buffer.from(actual).equals(Buffer.from(expected))).to.equal(true);
      }
    });

    it('is byte-identical on a snapshot-shaped object and odd shapes', () => {
      const meta: Record<string, unknown> = {};
      for (let i = 0; i < 16385; i++) meta[`bin-${i.toString(16).padStart(4, '0')}.json`] = { version: 5 };
      const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
      const values: unknown[] = [
        { _type: 'snapshot', meta, spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z' },
        sparse, new Array(3), [], {}, '', 'a"b\\c', Buffer.from('hi'), new Date(0), new Map([[1, 2]]),
        Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 }), new Number(5), new String('ab'),
      ];
      for (const value of values) {
        expect(fast.fastCanonicalize(value)).to.equal(referenceCanonicalize(value));
      }
    });

    it('throws the same errors for values it cannot encode', () => {
      const values: unknown[] = [1.5, -0.1, NaN, Infinity, -Infinity, undefined, () => 1, function named() {},
        Symbol('s'), 10n, { a: 1.5 }, [undefined], { a: undefined }, [1, [2, NaN]], { toString: 1, x: 0.5 }];
      for (const value of values) {
        const expected = attempt(() => referenceCanonicalize(value));
        const label = `canonicalize ${util.inspect(value)}`;
        expect(expected.threw, label).to.equal(true);
        expectSame(expected, attempt(() => fast.fastCanonicalize(value)), label);
      }
    });
  });

  describe('end to end: Metadata.fromJSON + ed25519 signature verification', () => {
    interface Signer {
      keyid: string;
      keyJSON: JSONObject;
      sign(signed: unknown): { keyid: string; sig: string };
    }

    function ed25519Signer(): Signer {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const raw = (publicKey as KeyObject).export({ type: 'spki', format: 'der' }).subarray(-32).toString('hex');
      const keyJSON = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } };
      const keyid = createHash('sha256').update(referenceCanonicalize(keyJSON)).digest('hex');
      return {
        keyid,
        keyJSON,
        // Signed with the reference canonicalizer: verification then proves the fast one agrees.
        sign: (signed) => ({ keyid, sig: sign(null, Buffer.from(referenceCanonicalize(signed)), privateKey).toString('hex') }),
      };
    }

    const signer = ed25519Signer();
    const expires = '2030-01-01T00:00:00Z';
    const role = { keyids: [signer.keyid], threshold: 1 };
    const rootSigned = {
      _type: 'root', spec_version: '1.0.31', version: 1, expires, consistent_snapshot: true,
      keys: { [signer.keyid]: signer.keyJSON },
      roles: { root: role, targets: role, snapshot: role, timestamp: role },
    };
    const envelope = (signed: unknown): string => JSON.stringify({ signatures: [signer.sign(signed)], signed });
    const parse = (text: string) => JSON.parse(text) as JSONObject;

    it('verifies a 16,385-entry snapshot and rejects a one-byte change', () => {
      const root = Metadata.fromJSON(MetadataKind.Root, parse(envelope(rootSigned)));
      root.verifyDelegate('root', root);
      const meta: Record<string, unknown> = { 'targets.json': { version: 1 } };
      for (let i = 0; i < 16384; i++) meta[`bin-${i.toString(16).padStart(4, '0')}.json`] = { version: 5 };
      const text = envelope({ _type: 'snapshot', spec_version: '1.0.31', version: 7, expires, meta });
      const snapshot = Metadata.fromJSON(MetadataKind.Snapshot, parse(text));
      expect(Object.keys(snapshot.signed.meta)).to.have.length(16385);
      root.verifyDelegate('snapshot', snapshot);

      const target = '"bin-2a3f.json":{"version":5}';
      expect(text.split(target)).to.have.length(2);
      const tampered = Metadata.fromJSON(MetadataKind.Snapshot, parse(text.replace(target, target.replace('5', '6'))));
      expect(() => root.verifyDelegate('snapshot', tampered)).to.throw(UnsignedMetadataError, 'snapshot was signed by 0/1 keys');
    });

    it('verifies targets delegating to succinct hash bins, and a bin, and rejects a tampered bin', () => {
      const root = Metadata.fromJSON(MetadataKind.Root, parse(envelope(rootSigned)));
      const targetsText = envelope({
        _type: 'targets', spec_version: '1.0.31', version: 1, expires, targets: {},
        delegations: {
          keys: { [signer.keyid]: signer.keyJSON },
          succinct_roles: { keyids: [signer.keyid], threshold: 1, bit_length: 8, name_prefix: 'bins' },
        },
      });
      const targets = Metadata.fromJSON(MetadataKind.Targets, parse(targetsText));
      root.verifyDelegate('targets', targets);

      const files: Record<string, unknown> = {};
      for (let i = 0; i < 2000; i++) files[`pkg-${i}/pkg-${i}-1.0.tar.gz`] = { length: i, hashes: { sha256: 'ab'.repeat(32) } };
      const binText = envelope({ _type: 'targets', spec_version: '1.0.31', version: 1, expires, targets: files });
      targets.verifyDelegate('bins-1f', Metadata.fromJSON(MetadataKind.Targets, parse(binText)));
      const tampered = binText.replace('"length":1999', '"length":1990');
      expect(tampered).to.not.equal(binText);
      expect(() => targets.verifyDelegate('bins-1f', Metadata.fromJSON(MetadataKind.Targets, parse(tampered)))).to.throw(UnsignedMetadataError);
    });
  });
});
