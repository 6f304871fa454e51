// "Not on the index" hints (client/proxy/not-on-index.ts, pure): which close name is suggested for a
// project the verified project list does not have, and when a verified page lists a file.
import { expect } from 'chai';
import { closeProjectName, pageListsFile } from '../client/proxy/not-on-index.js';
import { projectListHtml, projectPageHtml } from '../metadata/simple-html.js';

describe('not on the index: close names and page listings', () => {
  const list = projectListHtml(['alpha', 'requests', 'django', 'numpy', 'python-dateutil', 'ab']);

  it('suggests the closest PEP 503-normalised name for a likely typo', () => {
    expect(closeProjectName('alpah', list)).to.equal('alpha'); // swapped letters: 2 edits
    expect(closeProjectName('reqeusts', list)).to.equal('requests');
    expect(closeProjectName('Djang0', list)).to.equal('django');
    expect(closeProjectName('python_dateutils', list)).to.equal('python-dateutil');
  });

  it('suggests nothing for names that are not close, or too short to tell', () => {
    expect(closeProjectName('zzzzzzzz', list)).to.equal(undefined);
    expect(closeProjectName('xy', list)).to.equal(undefined); // 2 edits from "ab": half the name
    expect(closeProjectName('flask', list)).to.equal(undefined);
  });

  it('never suggests the very name asked for', () => {
    expect(closeProjectName('alpha', list)).to.equal(undefined);
  });

  it('tells whether a verified page links a file', () => {
    const page = projectPageHtml('alpha', [{ filename: 'alpha-1.0-py3-none-any.whl', sha256: '0'.repeat(64) }]);
    expect(pageListsFile(page, 'alpha-1.0-py3-none-any.whl')).to.equal(true);
    expect(pageListsFile(page, 'alpha-1.1-py3-none-any.whl')).to.equal(false);
  });
});
