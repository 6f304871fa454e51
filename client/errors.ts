// The client's boundary error and the ONE adapter from tuf-js 5.0.1 errors to what a user can act
// on (STYLE.md "Errors"). tuf-js exports no error classes from its index and rewraps snapshot and
// targets failures as `RuntimeError("Unable to load ... error Error: <inner message>")`, losing the
// inner class: so errors are classified by class first and then by the inner message text.
import {
  BadVersionError,
  DownloadError,
  DownloadHTTPError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
} from 'tuf-js/dist/error.js';
import { LengthOrHashMismatchError, UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import { TufpipError, type ErrorCode } from '../metadata/errors.js';
import type { RefusalKind } from './api.js';

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
  'missing-developer-signature': 'the index may be compromised',
  'endless-data': 'more bytes than signed metadata allows: possible endless-data attack',
  'slow-retrieval': 'the server stopped sending data: slow network or slow-retrieval attack',
  network: 'the index could not be reached',
  'untrusted-index': 'no trusted root for this index',
  'insecure-transport': 'plain HTTP is accepted only on loopback',
  metadata: 'the index metadata could not be verified',
};

export function codeForKind(kind: RefusalKind): ErrorCode {
  if (kind === 'network' || kind === 'slow-retrieval') return 'NETWORK';
  if (kind === 'untrusted-index') return 'NOT_FOUND';
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

/** A URL with any user:password removed (never print a credential URL). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}

/** Key IDs shortened to 8 hex digits and credential URLs redacted, in any text shown to users. */
export function tidyMessage(text: string): string {
  return text
    .replace(/\b([0-9a-f]{8})[0-9a-f]{56}\b/g, '$1')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s?#@]*@/gi, '$1');
}

interface Rule {
  kind: RefusalKind;
  test: RegExp;
  /** The role named by the message, if it names one. */
  role?: (m: RegExpExecArray) => string | undefined;
}

// Inner messages of tuf-js 5.0.1 (store.ts, updater.ts) and @tufjs/models 4.1.1 (metadata.ts,
// file.ts, key.ts), in the order they must be tried. Our own fetcher's errors carry their class
// name in `name`, so tuf-js's `${error}` rewrap keeps it ("SlowRetrievalError: ...").
const RULES: Rule[] = [
  // TUF spec 5.3.10 / 5.4.4 / 5.5.6 / 5.6.5: freeze attack.
  { kind: 'freeze', test: /Final (root|timestamp)\.json is expired/, role: (m) => m[1] },
  { kind: 'freeze', test: /(\S+)\.json is expired/, role: (m) => m[1] },
  // TUF spec 5.5.4 / 5.6.4: versions that do not match what the snapshot (timestamp) names.
  { kind: 'mix-and-match', test: /Snapshot version doesn't match timestamp/, role: () => 'snapshot' },
  { kind: 'mix-and-match', test: /Version \d+ of (\S+) does not match snapshot version \d+/, role: (m) => m[1] },
  // TUF spec 5.3.5: root versions go up by exactly one.
  { kind: 'rollback', test: /Expected version \d+, got \d+/, role: () => 'root' },
  // TUF spec 5.4.3 / 5.5.5: rollback of timestamp, snapshot or a targets role.
  { kind: 'rollback', test: /New (timestamp|snapshot) version \d+ is less than current version \d+/, role: (m) => m[1] },
  { kind: 'rollback', test: /New version \d+ of (\S+)\.json is less than current version \d+/, role: (m) => m[1] },
  { kind: 'rollback', test: /Missing file (\S+)\.json in new snapshot/, role: (m) => m[1] },
  // TUF spec 5.3.4 / 5.4.2 / 5.5.3 / 5.6.3: signature threshold.
  { kind: 'bad-signature', test: /(\S+) was signed by \d+\/\d+ keys/, role: (m) => m[1] },
  { kind: 'bad-signature', test: /failed to verify \S+ signature|no signature for key found/ },
  // TUF spec 5.5.2 / 5.6.2 / 5.7.3: length and hashes from signed metadata.
  { kind: 'hash-mismatch', test: /Expected (length|hash) \S+ but got \S+/ },
  // TUF spec 5.2.x "endless data": a download longer than metadata allows.
  { kind: 'endless-data', test: /DownloadLengthMismatchError|Max length reached/ },
  { kind: 'slow-retrieval', test: /SlowRetrievalError/ },
  { kind: 'network', test: /DownloadHTTPError|NetworkError|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|Failed to download/ },
];

const CLASS_KIND: Array<[abstract new (...args: never[]) => Error, RefusalKind]> = [
  [ExpiredMetadataError, 'freeze'],
  [UnsignedMetadataError, 'bad-signature'],
  [LengthOrHashMismatchError, 'hash-mismatch'],
  [DownloadLengthMismatchError, 'endless-data'],
  [DownloadHTTPError, 'network'],
];

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Rewrites tuf-js details into the "Expected root version 4, got 6" style with the role named. */
function detailOf(text: string, role: string | undefined): string {
  let d = text
    .replace(/^Unable to load (snapshot metadata|targets) error /, '')
    .replace(/^(?:[A-Za-z]*Error): /, '');
  if (role) d = d.replace(/^Expected version (\d+), got (\d+)/, `Expected ${role} version $1, got $2`);
  return tidyMessage(d);
}

/**
 * TUF spec 5 (client workflow): every failure of tuf-js's Updater mapped to the attack class it
 * stopped. A ClientError is returned unchanged. `context.role` is used when the message names none.
 */
export function classifyTufError(err: unknown, context: RefusalContext = {}): ClientError {
  if (err instanceof ClientError) return err;
  const text = messageOf(err);
  let kind: RefusalKind | undefined;
  let role: string | undefined;
  for (const rule of RULES) {
    const m = rule.test.exec(text);
    if (m) {
      kind = rule.kind;
      role = rule.role?.(m);
      break;
    }
  }
  if (!kind) {
    for (const [cls, k] of CLASS_KIND) if (err instanceof cls) kind = k;
  }
  if (!kind && err instanceof BadVersionError) kind = 'rollback';
  if (!kind && (err as { name?: string } | null)?.name === 'SlowRetrievalError') kind = 'slow-retrieval';
  if (!kind && (err instanceof DownloadError || isSystemNetworkError(err))) kind = 'network';
  kind ??= 'metadata';
  if (/^Unable to load snapshot metadata/.test(text)) role ??= 'snapshot';
  // A metadata URL in the message names the role (`.../metadata/3.bin-0a.json`, `.../timestamp.json`).
  role ??= /\/metadata\/(?:\d+\.)?([^/\s]+)\.json\b/.exec(text)?.[1];
  role ??= context.role;
  return new ClientError(kind, refusalMessage(kind, detailOf(text, role), { ...context, role }), {
    cause: err,
    role,
    index: context.index,
    path: context.path,
  });
}

function isSystemNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code) && code !== 'ENOENT';
}

/** `refused (freeze): timestamp of http://idx/: Final timestamp.json is expired: possible freeze attack, ...`. */
export function refusalMessage(kind: RefusalKind, detail: string, context: RefusalContext): string {
  const where = [context.path, context.role ? `role ${context.role}` : undefined, context.index ? `index ${context.index}` : undefined]
    .filter(Boolean)
    .join(', ');
  const head = kind === 'network' || kind === 'slow-retrieval' ? kind : `refused (${kind})`;
  return `${head}${where ? ` [${where}]` : ''}: ${detail}: ${MEANING[kind]}`;
}
