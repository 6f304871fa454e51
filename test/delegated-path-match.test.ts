// tuf/delegated-path-match.ts must decide every (pattern, target) exactly as the original
// DelegatedRole#isDelegatedPath of @tufjs/models 4.1.1 does: same boolean, same error.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { upstreamIsDelegatedPath } from '../tuf/delegated-path-match.js';
import { rng, seedFrom } from './helpers/faults.js';

const require = createRequire(import.meta.url);
const { DelegatedRole } = require('@tufjs/models/dist/role.js') as typeof import('@tufjs/models/dist/role.js');

const role = (paths: unknown[]) => new DelegatedRole({ name: 'r', keyIDs: [], threshold: 1, terminating: true, paths: paths as string[] });

type Outcome = { value: boolean } | { error: string };
const outcome = (f: () => boolean): Outcome => {
  try {
    return { value: f() };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
};

const PATTERNS = [
  'packages/big/big-1.0-py3-none-any.whl',
  'packages/big/big-1.0.tar.gz',
  'packages/big/*',
  'packages/*/*',
  'packages/big/big-1.0-*.whl',
  'simple/*',
  'simple/*/*',
  'simple/index.html',
  'packages/big/big-1.0+local.1-py3-none-any.whl',
  'packages/big/big-1!2.0-py3-none-any.whl',
  'packages/big/big-[0-9].whl',
  'packages/big/big-?.whl',
  'packages/big/{a,b}.whl',
  'packages/big/+(a|b).whl',
  'packages/big/@(a).whl',
  'packages/big/!(a).whl',
  'packages/big/#comment',
  'packages/big/a#b',
  'packages/big/\\*',
  'packages/big/.',
  'packages/big/..',
  'packages/big/.hidden',
  'packages/big/*hidden',
  'packages//x',
  '',
  '/',
  '*',
  '**',
  'packages/**',
  'packages/big/a b:c;d%e~f=g,h',
  'PACKAGES/BIG/X.WHL',
];
const TARGETS = [
  'packages/big/big-1.0-py3-none-any.whl',
  'packages/big/big-1.0.tar.gz',
  'packages/big/big-1.0-cp311-cp311-manylinux_2_17_x86_64.whl',
  'packages/big/big-1.0.1-py3-none-any.whl',
  'packages/other/other-1.0.tar.gz',
  'packages/big/big-1.0+local.1-py3-none-any.whl',
  'packages/big/big-1!2.0-py3-none-any.whl',
  'packages/big/big-5.whl',
  'packages/big/big-x.whl',
  'packages/big/a.whl',
  'packages/big/b.whl',
  'packages/big/c.whl',
  'packages/big/#comment',
  'packages/big/a#b',
  'packages/big/*',
  'packages/big/.',
  'packages/big/..',
  'packages/big/.hidden',
  'packages//x',
  'simple/index.html',
  'simple/big/index.html',
  '',
  '/',
  'packages/big/a b:c;d%e~f=g,h',
  'packages/big/x.whl',
  'PACKAGES/BIG/X.WHL',
];

describe('delegated path matching (linear-models patch of DelegatedRole#isDelegatedPath)', () => {
  it('is installed', () => {
    expect(DelegatedRole.prototype.isDelegatedPath).to.not.equal(upstreamIsDelegatedPath);
  });

  it('decides every pattern and target of a corpus exactly as the original', () => {
    let compared = 0;
    let matched = 0;
    for (const p of PATTERNS) {
      for (const t of TARGETS) {
        const r = role([p]);
        const ours = outcome(() => r.isDelegatedPath(t));
        const theirs = outcome(() => upstreamIsDelegatedPath.call(r, t));
        expect(ours, `pattern ${JSON.stringify(p)}, target ${JSON.stringify(t)}`).to.deep.equal(theirs);
        compared++;
        if ('value' in ours && ours.value) matched++;
      }
    }
    expect(compared).to.equal(PATTERNS.length * TARGETS.length);
    expect(matched, 'the corpus has matches as well as misses').to.be.greaterThan(40);
  });

  it('agrees on random patterns and targets built from the characters that matter', () => {
    const seed = seedFrom('TUFPIP_FAULTS_SEED');
    const rand = rng(seed);
    const alphabet = ['a', 'b', '1', '.', '-', '_', '*', '?', '[', ']', '!', '+', '(', ')', '|', '@', '{', '}', ',', '#', '\\', '/', ' ', 'A'];
    const word = (n: number) => Array.from({ length: 1 + Math.floor(rand() * n) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 3000; i++) {
      const p = word(8);
      const t = rand() < 0.3 ? p : word(8);
      const r = role([p]);
      expect(outcome(() => r.isDelegatedPath(t)), `seed ${seed}: pattern ${JSON.stringify(p)}, target ${JSON.stringify(t)}`).to.deep.equal(
        outcome(() => upstreamIsDelegatedPath.call(r, t)),
      );
    }
  });

  it('several patterns: matches when any does, and leaves bad patterns to the original (same errors)', () => {
    const many = role(['packages/big/big-1.0.tar.gz', 'packages/big/big-2.0-*.whl']);
    expect(many.isDelegatedPath('packages/big/big-2.0-py3-none-any.whl')).to.equal(true);
    expect(many.isDelegatedPath('packages/big/big-3.0-py3-none-any.whl')).to.equal(false);
    for (const bad of [[42], ['x'.repeat(70_000)], ['packages/big/x', null]]) {
      const r = role(bad);
      for (const t of ['packages/big/x', 'y']) {
        expect(outcome(() => r.isDelegatedPath(t)), JSON.stringify(bad).slice(0, 40)).to.deep.equal(outcome(() => upstreamIsDelegatedPath.call(r, t)));
      }
    }
    const hashed = new DelegatedRole({ name: 'h', keyIDs: [], threshold: 1, terminating: false, pathHashPrefixes: ['0', '8'] });
    for (const t of ['a', 'b', 'c', 'packages/x/y']) expect(hashed.isDelegatedPath(t)).to.equal(upstreamIsDelegatedPath.call(hashed, t));
  });
});
