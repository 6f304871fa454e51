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

/** A verified targets-type role's `signed` part as plain JSON (metadata/watch-view.ts reads it). */
export function signedJson(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes).toString('utf8')).signed;
}
