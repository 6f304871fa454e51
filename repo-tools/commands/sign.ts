// `tufpip-repo sign PENDING.json --key FILE`: adds one signature to a pending proposal (issue 5).
// Needs nothing but the file and the key: no repository, no network (the air-gapped step). It
// never changes the signed content: the content must still hash to what was proposed and every
// signature already there must verify over it, or nothing is signed. The key must be one of the
// keys the file says can sign. The private key is only used to sign; it is never printed.
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { shortKeyId } from '../../metadata/keys.js';
import { allSignerKeys, pendingStatus, signedBytesOf, type PendingStatus } from '../../metadata/pending-file.js';
import { sha256Hex } from '../../metadata/hash.js';
import { ed25519Verifies } from '../../metadata/threshold.js';
import { loadSigner, passphraseFromEnv } from '../keys/signer.js';
import { loadPendingFile, persistPendingFile } from '../storage/pending-store.js';

export interface SignOptions {
  /** Private key: a PEM file path or a signer URI (file:, env:). */
  key: string;
  passphraseEnv?: string;
}

export interface SignResult extends PendingStatus {
  file: string;
  repository: string;
  keyid: string;
  /** False when this key had already signed (the file is unchanged). */
  added: boolean;
  signedSha256: string;
}

export async function signPending(file: string, o: SignOptions): Promise<SignResult> {
  const p = await loadPendingFile(file);
  const what = `${p.pending.role} v${p.signed.version}`;
  const bytes = signedBytesOf(p.signed);
  const sha = sha256Hex(bytes);
  if (sha !== p.pending.signedSha256) {
    throw new TufpipError('REFUSED', `${file}: the signed content of ${what} was changed after it was proposed (sha256 ${sha.slice(0, 16)}..., proposed ${p.pending.signedSha256.slice(0, 16)}...): nothing was signed; ask for a fresh proposal`);
  }
  const keys = allSignerKeys(p);
  for (const s of p.signatures) {
    const k = keys[s.keyid];
    if (!k) throw new TufpipError('REFUSED', `${file}: a signature by key ${shortKeyId(s.keyid)} is from none of the keys that can sign ${what}: nothing was signed`);
    if (!ed25519Verifies(k, s.sig, bytes)) {
      throw new TufpipError('REFUSED', `${file}: the signature by key ${shortKeyId(s.keyid)} does not verify over the content of ${what} (content or signature altered): nothing was signed`);
    }
  }
  const signer = await loadSigner(o.key, { passphrase: passphraseFromEnv(o.passphraseEnv) });
  if (!keys[signer.keyid]) {
    const sets = p.pending.signers.map((s) => `${s.label}: ${s.keyids.map(shortKeyId).join(', ')}`).join('; ');
    throw new TufpipError('BAD_KEY', `key ${shortKeyId(signer.keyid)} (${o.key}) cannot sign ${what}: the keys that can are ${sets}; nothing was signed`);
  }
  let added = false;
  if (!p.signatures.some((s) => s.keyid === signer.keyid)) {
    const sig = signer.signSync ? signer.signSync(bytes) : await signer.sign(bytes);
    // The new signature must verify with the public key the file lists (the right key, the right bytes).
    if (!ed25519Verifies(keys[signer.keyid], sig, bytes)) throw new TufpipError('BAD_KEY', `the signature made with ${o.key} does not verify: nothing was signed`);
    p.signatures.push({ keyid: signer.keyid, sig });
    const mode = (await fsp.stat(file)).mode & 0o777;
    await persistPendingFile(file, p, mode);
    added = true;
  }
  return { file, repository: p.pending.repository, keyid: signer.keyid, added, signedSha256: sha, ...pendingStatus(p) };
}
