// The build backend an sdist test publishes on its index (there is no PyPI here): setuptools
// from the test Python's own `ensurepip` (Debian's python3-setuptools-whl is patched for Debian's
// Python only), and wheel (which setuptools' backend asks for, PEP 517
// get_requires_for_build_wheel) from Debian's python3-wheel-whl, installed by
// scripts/ensure-test-deps.sh.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { basePython } from './python.js';

function only(dir: string, pattern: RegExp, hint: string): string {
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => pattern.test(f)).sort() : [];
  if (!found.length) throw new Error(`no ${pattern} in ${dir}: ${hint}`);
  return path.join(dir, found[found.length - 1]);
}

/** setuptools-*.whl bundled with the test Python's ensurepip. */
export function setuptoolsWheel(): string {
  const ensurepip = execFileSync(basePython(), ['-c', 'import ensurepip, os; print(os.path.dirname(ensurepip.__file__))']).toString().trim();
  return only(path.join(ensurepip, '_bundled'), /^setuptools-.*-py3-none-any\.whl$/, 'the test Python must bundle setuptools with ensurepip (Python <= 3.11)');
}

/** wheel-*.whl from Debian's python3-wheel-whl. */
export function wheelWheel(): string {
  return only('/usr/share/python-wheels', /^wheel-.*-py3-none-any\.whl$/, 'run scripts/ensure-test-deps.sh as root (apt-get install python3-wheel-whl)');
}
