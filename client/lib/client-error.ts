// The client's boundary error (ClientError: a refusal with the attack class it stopped) and how
// it is worded, with no dependency on tuf-js: modules on the path that starts pip import it from
// here, so that loading tuf-js waits until pip runs (issue 3 "Speed"). The classification of
// tuf-js errors, the ONE adapter (STYLE.md "Errors"), is tuf/error-classifier.ts (wrapped by client/errors.ts).
import { TufpipError, type ErrorCode } from '../../metadata/errors.js';
import type { RefusalKind } from './api.js';
import { redactUrls } from '../../metadata/redact.js';

export { redactUrl, redactUrls } from '../../metadata/redact.js';

/** Where a failure happened, for the message: the index (display URL), role and target path. */
export interface RefusalContext {
  /** Index URL without credentials (see redactUrl). */
  index?: string;
  /** The role being loaded when the failure happened, if the caller knows it. */
  role?: string;
  /** The target path being looked up or downloaded. */
  path?: string;
}

/** What each refusal means for the user (appended to the factual detail). */
const MEANING: Record<RefusalKind, string> = {
  rollback: 'metadata versions out of sequence with what this client already trusts: possible rollback attack',
  freeze: "possible freeze attack, or the index's cron job (tufpip-repo bump) stopped re-signing",
  'mix-and-match': 'metadata files that do not belong to the same snapshot: possible mix-and-match attack',
  'bad-signature': 'signature invalid or threshold not met: possible arbitrary-software attack',
  'hash-mismatch': 'the file differs from what signed metadata says: tampered or corrupted',
  'not-signed': 'no role of the index lists this file',
  'not-on-index': 'the index does not offer it',
  'missing-developer-signature': 'the index may be compromised',
  'endless-data': 'more bytes than signed metadata allows: possible endless-data attack',
  'slow-retrieval': 'the server stopped sending data: slow network or slow-retrieval attack',
  network: 'the index could not be reached',
  credentials: 'credentials for the index are missing or were refused',
  'untrusted-index': 'no trusted root for this index',
  'insecure-transport': 'plain HTTP is accepted only on loopback',
  metadata: 'the index metadata could not be verified',
};

export function codeForKind(kind: RefusalKind): ErrorCode {
  if (kind === 'network' || kind === 'slow-retrieval') return 'NETWORK';
  if (kind === 'untrusted-index' || kind === 'not-on-index') return 'NOT_FOUND';
  if (kind === 'credentials') return 'AUTH';
  return 'REFUSED';
}

export class ClientError extends TufpipError {
  readonly kind: RefusalKind;
  readonly role?: string;
  readonly index?: string;
  readonly targetPath?: string;
  constructor(kind: RefusalKind, message: string, options: { cause?: unknown; role?: string; index?: string; path?: string } = {}) {
    super(codeForKind(kind), message, { cause: options.cause });
    this.name = 'ClientError';
    this.kind = kind;
    this.role = options.role;
    this.index = options.index;
    this.targetPath = options.path;
  }
}

/** The refused-because sentence every refusal ends with. */
export function meaningOf(kind: RefusalKind): string {
  return MEANING[kind];
}

/** Key IDs shortened to 8 hex digits and credential URLs redacted, in any text shown to users. */
export function tidyMessage(text: string): string {
  return redactUrls(text.replace(/\b([0-9a-f]{8})[0-9a-f]{56}\b/g, '$1'));
}

/** `refused (freeze): timestamp of http://idx/: Final timestamp.json is expired: possible freeze attack, ...`. */
export function refusalMessage(kind: RefusalKind, detail: string, context: RefusalContext): string {
  const where = [context.path, context.role ? `role ${context.role}` : undefined, context.index ? `index ${context.index}` : undefined]
    .filter(Boolean)
    .join(', ');
  const head = kind === 'network' || kind === 'slow-retrieval' || kind === 'credentials' ? kind : `refused (${kind})`;
  return `${head}${where ? ` [${where}]` : ''}: ${detail}: ${MEANING[kind]}`;
}

/**
 * PEP 480 signature gap (missing-developer-signature) with whether an index-signed role lists
 * the file: the verifying proxy tells a real gap from a request for a file the index never
 * offered (docs/design-decisions.md "Not on the index").
 */
export class SignatureGapError extends ClientError {
  /** The index-signed role (hash bin) that lists the file, if any. */
  readonly listedBy?: string;
  constructor(message: string, options: { index?: string; path?: string; role?: string; listedBy?: string }) {
    super('missing-developer-signature', message, options);
    this.name = 'SignatureGapError';
    this.listedBy = options.listedBy;
  }
}
