// PEP 440 version equality used by `yank --version V` (metadata/pep440.ts).
import { expect } from 'chai';
import { sameVersion as sameVersion440 } from '../metadata/pep440.js';

describe('metadata: PEP 440 version equality', () => {
  const equal: [string, string][] = [
    ['1.0', '1.0.0'],
    ['1', '1.0'],
    ['1.0', 'v1.0'],
    ['0!1.0', '1.0'],
    ['1.0a1', '1.0.0-alpha.1'],
    ['1.0rc1', '1.0c1'],
    ['1.0rc1', '1.0_pre1'],
    ['1.0.post1', '1.0-1'],
    ['1.0.post0', '1.0-r'],
    ['1.0.dev0', '1.0dev'],
    ['01.02', '1.2'],
    ['1.0+Local.7', '1.0+local-07'],
    ['1.0_post1', '1.0.post1'],
  ];
  for (const [a, b] of equal) it(`${a} == ${b}`, () => expect(sameVersion440(a, b)).to.equal(true));
  const different: [string, string][] = [
    ['1.0', '1.0.1'],
    ['1.0', '1.0a1'],
    ['1.0', '1.0.post1'],
    ['1.0', '1.0.dev0'],
    ['1.0', '1.0+local'],
    ['1!1.0', '1.0'],
    ['1.10', '1.1'],
    ['not-a-version', 'not.a.version'],
  ];
  for (const [a, b] of different) it(`${a} != ${b}`, () => expect(sameVersion440(a, b)).to.equal(false));
});
