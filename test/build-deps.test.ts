// client/pip/build-deps.ts reads pip's output: which build dependency was missing, for which sdist.
// The download and install texts are pip 23.2.1's own, captured from runs here; the nested one is
// laid out the same way (pip indents a subprocess's output inside its error). The end-to-end
// cases with real pip are in client-sdist.test.ts.
import { expect } from 'chai';
import { missingBuildDependency, missingBuildDependencyError, onlyMissingPages } from '../client/pip/build-deps.js';
import type { Refusal } from '../client/lib/refusal.js';

const DOWNLOAD_STDOUT = `Looking in indexes: http://127.0.0.1:46661/simple/
Collecting sdonly
  Downloading http://127.0.0.1:46661/packages/sdonly/sdonly-1.0.tar.gz (393 bytes)
  Installing build dependencies: started
  Installing build dependencies: finished with status 'error'
`;
const SUBPROCESS_FAILED = (inner: string) => `  error: subprocess-exited-with-error
  
  × pip subprocess to install build dependencies did not run successfully.
  │ exit code: 1
  ╰─> [3 lines of output]
${inner}      [end of output]
  
  note: This error originates from a subprocess, and is likely not a problem with pip.
error: subprocess-exited-with-error

× pip subprocess to install build dependencies did not run successfully.
│ exit code: 1
╰─> See above for output.
`;

describe('build dependencies read from pip output (client/pip/build-deps.ts)', () => {
  it('names the requirement and the sdist pip was building (download through the proxy)', () => {
    const stderr = SUBPROCESS_FAILED(`      Looking in indexes: http://127.0.0.1:46661/simple/
      ERROR: Could not find a version that satisfies the requirement setuptools>=40 (from versions: none)
      ERROR: No matching distribution found for setuptools>=40
`);
    expect(missingBuildDependency({ stdout: DOWNLOAD_STDOUT, stderr })).to.deep.equal({ requirement: 'setuptools>=40', sdist: 'sdonly-1.0.tar.gz' });
  });

  it('reads a local sdist too (pip install --find-links: "Processing PATH")', () => {
    const stdout = 'Looking in links: /tmp/tufpip-install-aRB0uD/verified\nProcessing /tmp/tufpip-install-aRB0uD/verified/sdonly-1.0.tar.gz\n  Installing build dependencies: started\n';
    const stderr = SUBPROCESS_FAILED('      ERROR: No matching distribution found for setuptools>=40.8.0\n');
    expect(missingBuildDependency({ stdout, stderr })).to.deep.equal({ requirement: 'setuptools>=40.8.0', sdist: 'sdonly-1.0.tar.gz' });
  });

  it('a nested build (a build dependency that is itself an sdist): the innermost requirement and sdist', () => {
    const stderr = SUBPROCESS_FAILED(`      Collecting setuptools>=40
        Downloading http://127.0.0.1:46661/packages/setuptools/setuptools-70.0.0.tar.gz (2.3 MB)
        Installing build dependencies: started
        Installing build dependencies: finished with status 'error'
        × pip subprocess to install build dependencies did not run successfully.
        ╰─> [2 lines of output]
            ERROR: No matching distribution found for flit_core<4,>=3.2
`);
    expect(missingBuildDependency({ stdout: DOWNLOAD_STDOUT, stderr })).to.deep.equal({ requirement: 'flit_core<4,>=3.2', sdist: 'setuptools-70.0.0.tar.gz' });
  });

  it('any other failure is not a missing build dependency (a requirement not on the index, a build that fails)', () => {
    const notThere = { stdout: 'Looking in indexes: http://127.0.0.1:1/simple/\n', stderr: 'ERROR: Could not find a version that satisfies the requirement nothere (from versions: none)\nERROR: No matching distribution found for nothere\n' };
    expect(missingBuildDependency(notThere)).to.equal(undefined);
    const buildFailed = { stdout: DOWNLOAD_STDOUT, stderr: SUBPROCESS_FAILED('      ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n') };
    expect(missingBuildDependency(buildFailed)).to.equal(undefined);
  });

  it('the message: requirement, sdist, where, and the consequence', () => {
    const e = missingBuildDependencyError({ requirement: 'setuptools>=40', sdist: 'sdonly-1.0.tar.gz' }, false, 'nothing was installed');
    expect(e.code).to.equal('NOT_FOUND');
    expect(e.message).to.match(/^setuptools>=40, needed to build sdonly-1\.0\.tar\.gz, is not on the index: .*; nothing was installed$/);
    expect(missingBuildDependencyError({ requirement: 'wheel' }, true, 'nothing was fetched').message).to.match(/^wheel \(a build dependency of an sdist\) is not on the index \(the index has the project, but/);
  });

  it('only a missing project page leaves room for a missing build dependency, never a security refusal', () => {
    const r = (kind: string, target: string) => ({ kind, target, message: 'm' }) as Refusal;
    expect(onlyMissingPages([])).to.equal(true);
    expect(onlyMissingPages([r('not-signed', 'simple/setuptools/index.html')])).to.equal(true);
    expect(onlyMissingPages([r('not-on-index', 'simple/setuptools/index.html')])).to.equal(true);
    expect(onlyMissingPages([r('not-signed', 'simple/setuptools/index.html'), r('hash-mismatch', 'packages/wheel/wheel-0.38.4-py3-none-any.whl')])).to.equal(false);
    expect(onlyMissingPages([r('not-signed', 'packages/setuptools/setuptools-65.5.0-py3-none-any.whl')])).to.equal(false);
    expect(onlyMissingPages([r('bad-signature', 'simple/setuptools/index.html')])).to.equal(false);
  });
});
