// The @tufjs/models 4.1.1 classes and types the rest of tufpip uses (Metadata.fromJSON,
// MetadataKind, Metadata#verifyDelegate, Key#verifySignature, MetaFile#verify), from the one
// floor allowed to import @tufjs/models (docs/architecture.md). Re-exported unchanged: they are
// the same shared CommonJS classes tuf-js's Updater and TrustedMetadataStore use, so the linear
// parsing fix (tuf/linear-models.ts) applies to both once installed.
import type crypto from 'node:crypto';
import { createRequire } from 'node:module';

export { Key, Metadata, MetadataKind, MetaFile } from '@tufjs/models';
export type { Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
export type { JSONObject } from '@tufjs/models/dist/utils/types.js';

const require = createRequire(import.meta.url);
// The module object installLinearModels() patches (memoised getPublicKey): read at call time.
const keyUtils = require('@tufjs/models/dist/utils/key.js') as {
  getPublicKey: (info: { keyType: string; scheme: string; keyVal: string }) => crypto.KeyObject;
};

/**
 * The public key of a TUF key, loaded as @tufjs/models loads it for Key#verifySignature (TUF spec
 * 4.2 "keys": keytype, scheme, keyval.public). Throws for an unsupported or malformed key.
 */
export function publicKeyOf(info: { keyType: string; scheme: string; keyVal: string }): crypto.KeyObject {
  return keyUtils.getPublicKey(info);
}
