// `tufpip-repo verify --url URL --root ROOT.json`: the same walk as `verify DIR`, against a served
// repository over HTTP, downloading and checking every target.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Updater } from '../../tuf/updater.js';
import { describeTufError } from '../../tuf/error-classifier.js';
import { HttpFetcher } from '../../tuf/fetcher.js';
import { verifyWithUpdater, type VerifyOptions, type VerifyReport } from './verify.js';

export async function verifyRemote(baseUrl: string, rootFile: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-verify-'));
  // The client's fetcher: honours HTTPS_PROXY/NO_PROXY and uses an idle timeout (DESIGN.md gaps).
  // close() removes its download folder: nothing is left under TMPDIR, success or failure.
  const fetcher = new HttpFetcher();
  try {
    await fsp.copyFile(rootFile, path.join(tmp, 'root.json'));
    await fsp.mkdir(path.join(tmp, 'targets'));
    const updater = new Updater({ metadataDir: tmp, metadataBaseUrl: `${base}metadata/`, targetBaseUrl: base, targetDir: path.join(tmp, 'targets'), fetcher });
    let i = 0;
    return await verifyWithUpdater(
      updater,
      async (_p, info) => {
        try {
          // TUF spec 5.7.3: download by hash-prefixed name, check length and hashes.
          const dest = path.join(tmp, 'targets', String(i++));
          await updater.downloadTarget(info, dest);
          await fsp.rm(dest, { force: true });
          return [];
        } catch (err) {
          return [`${info.path}: ${describeTufError(err)}`];
        }
      },
      opts,
    );
  } finally {
    await fetcher.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
