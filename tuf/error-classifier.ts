// The ONE classifier of tuf-js 5.0.1 / @tufjs/models 4.1.1 errors (STYLE.md "Errors"), used by
// the client (client/errors.ts wraps a classification into its boundary error, ClientError) and
// by repo-tools (self-check refusals, `tufpip-repo verify`: describeTufError). tuf-js exports no
// error classes from its index and rewraps snapshot and targets failures as
// `RuntimeError("Unable to load ... error Error: <inner message>")`, losing the inner class: so
// errors are classified by their inner message first and then by class.
import {
  BadVersionError,
  DownloadError,
  DownloadHTTPError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
} from 'tuf-js/dist/error.js';
import { LengthOrHashMismatchError, UnsignedMetadataError } from '@tufjs/models/dist/error.js';

/** The attack class (TUF spec 5, client workflow) a tuf-js failure stopped, or what else failed. */
export type TufFailureKind =
  | 'freeze'
  | 'mix-and-match'
  | 'rollback'
  | 'bad-signature'
  | 'hash-mismatch'
  | 'endless-data'
  | 'slow-retrieval'
  | 'credentials'
  | 'network'
  | 'metadata';

export interface TufFailure {
  kind: TufFailureKind;
  /** The role the failure concerns, when the message (or the caller) names one. */
  role?: string;
  /** The inner message, without tuf-js's rewrap, with the role named in version mismatches. */
  detail: string;
}

interface Rule {
  kind: TufFailureKind;
  test: RegExp;
  /** The role named by the message, if it names one. */
  role?: (m: RegExpExecArray) => string | undefined;
}

// Inner messages of tuf-js 5.0.1 (store.ts, updater.ts) and @tufjs/models 4.1.1 (metadata.ts,
// file.ts, key.ts), in the order they must be tried. tufpip's fetchers' errors carry their class
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
  // HTTP 401/403 (the HTTP fetcher's authDetail): credentials missing or refused, not "unreachable".
  { kind: 'credentials', test: /HTTP 40[13] for / },
  { kind: 'network', test: /DownloadHTTPError|NetworkError|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|Failed to download/ },
];

const CLASS_KIND: Array<[abstract new (...args: never[]) => Error, TufFailureKind]> = [
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
  return d;
}

function isSystemNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code) && code !== 'ENOENT';
}

/**
 * TUF spec 5 (client workflow): a failure of tuf-js's Updater or TrustedMetadataStore mapped to
 * the attack class it stopped. `fallbackRole` is used when the message names no role.
 */
export function classifyTufFailure(err: unknown, fallbackRole?: string): TufFailure {
  const text = messageOf(err);
  let kind: TufFailureKind | undefined;
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
  role ??= fallbackRole;
  return { kind, role, detail: detailOf(text, role) };
}

/**
 * `<ErrorClass>: <message>` of a tuf-js / @tufjs/models error, as operator messages name it
 * ("self-check refused the new metadata (bin-0a: UnsignedMetadataError: ...)").
 */
export function describeTufError(err: unknown): string {
  return `${tufErrorName(err)}: ${(err as Error)?.message ?? String(err)}`;
}

/** The class name of a thrown value ("Error" when it has none). */
export function tufErrorName(err: unknown): string {
  return (err as Error)?.constructor?.name ?? 'Error';
}
