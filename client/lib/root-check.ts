// Checks a root.json before it becomes a trust anchor (TUF spec 5.2: the trusted root is loaded and
// must be signed by a threshold of its own root keys): parsed by @tufjs/models (tuf/models.ts), type root,
// self-signed to threshold. An expired root is accepted (spec 5.2: newer roots are fetched from it).
import { Metadata, MetadataKind, type Root } from '../../tuf/models.js';
import { TufpipError } from '../../metadata/errors.js';
import { shortKeyId } from '../../metadata/keys.js';
import { sha256Hex } from '../../metadata/hash.js';

export interface RootSummary {
  version: number;
  expires: string;
  threshold: number;
  keyids: string[];
  sha256: string;
}

export function checkRootBytes(bytes: Uint8Array, where: string): RootSummary {
  let md: Metadata<Root>;
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Parameters<typeof Metadata.fromJSON>[1];
    md = Metadata.fromJSON(MetadataKind.Root, json) as Metadata<Root>;
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${where} is not a TUF root.json: ${(err as Error).message}`, { cause: err });
  }
  if (md.signed.type !== MetadataKind.Root) throw new TufpipError('BAD_INPUT', `${where} is ${md.signed.type} metadata, not root`);
  const role = md.signed.roles[MetadataKind.Root];
  try {
    // TUF spec 5.2: the trusted root must verify with its own root keys and threshold.
    md.verifyDelegate(MetadataKind.Root, md);
  } catch (err) {
    throw new TufpipError(
      'BAD_INPUT',
      `${where}: root version ${md.signed.version} is not signed by ${role.threshold} of its own root keys (${role.keyIDs.map(shortKeyId).join(', ')}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return {
    version: md.signed.version,
    expires: md.signed.expires,
    threshold: role.threshold,
    keyids: [...role.keyIDs],
    sha256: sha256Hex(bytes),
  };
}
