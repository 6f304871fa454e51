// PEP 440 equality as the index applies it (metadata/pep440.ts) and "one distribution, one
// filename" (metadata/dist-identity.ts): scenario tables, each pair with the answer PEP 440 /
// the binary distribution format gives, equal and unequal side by side.
import { expect } from 'chai';
import { canonicalVersion, matchesExactly, sameVersion, versionKey } from '../metadata/pep440.js';
import { expandWheelTags, findSpellingConflict } from '../metadata/dist-identity.js';

describe('PEP 440 versions and distribution identity (pure)', () => {
  const same: [string, string][] = [
    ['1.0', '1.0.0'],
    ['1.0', '1.0.0.0'],
    ['v1.0', '1.0'],
    ['V1.0', '1.0'],
    ['1.0-post1', '1.0.post1'],
    ['1.0_post1', '1.0.post1'],
    ['1.0-1', '1.0.post1'],
    ['1.0.POST1', '1.0.post1'],
    ['1.0rev1', '1.0.post1'],
    ['1.0RC1', '1.0rc1'],
    ['1.0c1', '1.0rc1'],
    ['1.0-preview.1', '1.0rc1'],
    ['1.0alpha1', '1.0a1'],
    ['1.0.a.1', '1.0a1'],
    ['1.0beta', '1.0b0'],
    ['1.0.dev', '1.0.dev0'],
    ['1.0-dev-1', '1.0.dev1'],
    ['0!1.0', '1.0'],
    ['1!1.0', '1!1.0.0'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
    ['1.0+abc.01', '1.0+abc.1'],
    ['01.02', '1.2'],
  ];
  const different: [string, string][] = [
    ['1.0', '1.0.1'],
    ['1.0', '1.0.post1'],
    ['1.0', '1.0rc1'],
    ['1.0', '1.0.dev0'],
    ['1.0', '1!1.0'],
    ['1.0', '1.0+local'],
    ['1.0a1', '1.0b1'],
    ['1.0.post1', '1.0.post2'],
  ];
  for (const [a, b] of same) it(`${a} == ${b}`, () => expect(sameVersion(a, b), `${versionKey(a)} / ${versionKey(b)}`).to.equal(true));
  for (const [a, b] of different) it(`${a} != ${b}`, () => expect(sameVersion(a, b)).to.equal(false));

  it('==V ignores a candidate\'s local label only when V has none (PEP 440 "Version matching")', () => {
    expect(matchesExactly('1.0+cpu', '1.0')).to.equal(true);
    expect(matchesExactly('1.0.0', '1.0')).to.equal(true);
    expect(matchesExactly('1.0+cpu', '1.0+cpu')).to.equal(true);
    expect(matchesExactly('1.0', '1.0+cpu')).to.equal(false);
    expect(matchesExactly('1.0+gpu', '1.0+cpu')).to.equal(false);
    expect(matchesExactly('1.0.post1', '1.0')).to.equal(false);
    expect(matchesExactly('1.0rc1', '1.0')).to.equal(false);
  });

  it('a version that is not PEP 440 compares as spelled, ignoring case', () => {
    expect(canonicalVersion('1.0-foo')).to.equal(undefined);
    expect(sameVersion('1.0-Foo', '1.0-foo')).to.equal(true);
    expect(sameVersion('1.0-foo', '1.0')).to.equal(false);
  });

  it('compressed tag sets expand to every combination', () => {
    expect([...expandWheelTags('py2.py3', 'none', 'any')].sort()).to.deep.equal(['py2-none-any', 'py3-none-any']);
    expect(expandWheelTags('cp311', 'cp311', 'manylinux_2_17_x86_64.manylinux2014_x86_64').size).to.equal(2);
  });

  const conflicts: Record<string, { published: string[]; incoming: string[]; clash?: [string, string] }> = {
    'two sdists of one version (.tar.gz and .zip)': { published: ['foo-1.0.tar.gz'], incoming: ['foo-1.0.zip'], clash: ['foo-1.0.zip', 'foo-1.0.tar.gz'] },
    'two sdists, 1.0 and 1.0.0, name spelled differently': { published: ['foo-1.0.tar.gz'], incoming: ['Foo-1.0.0.tar.gz'], clash: ['Foo-1.0.0.tar.gz', 'foo-1.0.tar.gz'] },
    'wheels with overlapping expanded tags': { published: ['foo-1.0-py3-none-any.whl'], incoming: ['foo-1.0.0-py2.py3-none-any.whl'], clash: ['foo-1.0.0-py2.py3-none-any.whl', 'foo-1.0-py3-none-any.whl'] },
    'wheels with tags differing only in case': { published: ['foo-1.0-py3-none-any.whl'], incoming: ['foo-1.0.0-PY3-none-any.whl'], clash: ['foo-1.0.0-PY3-none-any.whl', 'foo-1.0-py3-none-any.whl'] },
    'within one batch': { published: [], incoming: ['foo-1.0-py3-none-any.whl', 'Foo-1.0-py3-none-any.whl'], clash: ['Foo-1.0-py3-none-any.whl', 'foo-1.0-py3-none-any.whl'] },
    'same version, disjoint tags: fine': { published: ['foo-1.0-py3-none-any.whl'], incoming: ['foo-1.0.0-cp311-cp311-linux_x86_64.whl'] },
    'same version, other build tag: fine': { published: ['foo-1.0-py3-none-any.whl'], incoming: ['foo-1.0.0-1-py3-none-any.whl'] },
    'a wheel and an sdist of one version: fine': { published: ['foo-1.0-py3-none-any.whl'], incoming: ['foo-1.0.0.tar.gz'] },
    'another version: fine': { published: ['foo-1.0.tar.gz'], incoming: ['foo-1.0.post1.tar.gz'] },
    'the same filename again: not a spelling conflict': { published: ['foo-1.0.tar.gz'], incoming: ['foo-1.0.tar.gz'] },
  };
  for (const [name, c] of Object.entries(conflicts)) {
    it(`one distribution, one filename: ${name}`, () => expect(findSpellingConflict(c.published, c.incoming)).to.deep.equal(c.clash));
  }
});
