// The self-check of a snapshot that a transaction edited as text (metadata/snapshot-text.ts): the
// published snapshot with a new version, a new expiry and a few entries at new versions.
//
// tuf-js's TrustedMetadataStore.updateSnapshot verifies a snapshot by parsing it into models and
// re-canonicalising all of it to check the signature: 50-90 ms for 16,385 entries, more than the
// issue's budget for a whole `add` (30 ms). This performs the same checks of TUF spec 5.5 on the
// exact bytes to publish, relying on their text form instead of a parse:
//   - canonical form: the bytes are in tufpip's canonical shape (every entry's name and version
//     checked, names strictly increasing), so the signed text is what a client's
//     canonicalize(JSON.parse(...)) gives back, and what the key signed is what clients verify;
//   - 5.5.2: length and hashes named by the new timestamp (tuf-js's MetaFile.verify);
//   - 5.5.3: a threshold of the trusted root's snapshot keys signed the signed text (the one
//     threshold verifier, metadata/threshold.ts);
//   - 5.5.4: the version is the one the new timestamp names;
//   - 5.5.5: compared with the published snapshot (verified against the published, signed
//     timestamp when the repository was opened), every entry is still there, only the edited
//     ones changed, and none went back;
//   - 5.5.6: not expired (tuf-js's checks on the store, below).
// Then the store is given a snapshot model holding the entries the delegated roles being
// verified need (their versions taken from the verified text), and tuf-js's own
// updateDelegatedTargets (TUF spec 5.6) verifies those roles as it would with the full snapshot.
// `tufpip-repo verify` still runs the whole client update with tuf-js's Updater.
import type { Metadata, Root } from '../../tuf/models.js';
import { trustVerifiedSnapshot, type TrustedMetadataStore } from '../../tuf/self-check-store.js';
import { SnapshotText } from '../../metadata/snapshot-text.js';
import { TufpipError } from '../../metadata/errors.js';
import { checkThreshold, type KeyJson } from '../../metadata/threshold.js';
import type { EditedSnapshot } from './self-check.js';

function refuse(message: string): never {
  throw new TufpipError('SELF_CHECK', `self-check refused the new snapshot (${message}); nothing was published`);
}

/** TUF spec 5.5.3: a threshold of `root`'s snapshot keys signed the (canonical) signed text. */
function verifySnapshotSignatures(root: Metadata<Root>, snap: SnapshotText): void {
  const role = root.signed.roles.snapshot;
  if (!role) refuse('the root names no snapshot role');
  const keys: Record<string, KeyJson> = {};
  for (const id of role.keyIDs) if (root.signed.keys[id]) keys[id] = root.signed.keys[id].toJSON() as unknown as KeyJson;
  const r = checkThreshold(Buffer.from(snap.signedText, 'latin1'), snap.signatures, keys, { keyids: role.keyIDs, threshold: role.threshold });
  if (!r.met) refuse(`signed by ${new Set(r.signedBy).size} of the root's snapshot keys, threshold ${role.threshold}`);
}

/**
 * Verifies the edited snapshot (TUF spec 5.5.2 - 5.5.6) and loads into `store` a snapshot model
 * with the entries of `roles`, so that tuf-js's updateDelegatedTargets (5.6) can run.
 */
export function trustSnapshotEdit(store: TrustedMetadataStore, bytes: Buffer, edit: EditedSnapshot, roles: string[]): void {
  const timestamp = store.timestamp;
  if (!timestamp) refuse('no trusted timestamp');
  // TUF spec 5.5.2: the snapshot the new timestamp names, by length and hashes.
  timestamp.signed.snapshotMeta.verify(bytes);
  // Canonical form: the published snapshot (in that form) with only the edited entries changed,
  // each to a valid entry (SnapshotText.fromEditOf); the next checks name what differs.
  const prev = edit.oldSnapshot;
  const next = SnapshotText.fromEditOf(bytes, prev, [...edit.edits.keys()]) ?? SnapshotText.fromBytes(bytes);
  if (!next) refuse('the edited snapshot is not in canonical form');
  // TUF spec 5.5.3: signatures over the canonical signed text.
  verifySnapshotSignatures(store.root, next);
  // TUF spec 5.5.4: the version the timestamp names.
  if (next.version !== timestamp.signed.snapshotMeta.version) refuse(`version ${next.version}, the timestamp names ${timestamp.signed.snapshotMeta.version}`);
  if (next.version <= prev.version) refuse(`version ${next.version} does not follow the published ${prev.version}`);
  // TUF spec 5.5.5: no role dropped or rolled back; and nothing changed but the edited entries.
  for (const [file, v] of edit.edits) {
    const was = prev.versionOf(file);
    const now = next.versionOf(file);
    if (was === undefined || now === undefined) refuse(`${file} is not listed in both the published and the new snapshot`);
    if (now !== v) refuse(`${file} is at version ${now}, expected ${v}`);
    if (now < was) refuse(`${file} goes back from version ${was} to ${now}`);
  }
  if (!next.sameEntriesExcept(prev, [...edit.edits.keys()])) {
    refuse('entries other than the edited ones differ from the published snapshot');
  }
  // TUF spec 5.5.6 (expiry) and 5.5.4 again: tuf-js's own checks, on the model it is given now.
  const meta: Record<string, { version: number }> = {};
  for (const role of roles) {
    const version = next.versionOf(`${role}.json`);
    if (version === undefined) refuse(`${role}.json is not listed`);
    meta[`${role}.json`] = { version };
  }
  trustVerifiedSnapshot(store, { specVersion: next.specVersion, version: next.version, expires: next.expires, meta });
}
