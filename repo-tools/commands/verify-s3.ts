// `tufpip-repo verify DIR` for a repository on object storage (storage/s3.ts): the client's walk
// (verify-remote.ts: tuf-js's Updater over HTTP, every target downloaded and checked) against the
// public URL clients use, then a listing of the public prefix: nothing private may be there
// (journal, withdrawn-file records, config, key material), and nothing outside the served tree.
import path from 'node:path';
import { versionedFileName } from '../../metadata/roles.js';
import type { RepoConfig, RepoLayout } from '../storage/layout.js';
import { S3Storage } from '../storage/s3.js';
import type { VerifyOptions, VerifyReport } from './verify.js';
import { verifyRemote } from './verify-remote.js';

/** Top-level names of the served tree (DESIGN.md "The served tree"). */
const SERVED = /^(metadata|packages|simple)\//;
/** Names of private state, key files and credentials. */
const PRIVATE_NAME = /(^|\/)(journal|retired-files|config\.json|lock|credentials)$|\.(pem|key)$|(^|\/)(journal|retired)\//;
const KEY_MATERIAL = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export async function verifyS3(layout: RepoLayout, config: RepoConfig, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const storage = new S3Storage(config.storage!);
  const report = await verifyRemote(config.url, opts.root ?? path.join(layout.dir, versionedFileName('root', 1)), opts);
  for (const o of await storage.list('targets', '')) {
    const where = storage.where('targets', o.name);
    if (PRIVATE_NAME.test(o.name)) {
      report.problems.push({ kind: 'secret', message: `private state under the public prefix: ${where}` });
      continue;
    }
    if (!SERVED.test(o.name)) {
      const head = (await storage.read('targets', o.name))?.subarray(0, 64 * 1024).toString('latin1') ?? '';
      if (KEY_MATERIAL.test(head)) report.problems.push({ kind: 'secret', message: `private key material under the public prefix: ${where}` });
      else report.warnings.push({ kind: 'layout', message: `object outside the served tree (metadata/, packages/, simple/): ${where}` });
    } else if (!o.name.startsWith('metadata/') && o.size < 64 * 1024 && /\.(pem|txt|json)$/.test(o.name)) {
      const text = (await storage.read('targets', o.name))?.toString('latin1') ?? '';
      if (KEY_MATERIAL.test(text)) report.problems.push({ kind: 'secret', message: `private key material under the public prefix: ${where}` });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
