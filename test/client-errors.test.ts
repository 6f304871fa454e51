// client/errors.ts classifyTufError: the one adapter from tuf-js 5.0.1 / @tufjs/models 4.1.1
// errors to refusal kinds, by class and, for the snapshot/targets failures tuf-js rewraps as
// RuntimeError("Unable to load ... error Error: <inner>"), by the inner message.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { BadVersionError, DownloadHTTPError, DownloadLengthMismatchError, ExpiredMetadataError, RuntimeError } from 'tuf-js/dist/error.js';
import { LengthOrHashMismatchError, UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import { ClientError, classifyTufError, type RefusalKind } from '../client/index.js';
import { exitCodeFor } from '../metadata/errors.js';

const wrapSnapshot = (inner: string) => new RuntimeError(`Unable to load snapshot metadata error Error: ${inner}`);
const wrapTargets = (inner: string) => new RuntimeError(`Unable to load targets error Error: ${inner}`);
const KEY = 'ab'.repeat(32);

const cases: Record<string, [unknown, RefusalKind, string | undefined, string?]> = {
  'expired timestamp': [new ExpiredMetadataError('Final timestamp.json is expired'), 'freeze', 'timestamp'],
  'expired root': [new ExpiredMetadataError('Final root.json is expired'), 'freeze', 'root'],
  'expired snapshot (rewrapped)': [wrapSnapshot('snapshot.json is expired'), 'freeze', 'snapshot'],
  'expired bin (rewrapped)': [wrapTargets('bin-0a.json is expired'), 'freeze', 'bin-0a'],
  'snapshot/timestamp version mismatch': [wrapSnapshot("Snapshot version doesn't match timestamp"), 'mix-and-match', 'snapshot'],
  'role/snapshot version mismatch': [wrapTargets('Version 1 of bin-0a does not match snapshot version 2'), 'mix-and-match', 'bin-0a'],
  'root version skipped': [new BadVersionError('Expected version 4, got 6'), 'rollback', 'root', 'Expected root version 4, got 6'],
  'timestamp rollback': [new BadVersionError('New timestamp version 1 is less than current version 2'), 'rollback', 'timestamp'],
  'snapshot rollback (named by timestamp)': [new BadVersionError('New snapshot version 3 is less than current version 4'), 'rollback', 'snapshot'],
  'targets role rollback in snapshot': [wrapSnapshot('New version 1 of bins.json is less than current version 2'), 'rollback', 'bins'],
  'role dropped from snapshot': [wrapSnapshot('Missing file bin-01.json in new snapshot'), 'rollback', 'bin-01'],
  'threshold not met': [new UnsignedMetadataError('timestamp was signed by 0/1 keys'), 'bad-signature', 'timestamp'],
  'threshold not met (rewrapped)': [wrapTargets('project-foo was signed by 1/2 keys'), 'bad-signature', 'project-foo'],
  'hash mismatch': [new LengthOrHashMismatchError(`Expected hash ${KEY} but got ${'cd'.repeat(32)}`), 'hash-mismatch', undefined, 'Expected hash abababab but got cdcdcdcd'],
  'snapshot hash mismatch (rewrapped)': [wrapSnapshot('Expected length 10 but got 11'), 'hash-mismatch', 'snapshot'],
  'stock max length': [new DownloadLengthMismatchError('Max length reached'), 'endless-data', undefined],
  'HTTP 500': [new DownloadHTTPError('Failed to download', 500), 'network', undefined],
  'connection refused': [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 'network', undefined],
  'garbage metadata': [wrapSnapshot('Unexpected token < in JSON at position 0'), 'metadata', 'snapshot'],
  'anything else': [new TypeError('boom'), 'metadata', undefined],
};

describe('client: classifyTufError (the one tuf-js error adapter)', () => {
  for (const [name, [err, kind, role, detail]] of Object.entries(cases)) {
    it(`${name} -> ${kind}`, () => {
      const c = classifyTufError(err, { index: 'https://user:pw@idx.example/' });
      expect(c).to.be.instanceOf(ClientError);
      expect(c.kind).to.equal(kind);
      expect(c.role).to.equal(role);
      expect(c.cause).to.equal(err);
      if (detail) expect(c.message).to.contain(detail);
      if (role) expect(c.message).to.contain(`role ${role}`);
      expect(c.message).to.not.match(/[0-9a-f]{64}/);
      expect(exitCodeFor(c)).to.equal(1);
    });
  }

  it('uses the context role when the message names none, and redacts credential URLs', () => {
    const c = classifyTufError(new LengthOrHashMismatchError('Expected length 3 but got 4'), { index: 'https://idx.example/', role: 'bin-3', path: 'packages/a/a.whl' });
    expect(c.message).to.contain('packages/a/a.whl, role bin-3, index https://idx.example/');
    const d = classifyTufError(new Error('cannot reach https://alice:s3cret@idx.example/metadata/timestamp.json: ECONNRESET'), {});
    expect(d.kind).to.equal('network');
    expect(d.message).to.not.contain('s3cret');
  });

  it('returns a ClientError unchanged', () => {
    const e = new ClientError('not-signed', 'x');
    expect(classifyTufError(e)).to.equal(e);
  });
});
