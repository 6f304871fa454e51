// The one threshold verifier: the only code of tufpip that decides "signed by THRESHOLD of KEYS"
// (TUF spec 5.3.4 root, 5.4.2 timestamp, 5.5.3 snapshot, 5.6.3 delegated targets; python-tuf's
// `verify_delegate`). Repository decisions (building on published metadata, accepting a
// developer-signed release, counting an offline ceremony's signatures, the self-check of an
// edited snapshot) all come here. A client's verification stays tuf-js's own (tuf/).
//
// Key types: the same as @tufjs/models' getPublicKey, so that what the repository counts is what
// clients count: `ed25519` (hex or PEM public key), `ecdsa` / `ecdsa-sha2-nistp256` /
// `ecdsa-sha2-nistp384` (hex or PEM), `rsa` with scheme `rsassa-pss-sha256` (PEM). tufpip itself
// writes only ed25519 keys (metadata/keys.ts), but a published root, a claimed project's
// delegation or a bundle may carry others, and refusing them here would change what a
// repository accepts. A signature is the hex of the signature bytes; a string that is not
// entirely hex never verifies (tufpip writes only hex; tuf-js would also read a hex prefix).
// Pure: node:crypto only, no I/O.
import { constants, createPublicKey, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';

/** A public key as metadata holds it (TUF spec "KEY"). */
export interface KeyJson {
  keytype: string;
  scheme: string;
  keyval: { public?: string };
}

export interface SignatureEntry {
  keyid: string;
  sig: string;
}

/** The keys a role is trusted with and how many must sign (TUF spec "ROLE"). */
export interface ThresholdRole {
  keyids: readonly string[];
  threshold: number;
}

const PEM_HEADER = '-----BEGIN PUBLIC KEY-----';
// DER SubjectPublicKeyInfo prefixes (RFC 8410 ed25519; RFC 5480 id-ecPublicKey on P-256, as tuf-js
// builds for a hex ecdsa key), followed by the raw public key.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ECDSA_P256_OIDS = Buffer.from('06072a8648ce3d020106082a8648ce3d030107', 'hex');

function isHex(s: string): boolean {
  return /^[0-9a-fA-F]+$/.test(s);
}

function ecdsaDer(raw: Buffer): Buffer {
  const bits = Buffer.concat([Buffer.from([0x03, raw.length + 1, 0x00]), raw]);
  const oids = Buffer.concat([Buffer.from([0x30, ECDSA_P256_OIDS.length]), ECDSA_P256_OIDS]);
  return Buffer.concat([Buffer.from([0x30, oids.length + bits.length]), oids, bits]);
}

type VerifyKey = KeyObject | VerifyKeyObjectInput;

function loadKey(k: KeyJson): VerifyKey {
  const pub = k.keyval.public;
  if (typeof pub !== 'string' || pub === '') throw new Error('no public key');
  const pem = pub.startsWith(PEM_HEADER);
  switch (k.keytype) {
    case 'ed25519':
      if (pem) return createPublicKey(pub);
      if (!isHex(pub)) throw new Error('invalid key format');
      return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(pub, 'hex')]), format: 'der', type: 'spki' });
    case 'ecdsa':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
      if (pem) return createPublicKey(pub);
      if (!isHex(pub)) throw new Error('invalid key format');
      return createPublicKey({ key: ecdsaDer(Buffer.from(pub, 'hex')), format: 'der', type: 'spki' });
    case 'rsa':
      if (!pem || k.scheme !== 'rsassa-pss-sha256') throw new Error('unsupported rsa key');
      return { key: createPublicKey(pub), padding: constants.RSA_PKCS1_PSS_PADDING };
    default:
      throw new Error(`unsupported key type ${k.keytype}`);
  }
}

// Loaded keys by (type, scheme, public value); a repository has a handful, a bulk check reuses them.
const loaded = new Map<string, VerifyKey | null>();

function keyOf(k: KeyJson): VerifyKey | null {
  const id = `${k.keytype}\n${k.scheme}\n${k.keyval?.public}`;
  let v = loaded.get(id);
  if (v === undefined) {
    try {
      v = loadKey(k);
    } catch {
      v = null; // an unusable key counts as no signature (Metadata.verifyDelegate)
    }
    if (loaded.size >= 1024) loaded.clear();
    loaded.set(id, v);
  }
  return v;
}

/** True when `sigHex` is a valid signature of `data` (canonical signed bytes) by `key`. */
export function signatureVerifies(key: KeyJson, sigHex: string, data: Uint8Array): boolean {
  if (typeof sigHex !== 'string' || sigHex.length % 2 !== 0 || !isHex(sigHex)) return false;
  const k = keyOf(key);
  if (!k) return false;
  try {
    return verify(undefined, data, k, Buffer.from(sigHex, 'hex'));
  } catch {
    return false; // a malformed signature can only mean "does not verify"
  }
}

/** True when `sigHex` is a valid ed25519 signature (64 bytes, RFC 8032) of `data` by an ed25519 `key`. */
export function ed25519Verifies(key: KeyJson, sigHex: string, data: Uint8Array): boolean {
  if (key.keytype !== 'ed25519' || key.scheme !== 'ed25519') return false;
  if (typeof sigHex !== 'string' || sigHex.length !== 128) return false;
  return signatureVerifies(key, sigHex, data);
}

export interface SignatureCheck {
  /** Key IDs (among `keys`) whose signature verifies. */
  valid: string[];
  /** Key IDs (among `keys`) with a signature that does not verify. */
  invalid: string[];
  /** Key IDs of signatures by keys not in `keys`. */
  unknown: string[];
}

function own<T>(o: Record<string, T>, id: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(o, id) ? o[id] : undefined;
}

/** Checks every signature of an envelope against the keys it may be from. */
export function checkSignatures(signed: Uint8Array, signatures: readonly SignatureEntry[], keys: Record<string, KeyJson>): SignatureCheck {
  const valid = new Set<string>();
  const invalid = new Set<string>();
  const unknown = new Set<string>();
  for (const s of signatures) {
    const key = own(keys, s.keyid);
    if (!key) unknown.add(s.keyid);
    else if (signatureVerifies(key, s.sig, signed)) valid.add(s.keyid);
    else invalid.add(s.keyid);
  }
  for (const id of valid) invalid.delete(id);
  return { valid: [...valid], invalid: [...invalid], unknown: [...unknown] };
}

export interface ThresholdReport {
  threshold: number;
  /** The keys that count for this role. */
  keyids: string[];
  /** Keys of the role whose signature verifies (each key counts once). */
  signedBy: string[];
  /** Keys of the role that have not (validly) signed. */
  missing: string[];
  /** Keys of the role whose signature is present but does not verify. */
  badSignatures: string[];
  met: boolean;
}

/**
 * TUF spec 5.3.4 / 5.6.3 (threshold of a role): counts distinct keys of `role` whose signature over
 * `signed` verifies. A key listed by the role but absent from `keys` cannot count; a threshold
 * below 1 is never met.
 */
export function checkThreshold(signed: Uint8Array, signatures: readonly SignatureEntry[], keys: Record<string, KeyJson>, role: ThresholdRole): ThresholdReport {
  const roleKeys: Record<string, KeyJson> = {};
  for (const id of role.keyids) {
    const k = own(keys, id);
    if (k) roleKeys[id] = k;
  }
  const c = checkSignatures(signed, signatures, roleKeys);
  const signedBy = role.keyids.filter((id) => c.valid.includes(id));
  return {
    threshold: role.threshold,
    keyids: [...role.keyids],
    signedBy,
    missing: role.keyids.filter((id) => !signedBy.includes(id)),
    badSignatures: role.keyids.filter((id) => c.invalid.includes(id)),
    met: role.threshold >= 1 && new Set(signedBy).size >= role.threshold,
  };
}

/** Thrown when a delegation is missing or its threshold is not met; messages as @tufjs/models'. */
export class ThresholdError extends Error {
  override readonly name = 'ThresholdError';
}

/** The signed part of a delegating role, as JSON: a root, or a targets role with delegations. */
export interface DelegatorSigned {
  _type: string;
  keys?: Record<string, KeyJson>;
  roles?: Record<string, { keyids: string[]; threshold: number }>;
  delegations?: {
    keys: Record<string, KeyJson>;
    roles?: { name: string; keyids: string[]; threshold: number }[];
    succinct_roles?: { keyids: string[]; threshold: number; bit_length: number; name_prefix: string };
  };
}

/** TAP 15: `name` is one of the bins of a succinct delegation (`<prefix>-<hex>`, in range). */
function inSuccinct(s: { bit_length: number; name_prefix: string }, name: string): boolean {
  const prefix = `${s.name_prefix}-`;
  if (!name.startsWith(prefix)) return false;
  const bins = 2 ** s.bit_length;
  const suffix = name.slice(prefix.length);
  if (suffix.length !== (bins - 1).toString(16).length || !isHex(suffix)) return false;
  return parseInt(suffix, 16) < bins;
}

/** The keys and role entry `delegator` trusts `name` with (TUF spec "delegations", TAP 15). */
export function delegationFor(delegator: DelegatorSigned, name: string): { keys: Record<string, KeyJson>; role: ThresholdRole } {
  if (delegator._type === 'root') {
    const role = delegator.roles ? own(delegator.roles, name) : undefined;
    if (!role) throw new ThresholdError(`no delegation found for ${name}`);
    return { keys: delegator.keys ?? {}, role };
  }
  const d = delegator.delegations;
  if (!d) throw new ThresholdError(`No delegations found for ${name}`);
  const role = d.roles ? d.roles.find((r) => r.name === name) : d.succinct_roles && inSuccinct(d.succinct_roles, name) ? d.succinct_roles : undefined;
  if (!role) throw new ThresholdError(`no delegation found for ${name}`);
  return { keys: d.keys, role };
}

/**
 * TUF spec 5.3.4 / 5.4.2 / 5.5.3 / 5.6.3: `name`, whose canonical signed bytes are `signed`, is
 * signed by a threshold of the keys `delegator` trusts it with. Throws ThresholdError otherwise
 * (`<name> was signed by N/T keys`).
 */
export function verifyDelegate(delegator: DelegatorSigned, name: string, signed: Uint8Array, signatures: readonly SignatureEntry[]): ThresholdReport {
  const { keys, role } = delegationFor(delegator, name);
  const r = checkThreshold(signed, signatures, keys, role);
  if (!r.met) throw new ThresholdError(`${name} was signed by ${new Set(r.signedBy).size}/${role.threshold} keys`);
  return r;
}
