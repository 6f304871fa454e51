// Public keys given on the command line: a TUF key JSON file (NAME.pub.json from
// `tufpip-repo keygen`), or, where a key already listed in metadata is meant, its key ID (64 hex
// digits, or a unique prefix of at least 8).
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { keyIdOf, parsePublicKeyJson, shortKeyId, type PublicKeyJson } from '../../metadata/keys.js';

export async function readPublicKeyFile(file: string, flag: string): Promise<PublicKeyJson> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TufpipError('BAD_KEY', `${flag} ${file}: ${code ? `cannot read it (${code})` : 'not JSON'}; expected a public key NAME.pub.json from 'tufpip-repo keygen'`, { cause: err });
  }
  if ((raw as { keyval?: { private?: unknown } } | null)?.keyval?.private !== undefined) {
    throw new TufpipError('BAD_KEY', `${flag} ${file} holds a private key: give the public key (NAME.pub.json)`);
  }
  return parsePublicKeyJson(raw, `${flag} ${file}`);
}

/** A key ID, a unique key-ID prefix (>= 8 hex digits) among `known`, or a .pub.json file. */
export async function resolveKeyId(arg: string, known: string[], flag: string): Promise<string> {
  if (/^[0-9a-fA-F]{8,64}$/.test(arg)) {
    const id = arg.toLowerCase();
    if (id.length === 64) return id;
    const hits = known.filter((k) => k.startsWith(id));
    if (hits.length === 1) return hits[0];
    throw new TufpipError('USAGE', hits.length
      ? `${flag} ${arg}: matches ${hits.length} keys (${hits.map(shortKeyId).join(', ')}); give more digits`
      : `${flag} ${arg}: no such key (known: ${known.map(shortKeyId).join(', ') || 'none'})`);
  }
  return keyIdOf(await readPublicKeyFile(arg, flag));
}
