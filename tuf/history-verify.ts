// Verification of metadata versions a watcher reads from an index's history (consistent
// snapshots keep N.snapshot.json and N.<role>.json until gc): the current versions are verified
// by tuf-js's Updater (client/lib/index-client.ts); an older version is checked here against
// keys that were verified: the trusted root's (snapshot, timestamp, targets) or its delegator's
// at that snapshot, with @tufjs/models' own threshold check (Metadata#verifyDelegate). Expiry is
// not checked: history is expired by design, it is never used to install anything.
import { Metadata, MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from './models.js';
import { TufpipError } from '../metadata/errors.js';

export type Delegator = Metadata<Root> | Metadata<Targets>;
type KindOf = { root: Root; snapshot: Snapshot; timestamp: Timestamp; targets: Targets };

function parse<K extends keyof KindOf>(kind: K, role: string, bytes: Uint8Array): Metadata<KindOf[K]> {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    const md =
      kind === 'root' ? Metadata.fromJSON(MetadataKind.Root, json)
      : kind === 'snapshot' ? Metadata.fromJSON(MetadataKind.Snapshot, json)
      : kind === 'timestamp' ? Metadata.fromJSON(MetadataKind.Timestamp, json)
      : Metadata.fromJSON(MetadataKind.Targets, json);
    return md as unknown as Metadata<KindOf[K]>;
  } catch (err) {
    throw new TufpipError('VERIFY_FAILED', `${role}: not valid ${kind} metadata (${(err as Error).message})`, { cause: err });
  }
}

/** A root version from the client's root history (already verified by tuf-js when it was trusted). */
export function parseTrustedRoot(bytes: Uint8Array): Metadata<Root> {
  return parse('root', 'root', bytes);
}

/**
 * TUF spec 5.4.2 / 5.5.3 / 5.6.3 for a version read from history: `bytes` must be `role` metadata of
 * `version` (when given) signed by a threshold of the keys one of `delegators` gives `role` (several
 * roots when the root rotated in between). Returns the parsed metadata.
 */
export function verifyHistoricMetadata<K extends 'snapshot' | 'timestamp' | 'targets'>(
  kind: K,
  role: string,
  bytes: Uint8Array,
  version: number | undefined,
  delegators: readonly Delegator[],
): Metadata<KindOf[K]> {
  const md = parse(kind, role, bytes);
  // TUF spec 5.5.5 / 5.6.4: the version the referring metadata names.
  if (version !== undefined && md.signed.version !== version) {
    throw new TufpipError('VERIFY_FAILED', `${role}: expected version ${version}, got ${md.signed.version}`);
  }
  let last: unknown;
  for (const d of delegators) {
    try {
      d.verifyDelegate(role, md as Metadata<Targets>);
      return md;
    } catch (err) {
      last = err;
    }
  }
  throw new TufpipError('VERIFY_FAILED', `${role} version ${md.signed.version}: not signed by a threshold of the keys its delegator gives it (${(last as Error | undefined)?.message ?? 'no delegator'})`, { cause: last });
}

interface Envelope {
  signed: Record<string, unknown> & { _type: string; version: number };
  signatures: { keyid: string; sig: string }[];
}

/**
 * The same check as verifyHistoricMetadata for a version that is only read (a snapshot's list of
 * versions, a hash bin's targets), without building @tufjs/models objects for its 16,384 entries:
 * the signature check is still @tufjs/models' own (Metadata#verifyDelegate -> Key#verifySignature
 * over the canonical JSON of `signed`, threshold of distinct keys), given the parsed JSON.
 * Returns the verified `signed` part as plain JSON.
 */
export function verifyHistoricSigned(kind: 'snapshot' | 'targets', role: string, bytes: Uint8Array, version: number, delegators: readonly Delegator[]): Envelope['signed'] {
  let env: Envelope;
  try {
    env = JSON.parse(Buffer.from(bytes).toString('utf8')) as Envelope;
  } catch (err) {
    throw new TufpipError('VERIFY_FAILED', `${role}: not JSON (${(err as Error).message})`, { cause: err });
  }
  // TUF spec 4.2 (metadata format): a `signed` object of the expected type, signatures with unique key IDs.
  if (typeof env !== 'object' || env === null || typeof env.signed !== 'object' || env.signed === null || !Array.isArray(env.signatures)) {
    throw new TufpipError('VERIFY_FAILED', `${role}: not TUF metadata (no signed part or signatures)`);
  }
  if (env.signed._type !== kind) throw new TufpipError('VERIFY_FAILED', `${role}: expected ${kind} metadata, got ${JSON.stringify(env.signed._type)}`);
  const signatures: Record<string, { keyID: string; sig: string }> = {};
  for (const s of env.signatures) {
    if (typeof s?.keyid !== 'string' || typeof s.sig !== 'string' || signatures[s.keyid]) throw new TufpipError('VERIFY_FAILED', `${role}: malformed or duplicated signature entry`);
    signatures[s.keyid] = { keyID: s.keyid, sig: s.sig };
  }
  // TUF spec 5.5.5 / 5.6.4: the version the referring metadata names.
  if (env.signed.version !== version) throw new TufpipError('VERIFY_FAILED', `${role}: expected version ${version}, got ${env.signed.version}`);
  const signedPart = env.signed;
  const md = { signatures, signed: { toJSON: () => signedPart } } as unknown as Metadata<Targets>;
  let last: unknown;
  for (const d of delegators) {
    try {
      d.verifyDelegate(role, md);
      return signedPart;
    } catch (err) {
      last = err;
    }
  }
  throw new TufpipError('VERIFY_FAILED', `${role} version ${version}: not signed by a threshold of the keys its delegator gives it (${(last as Error | undefined)?.message ?? 'no delegator'})`, { cause: last });
}

/** Whether `delegator` still gives `role` keys that a threshold of signed `md` (TUF spec 5.6.3). */
export function delegateVerifies(delegator: Delegator, role: string, md: Metadata<Targets>): boolean {
  try {
    delegator.verifyDelegate(role, md);
    return true;
  } catch {
    // UnsignedMetadataError (below threshold) or ValueError (no longer delegated): not verified.
    return false;
  }
}
