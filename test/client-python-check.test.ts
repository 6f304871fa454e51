// `--python` given a venv's Python: `tufpip install` installs (the same index, the same checks as
// the refusals of programs that are not a Python with pip, in test/client-bad-input.test.ts).
import { expect } from 'chai';
import { freshVenv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';

describe('--python: a venv\'s Python', function () {
  this.timeout(300_000);
  let ix: TrustedIndex;
  before(async () => {
    ix = await trustedIndex();
  });
  after(async () => {
    await ix?.close();
  });

  it('the honest path: a venv\'s Python installs (same index, same checks)', async () => {
    const venv = freshVenv();
    const r = expectOk(await ix.run(['install', 'alpha', '--python', venv.python]), 'install');
    expect(r.stdout).to.match(/installed from 2 verified files with /);
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
  });
});
