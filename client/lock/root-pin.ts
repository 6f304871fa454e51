// The root a trusted index is verified with right now: `root.json` of its metadata folder, which
// tuf-js's Updater persists only after verifying it (TUF spec 5.3.8). Its root role is the lock's
// root pin (metadata/signer-pin.ts).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { rootPinOf, type RootPin } from '../../metadata/signer-pin.js';

export async function readTrustedRoot(metadataDir: string): Promise<RootPin> {
  const file = path.join(metadataDir, 'root.json');
  try {
    const doc = JSON.parse(await fsp.readFile(file, 'utf8')) as { signed?: unknown };
    return rootPinOf(doc.signed);
  } catch (err) {
    throw new TufpipError('IO', `cannot read the trusted root ${file}: ${(err as Error).message}`, { cause: err });
  }
}
