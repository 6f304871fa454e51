// Ed25519 key pairs (DESIGN.md "Runtime and dependencies"): private key as PKCS#8 PEM,
// encrypted when a passphrase is given; public key as TUF key JSON; files mode 0600.
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import fse from 'fs-extra';
import { ed25519KeyJson, keyIdOf, type PublicKeyJson } from '../../metadata/keys.js';
import { TufpipError } from '../../metadata/errors.js';
import { writeFileAtomic } from '../../io/atomic-file.js';

export interface GeneratedKey {
  pem: string;
  publicKey: PublicKeyJson;
  keyid: string;
}

/** Raw 32-byte ed25519 public key (hex) of a public or private KeyObject. */
export function rawPublicHex(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32).toString('hex');
}

export function generateKey(passphrase?: string): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = passphrase
    ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString()
    : privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = ed25519KeyJson(rawPublicHex(publicKey));
  return { pem, publicKey: pub, keyid: keyIdOf(pub) };
}

export interface KeyFiles {
  privatePath: string;
  publicPath: string;
  keyid: string;
  publicKey: PublicKeyJson;
}

/** Writes NAME.pem (0600) and NAME.pub.json into dir (0700 when created). Never overwrites. */
export async function writeNewKey(dir: string, name: string, passphrase?: string): Promise<KeyFiles> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new TufpipError('USAGE', `key name must be letters, digits, '.', '_' or '-': ${JSON.stringify(name)}`);
  }
  await fse.ensureDir(dir, { mode: 0o700 });
  const privatePath = path.join(dir, `${name}.pem`);
  const publicPath = path.join(dir, `${name}.pub.json`);
  for (const p of [privatePath, publicPath]) {
    if (await fse.pathExists(p)) throw new TufpipError('EXISTS', `refusing to overwrite existing key file ${p}`);
  }
  const k = generateKey(passphrase);
  await writeFileAtomic(privatePath, k.pem, 0o600);
  await writeFileAtomic(publicPath, JSON.stringify(k.publicKey, null, 2) + '\n', 0o644);
  return { privatePath, publicPath, keyid: k.keyid, publicKey: k.publicKey };
}
