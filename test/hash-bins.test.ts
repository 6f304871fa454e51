// metadata/hash-bins.ts must place every target in the bin a client looks in: the same rule as
// @tufjs/models SuccinctRoles.getRoleForTarget (TAP 15), which tuf-js's Updater uses.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { SuccinctRoles } from '@tufjs/models/dist/role.js';
import { binForPath, binIndexForPath } from '../metadata/hash-bins.js';

describe('hash bins (TAP 15)', () => {
  it('agree with @tufjs/models SuccinctRoles.getRoleForTarget for every bin count', () => {
    const paths = ['', 'a', 'packages/demo/demo-1.0-py3-none-any.whl', 'simple/demo/index.html', 'ünïcode/päth', ...Array.from({ length: 2000 }, (_, i) => `packages/p${i}/${randomBytes(8).toString('hex')}.tar.gz`)];
    for (let bits = 1; bits <= 14; bits++) {
      const roles = new SuccinctRoles({ keyIDs: ['k'], threshold: 1, bitLength: bits, namePrefix: 'bin' });
      const seen = new Set<number>();
      for (const p of paths) {
        expect(binForPath(p, 2 ** bits), `${p} in ${2 ** bits} bins`).to.equal(roles.getRoleForTarget(p));
        seen.add(binIndexForPath(p, 2 ** bits));
      }
      // Both halves of the range are reached (the top bit is not lost to a signed shift).
      expect(Math.max(...seen), `${2 ** bits} bins`).to.be.at.least(2 ** (bits - 1));
      expect(Math.min(...seen), `${2 ** bits} bins`).to.be.below(2 ** (bits - 1));
    }
  });
});
