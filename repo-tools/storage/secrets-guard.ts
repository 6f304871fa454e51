// "Nothing secret ever goes under the served site/" (brief, DESIGN.md). Before publishing, the
// places a transaction writes to and the top of the served tree are checked for private key
// material; `verify` scans the whole tree.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';

const KEY_NAME = /\.(pem|key|p8|pkcs8)$|(^|[._-])(id_ed25519|id_rsa)([._-]|$)/i;
const KEY_MARKER = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

async function looksSecret(file: string, name: string): Promise<boolean> {
  if (KEY_NAME.test(name)) return true;
  try {
    const fh = await fsp.open(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return KEY_MARKER.test(buf.subarray(0, bytesRead).toString('latin1'));
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/** Files directly in `dir` (not recursive) that look like private keys. */
async function scanDir(dir: string, recursive: boolean, skip?: (name: string) => boolean): Promise<string[]> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) found.push(...(await scanDir(p, true, skip)));
    } else if (!skip?.(e.name) && (await looksSecret(p, e.name))) {
      found.push(p);
    }
  }
  return found;
}

// Content-addressed and versioned names the repository writes itself; their content is checked
// when they are written, so a scan of the hot directories does not re-read them.
const OWN_METADATA = /^(\d+\.[a-z0-9-]+\.json|timestamp\.json)$/;

/** Scans site/ top level, site/metadata names, and the given directories. */
export async function verifyNoSecretsUnderSite(site: string, touchedDirs: Iterable<string>): Promise<void> {
  const found = [
    ...(await scanDir(site, false)),
    ...(await scanDir(path.join(site, 'metadata'), false, (n) => OWN_METADATA.test(n))),
    ...(await scanDir(path.join(site, 'simple'), false)),
    ...(await scanDir(path.join(site, 'packages'), false)),
  ];
  for (const d of new Set(touchedDirs)) found.push(...(await scanDir(d, false)));
  if (found.length) {
    throw new TufpipError('REFUSED', `refusing to publish: private key material under the served tree: ${[...new Set(found)].join(', ')} (move it out of site/)`);
  }
}

/** Full recursive scan (verify). */
export async function findSecretsUnderSite(site: string): Promise<string[]> {
  return scanDir(site, true);
}

/** A single file about to be published. */
export async function fileLooksSecret(file: string): Promise<boolean> {
  return looksSecret(file, path.basename(file));
}
