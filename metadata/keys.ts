// TUF key JSON and key IDs (TUF spec "Key objects", "KEYID").
import { canonicalize } from './canonical.js';
import { sha256Hex } from './hash.js';

export interface PublicKeyJson {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyval: { public: string };
}

export class KeyFormatError extends Error {
  readonly code = 'BAD_KEY';
}

/** An ed25519 public key as TUF key JSON; `publicHex` is the 32-byte raw key in hex. */
export function ed25519KeyJson(publicHex: string): PublicKeyJson {
  verifyHexBytes(publicHex, 32, 'ed25519 public key');
  return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex.toLowerCase() } };
}

/** TUF spec: KEYID is the sha256 of the canonical JSON of {keytype, scheme, keyval}. */
export function keyIdOf(key: PublicKeyJson): string {
  const body = { keytype: key.keytype, scheme: key.scheme, keyval: key.keyval };
  return sha256Hex(canonicalize(body));
}

export { shortKeyId } from './short-key-id.js';

export function verifyHexBytes(hex: string, bytes: number, what: string): void {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new KeyFormatError(`${what} must be hex, got ${typeof hex === 'string' ? `${hex.length} characters with non-hex` : typeof hex}`);
  }
  if (hex.length !== bytes * 2) {
    throw new KeyFormatError(`${what} must be ${bytes} bytes (${bytes * 2} hex digits), got ${hex.length / 2} bytes`);
  }
}

/** Reads and checks a TUF public key JSON object (from a `.pub.json` file). */
export function parsePublicKeyJson(value: unknown, where: string): PublicKeyJson {
  const v = value as Partial<PublicKeyJson> | null;
  if (!v || typeof v !== 'object') throw new KeyFormatError(`${where}: not a TUF key object`);
  if (v.keytype !== 'ed25519' || v.scheme !== 'ed25519') {
    throw new KeyFormatError(`${where}: only ed25519 keys are supported, got keytype ${String(v.keytype)} scheme ${String(v.scheme)}`);
  }
  if (!v.keyval || typeof v.keyval.public !== 'string') throw new KeyFormatError(`${where}: keyval.public missing`);
  return ed25519KeyJson(v.keyval.public);
}
