// The pending file of an offline-role ceremony (issue 5): the next version of a role as a TUF
// envelope, signatures collected one key at a time, plus what an air-gapped signer needs to check
// it with nothing but this file and their key: the signer sets whose thresholds must be reached
// (for root, the trusted root's keys and threshold too: TUF spec 5.3.4), the published version it
// follows (to review the changes independently), and the sha256 of the content every signer signs.
// Pure: parsing, status, serialisation.
import type { Envelope, RootSigned, SignatureJson, TargetsSigned } from './builders.js';
import { canonicalize } from './canonical.js';
import { TufpipError } from './errors.js';
import { parseJsonText } from './envelope.js';
import { sha256Hex } from './hash.js';
import { parsePublicKeyJson, type PublicKeyJson } from './keys.js';
import { isProposableRole, type ProposableRole } from './proposals.js';
import { describeRoleChanges } from './role-diff.js';
import { checkSignatures, checkThreshold, type ThresholdReport } from './threshold.js';

export const PENDING_FORMAT = 'tufpip-pending/1';

export interface SignerSet {
  /** For people: "root v3 (the trusted root)", "targets (keys listed by root v4, pending)". */
  label: string;
  keys: Record<string, PublicKeyJson>;
  keyids: string[];
  threshold: number;
}

export interface PendingInfo {
  format: typeof PENDING_FORMAT;
  role: ProposableRole;
  /** Base URL of the index this proposal is for (from its config). */
  repository: string;
  /** The published version this proposal follows and the sha256 of that published file. */
  base: { version: number; sha256: string };
  /** That published version itself, so a signer can review the changes from the two documents. */
  previous: Envelope;
  /** When it was proposed (informational). */
  proposed: string;
  /** sha256 of the canonical JSON of `signed`: the bytes every signer signs. */
  signedSha256: string;
  /** Thresholds that must all be reached (root: trusted root and new root, TUF spec 5.3.4). */
  signers: SignerSet[];
}

export interface PendingFile {
  signatures: SignatureJson[];
  signed: RootSigned | TargetsSigned;
  pending: PendingInfo;
}

export function signedBytesOf(signed: object): Buffer {
  return Buffer.from(canonicalize(signed), 'utf8');
}

export function serializePending(p: PendingFile): string {
  return JSON.stringify(p, null, 2) + '\n';
}

function fail(where: string, what: string): never {
  throw new TufpipError('BAD_INPUT', `${where} is not a tufpip pending file (${PENDING_FORMAT}): ${what}`);
}

/** Parses and checks the shape of a pending file; keys are checked like `.pub.json` files. */
export function parsePendingFile(text: string, where: string): PendingFile {
  const p = parseJsonText(text, where) as Partial<PendingFile> | null;
  if (!p || typeof p !== 'object') fail(where, 'not an object');
  const info = p.pending as Partial<PendingInfo> | undefined;
  if (!info || info.format !== PENDING_FORMAT) fail(where, 'no "pending" section of this format');
  if (typeof info.role !== 'string' || !isProposableRole(info.role)) fail(where, `unknown role ${JSON.stringify(info.role)}`);
  if (!Array.isArray(p.signatures)) fail(where, '"signatures" is not a list');
  for (const s of p.signatures) {
    if (!s || typeof s.keyid !== 'string' || !/^[0-9a-f]{64}$/.test(s.keyid) || typeof s.sig !== 'string') fail(where, 'a signature is not {keyid: 64 hex digits, sig}');
  }
  const signed = p.signed as Partial<RootSigned | TargetsSigned> | undefined;
  if (!signed || typeof signed !== 'object' || !Number.isInteger(signed.version) || typeof signed.expires !== 'string') fail(where, '"signed" needs a version and an expiry');
  const expectedType = info.role === 'root' ? 'root' : 'targets';
  if (signed._type !== expectedType) fail(where, `role ${info.role} must be ${expectedType} metadata, got ${JSON.stringify(signed._type)}`);
  if (!info.base || !Number.isInteger(info.base.version) || typeof info.base.sha256 !== 'string') fail(where, '"base" needs the version and sha256 it follows');
  if (!info.previous || typeof info.previous !== 'object' || !info.previous.signed) fail(where, '"previous" is missing');
  if (typeof info.signedSha256 !== 'string') fail(where, '"signedSha256" is missing');
  if (!Array.isArray(info.signers) || info.signers.length === 0) fail(where, '"signers" is empty');
  for (const s of info.signers) {
    if (!s || typeof s.label !== 'string' || !Array.isArray(s.keyids) || !Number.isInteger(s.threshold) || !s.keys || typeof s.keys !== 'object') {
      fail(where, 'a signer set needs label, keys, keyids and threshold');
    }
    for (const [id, k] of Object.entries(s.keys)) parsePublicKeyJson(k, `${where}: key ${id.slice(0, 8)}`);
  }
  return p as PendingFile;
}

export interface PendingStatus {
  role: ProposableRole;
  version: number;
  expires: string;
  baseVersion: number;
  /** sha256 of the published file the proposal follows (compare it with the published one). */
  baseSha256: string;
  /** The content still hashes to what was proposed. */
  contentIntact: boolean;
  /** Every threshold the file names, with who signed and who is missing. */
  sets: Array<{ label: string } & ThresholdReport>;
  /** Signatures by a key of some set that do not verify over this content. */
  badSignatures: string[];
  /** Signatures by keys in no set. */
  unknownSignatures: string[];
  /** All thresholds met, content intact, no signature that fails. */
  complete: boolean;
  /** Computed from the previous and the proposed document (not from the proposer's words). */
  changes: string[];
}

/** Every key any signer set of the file lists. */
export function allSignerKeys(p: PendingFile): Record<string, PublicKeyJson> {
  const keys: Record<string, PublicKeyJson> = {};
  for (const s of p.pending.signers) for (const id of s.keyids) if (s.keys[id]) keys[id] = s.keys[id];
  return keys;
}

/** Where a pending file stands against the thresholds it names (the air-gapped view). */
export function pendingStatus(p: PendingFile): PendingStatus {
  const bytes = signedBytesOf(p.signed);
  const contentIntact = sha256Hex(bytes) === p.pending.signedSha256;
  const sets = p.pending.signers.map((s) => ({ label: s.label, ...checkThreshold(bytes, p.signatures, s.keys, s) }));
  const c = checkSignatures(bytes, p.signatures, allSignerKeys(p));
  return {
    role: p.pending.role,
    version: p.signed.version,
    expires: p.signed.expires,
    baseVersion: p.pending.base.version,
    baseSha256: p.pending.base.sha256,
    contentIntact,
    sets,
    badSignatures: c.invalid,
    unknownSignatures: c.unknown,
    complete: contentIntact && c.invalid.length === 0 && sets.every((s) => s.met),
    changes: describeRoleChanges(p.pending.previous.signed, p.signed),
  };
}
