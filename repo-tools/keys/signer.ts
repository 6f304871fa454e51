// Signers behind an async interface, chosen by URI (STYLE.md, after securesystemslib's
// Signer.from_priv_key_uri): `file:PATH` and `env:VAR` (a PEM in an environment variable).
// Other schemes (KMS, HSM) register with `registerSignerScheme` without touching callers.
import { createPrivateKey, sign as edSign, type KeyObject } from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import { ed25519KeyJson, keyIdOf, type PublicKeyJson } from '../../metadata/keys.js';
import { TufpipError } from '../../metadata/errors.js';
import { parseSignerUri } from '../../metadata/signer-uri.js';
import { rawPublicHex } from './keygen.js';

export interface Signer {
  readonly keyid: string;
  readonly publicKey: PublicKeyJson;
  /** Ed25519 signature (hex) over the canonical bytes. */
  sign(data: Uint8Array): Promise<string>;
  /** Same, synchronous, for local keys on hot paths. */
  signSync?(data: Uint8Array): string;
  /**
   * The key itself, for signing in worker threads of this process (a bulk rebuild,
   * txn/bin-rebuild-pool.ts); a KeyObject is cloned between threads, never serialised. Local keys only.
   */
  threadKey?(): KeyObject;
}

export interface SignerOptions {
  passphrase?: string;
  /** Base directory for relative `file:` paths. */
  baseDir?: string;
}

type SchemeLoader = (rest: string, opts: SignerOptions) => Promise<Signer>;
const schemes = new Map<string, SchemeLoader>();

export function registerSignerScheme(scheme: string, loader: SchemeLoader): void {
  schemes.set(scheme, loader);
}

export class LocalSigner implements Signer {
  readonly keyid: string;
  readonly publicKey: PublicKeyJson;
  private readonly key: KeyObject;
  constructor(key: KeyObject) {
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new TufpipError('BAD_KEY', `only ed25519 keys are supported, got ${key.asymmetricKeyType ?? 'unknown'}`);
    }
    this.key = key;
    this.publicKey = ed25519KeyJson(rawPublicHex(key));
    this.keyid = keyIdOf(this.publicKey);
  }
  signSync(data: Uint8Array): string {
    return edSign(null, data, this.key).toString('hex');
  }
  async sign(data: Uint8Array): Promise<string> {
    return this.signSync(data);
  }
  threadKey(): KeyObject {
    return this.key;
  }
}

/** Parses a PKCS#8 PEM private key; `where` names its source in errors (never its content). */
export function privateKeyFromPem(pem: string, where: string, passphrase?: string): LocalSigner {
  if (!pem.includes('PRIVATE KEY-----')) throw new TufpipError('BAD_KEY', `${where} is not a PEM private key`);
  const encrypted = pem.includes('ENCRYPTED PRIVATE KEY');
  if (encrypted && !passphrase) {
    throw new TufpipError('BAD_KEY', `${where} is encrypted: give its passphrase (--passphrase-env VAR)`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch (err) {
    const msg = encrypted ? `cannot decrypt ${where}: wrong passphrase` : `cannot read private key ${where}`;
    throw new TufpipError('BAD_KEY', msg, { cause: err });
  }
  return new LocalSigner(key);
}

registerSignerScheme('file', async (rest, opts) => {
  const file = path.resolve(opts.baseDir ?? process.cwd(), rest);
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8'); // one small file: no thread-pool round trip
  } catch (err) {
    throw new TufpipError('BAD_KEY', `cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  return privateKeyFromPem(pem, file, opts.passphrase);
});

registerSignerScheme('env', async (rest, opts) => {
  const pem = process.env[rest];
  if (!pem) throw new TufpipError('BAD_KEY', `environment variable ${rest} (signer env:${rest}) is not set`);
  return privateKeyFromPem(pem, `env:${rest}`, opts.passphrase);
});

/** Loads a signer from a URI such as `file:keys/online.pem` or `env:TUFPIP_ONLINE_KEY`. */
export async function loadSigner(uri: string, opts: SignerOptions = {}): Promise<Signer> {
  // A string without a scheme is a file path (metadata/signer-uri.ts).
  const { scheme, rest } = parseSignerUri(uri);
  const loader = schemes.get(scheme);
  if (!loader) throw new TufpipError('BAD_KEY', `unknown signer scheme ${JSON.stringify(scheme)} (known: ${[...schemes.keys()].join(', ')})`);
  return loader(rest, opts);
}

/** Reads a passphrase from the environment variable named by `--passphrase-env`. */
export function passphraseFromEnv(varName: string | undefined): string | undefined {
  if (!varName) return undefined;
  const v = process.env[varName];
  if (v === undefined) throw new TufpipError('USAGE', `--passphrase-env ${varName}: that environment variable is not set`);
  return v;
}
