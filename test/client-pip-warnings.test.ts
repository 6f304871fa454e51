// pip's PEP 592 warning passed on by `tufpip fetch`/`install` (client/pip/pip-warnings.ts), read from
// the exact lines pip 23.x logs (resolvelib/resolver.py); the end-to-end case is in
// test/repo-yank.test.ts.
import { expect } from 'chai';
import { yankWarnings } from '../client/pip/pip-warnings.js';

describe('client: pip yank warnings', () => {
  it("keeps pip's name, version and reason, and drops the temporary proxy URL", () => {
    const out = [
      'Collecting yy==2.0',
      "WARNING: The candidate selected for download or install is a yanked version: 'yy' candidate (version 2.0 at http://127.0.0.1:41234/packages/yy/yy-2.0-py3-none-any.whl#sha256=ab (from http://127.0.0.1:41234/simple/yy/))",
      'Reason for being yanked: broken <b> & "q"',
      "WARNING: The candidate selected for download or install is a yanked version: 'zz' candidate (version 1.0 at http://127.0.0.1:41234/packages/zz/zz-1.0.tar.gz#sha256=cd (from http://127.0.0.1:41234/simple/zz/))",
      'Reason for being yanked: <none given>',
      'Saved ./yy-2.0-py3-none-any.whl',
    ].join('\n');
    expect(yankWarnings(out)).to.deep.equal([
      `'yy' 2.0 is yanked (PEP 592), pip selected it because it was pinned: reason for being yanked: broken <b> & "q"`,
      "'zz' 1.0 is yanked (PEP 592), pip selected it because it was pinned: reason for being yanked: <none given>",
    ]);
  });
  it('finds nothing in output without the warning', () => {
    expect(yankWarnings('Collecting yy\nSaved ./yy-1.0-py3-none-any.whl\nWARNING: something else\n')).to.deep.equal([]);
  });
});
