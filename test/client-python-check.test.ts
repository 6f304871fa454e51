// `--python` that is not a Python with pip (client/pip/pip-runner.ts verifyPython, checked by fetch.ts
// whenever pip failed or "succeeded" without asking the verifying proxy anything): `tufpip install`
// and `fetch` end with one line naming the program and exit 1, nothing fetched or installed, and
// never "installed from 0 verified files" with exit 0. The real CLI as a child process; the
// interpreter started ahead (pip-prewarm.ts) is part of every run, and one case proves that a
// program that takes its arguments like the prewarmed interpreter is still caught.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { basePython, freshVenv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('--python that is not a Python with pip: one clear error, exit 1, nothing done', function () {
  this.timeout(300_000);
  const dir = tmpDir('tufpip-pythons-');
  const log = path.join(dir, 'stdin-taker.log');
  let ix: TrustedIndex;
  before(async () => {
    ix = await trustedIndex();
  });
  after(async () => {
    await ix?.close();
  });

  const cases: Record<string, { python: () => string; message: RegExp; after?: () => void }> = {
    '/bin/true (exits 0 and runs nothing)': {
      python: () => '/bin/true',
      message: /^tufpip: error: \/bin\/true is not a Python with pip: `\/bin\/true -m pip --version` printed no pip version; give a Python that has pip with --python PATH; nothing was (installed|fetched)$/,
    },
    '/bin/false': {
      python: () => '/bin/false',
      message: /^tufpip: error: \/bin\/false is not a Python with pip: `\/bin\/false -m pip --version` exited with 1; .*nothing was (installed|fetched)$/,
    },
    'a script that prints something else and exits 0': {
      python: () => script(dir, 'garbage', 'echo "hello from a shell script"; echo "pip 23.2 (not really)"; exit 0'),
      message: /is not a Python with pip: `.*garbage -m pip --version` printed no pip version \(pip 23\.2 \(not really\)\); .*nothing was (installed|fetched)$/,
    },
    'a program that takes the arguments the prewarmed interpreter is handed, and exits 0': {
      python: () => script(dir, 'stdin-taker', `echo "start $1" >> '${log}'; cat >> '${log}'; echo >> '${log}'; exit 0`),
      message: /stdin-taker is not a Python with pip: .* printed no pip version; .*nothing was (installed|fetched)$/,
      after: () => {
        const text = fs.readFileSync(log, 'utf8');
        expect(text, 'started ahead with -c, and handed pip\'s arguments on stdin').to.match(/^start -c\n\["download",/m);
        fs.rmSync(log);
      },
    },
    'a path that does not exist': {
      python: () => path.join(dir, 'no-such-python'),
      message: /^tufpip: error: python interpreter not found: .*no-such-python \(give one with --python PATH\)/,
    },
    'a folder': {
      python: () => dir,
      message: /^tufpip: error: cannot run .* -m pip: .*EACCES/,
    },
    'a Python without pip (venv --without-pip)': {
      python: () => {
        const venv = path.join(dir, 'nopip');
        if (!fs.existsSync(venv)) execFileSync(basePython(), ['-m', 'venv', '--without-pip', venv]);
        return path.join(venv, 'bin', 'python');
      },
      message: /nopip\/bin\/python is not a Python with pip: `.*nopip\/bin\/python -m pip --version` exited with 1 \(.*No module named pip\); .*nothing was (installed|fetched)$/,
    },
  };

  for (const [name, c] of Object.entries(cases)) {
    for (const command of ['install', 'fetch'] as const) {
      it(`${command}: ${name}`, async () => {
        const dest = path.join(tmpDir('tufpip-dest-'), 'out');
        const args = command === 'install' ? ['install', 'alpha'] : ['fetch', 'alpha', '-d', dest];
        const r = await ix.run([...args, '--python', c.python()]);
        expect(r.code, r.stderr).to.equal(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).to.have.length(1);
        expect(lines[0]).to.match(c.message);
        expect(r.stdout, 'no success reported').to.equal('');
        expect(fs.existsSync(dest), 'nothing fetched').to.equal(false);
        c.after?.();
      });
    }
  }

  it('the honest path: a venv\'s Python installs (same index, same checks)', async () => {
    const venv = freshVenv();
    const r = expectOk(await ix.run(['install', 'alpha', '--python', venv.python]), 'install');
    expect(r.stdout).to.match(/installed from 2 verified files with /);
    expect(venv.installed()).to.include.members(['alpha', 'beta']);
  });
});
