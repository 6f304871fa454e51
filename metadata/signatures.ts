// Signature checks over canonical bytes (TUF spec "Document formats": signatures are over the
// canonical JSON of `signed`), with a per-key report: which keys signed validly, which signatures
// do not verify, which keys are still missing for a threshold. Pure: no I/O.
// The client-side verification stays tuf-js's (repo-tools/txn/self-check.ts runs it before any
// publication); this is what offline ceremonies need to say *who* still has to sign.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { RoleKeys, SignatureJson } from './builders.js';
import type { PublicKeyJson } from './keys.js';

// DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keyObjects = new Map<string, KeyObject>();

function keyObjectOf(key: PublicKeyJson): KeyObject {
  let k = keyObjects.get(key.keyval.public);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(key.keyval.public, 'hex')]), format: 'der', type: 'spki' });
    keyObjects.set(key.keyval.public, k);
  }
  return k;
}

/** True when `sigHex` is a valid ed25519 signature (64 bytes, RFC 8032) of `data` by `key`. */
export function ed25519Verifies(key: PublicKeyJson, sigHex: string, data: Uint8Array): boolean {
  if (key.keytype !== 'ed25519' || key.scheme !== 'ed25519') return false;
  if (typeof sigHex !== 'string' || !/^[0-9a-fA-F]{128}$/.test(sigHex)) return false;
  try {
    return verify(null, data, keyObjectOf(key), Buffer.from(sigHex, 'hex'));
  } catch {
    return false; // a malformed key can only mean "does not verify"
  }
}

export interface SignatureCheck {
  /** Key IDs (among `keys`) whose signature verifies. */
  valid: string[];
  /** Key IDs (among `keys`) with a signature that does not verify. */
  invalid: string[];
  /** Key IDs of signatures by keys not in `keys`. */
  unknown: string[];
}

/** Checks every signature of an envelope against the keys it may be from. */
export function checkSignatures(signed: Uint8Array, signatures: SignatureJson[], keys: Record<string, PublicKeyJson>): SignatureCheck {
  const valid = new Set<string>();
  const invalid = new Set<string>();
  const unknown = new Set<string>();
  for (const s of signatures) {
    const key = Object.prototype.hasOwnProperty.call(keys, s.keyid) ? keys[s.keyid] : undefined;
    if (!key) unknown.add(s.keyid);
    else if (ed25519Verifies(key, s.sig, signed)) valid.add(s.keyid);
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
 * `signed` verifies. A key listed by the role but absent from `keys` cannot count.
 */
export function checkThreshold(signed: Uint8Array, signatures: SignatureJson[], keys: Record<string, PublicKeyJson>, role: RoleKeys): ThresholdReport {
  const roleKeys: Record<string, PublicKeyJson> = {};
  for (const id of role.keyids) if (Object.prototype.hasOwnProperty.call(keys, id)) roleKeys[id] = keys[id];
  const c = checkSignatures(signed, signatures, roleKeys);
  const signedBy = role.keyids.filter((id) => c.valid.includes(id));
  return {
    threshold: role.threshold,
    keyids: [...role.keyids],
    signedBy,
    missing: role.keyids.filter((id) => !signedBy.includes(id)),
    badSignatures: role.keyids.filter((id) => c.invalid.includes(id)),
    met: role.threshold >= 1 && signedBy.length >= role.threshold,
  };
}
