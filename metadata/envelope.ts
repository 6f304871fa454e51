// The one parser of signed metadata bytes (TUF spec "Document formats": every metadata file is
// `{"signed": {...}, "signatures": [...]}`). It checks only the envelope's shape; a role's own
// fields are checked where they are used (@tufjs/models on the repository side, tuf-js on the
// client). Errors are BAD_INPUT and name the file. Pure: no I/O.
import type { Envelope } from './builders.js';
import { TufpipError } from './errors.js';

/** JSON text of a file a command reads; BAD_INPUT `<where> is not valid JSON` otherwise. */
export function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${where} is not valid JSON`, { cause: err });
  }
}

/** `{signed, signatures}` of metadata bytes (UTF-8 JSON), with the shape of the envelope checked. */
export function parseEnvelope<T>(bytes: Uint8Array | string, where: string): { signatures: Envelope['signatures']; signed: T } {
  const v = parseJsonText(typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), where);
  const e = v as { signatures?: unknown; signed?: unknown };
  if (!e || typeof e !== 'object' || !Array.isArray(e.signatures) || !e.signed || typeof e.signed !== 'object') {
    throw new TufpipError('BAD_INPUT', `${where} is not TUF metadata (needs "signed" and "signatures")`);
  }
  return e as { signatures: Envelope['signatures']; signed: T };
}
