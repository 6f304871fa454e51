// A refusal as the proxy and the pip commands record and report it (DESIGN.md "Client": bad news
// is explicit, a refused file names the attack class the check stopped). The kind and the message
// (which names the role, the index and the attack class) come from the client library's
// ClientError (client/errors.ts classifies tuf-js errors in one place); this module only records
// them and chooses the HTTP status pip sees.
import type { RefusalKind } from './api.js';
import { ClientError } from './client-error.js';

export interface Refusal {
  /** Target path that was refused (or the index, for a failed update cycle). */
  target: string;
  kind: RefusalKind;
  message: string;
}

const KINDS: ReadonlySet<string> = new Set<RefusalKind>([
  'rollback',
  'freeze',
  'mix-and-match',
  'bad-signature',
  'hash-mismatch',
  'not-signed',
  'not-on-index',
  'missing-developer-signature',
  'endless-data',
  'slow-retrieval',
  'network',
  'credentials',
  'untrusted-index',
  'insecure-transport',
  'metadata',
]);

export function isRefusalKind(value: unknown): value is RefusalKind {
  return typeof value === 'string' && KINDS.has(value);
}

/** The refusal an error stands for: its `.kind` when it is a ClientError, else 'metadata'. */
export function refusalOf(err: unknown, target: string): Refusal {
  const kind = (err as { kind?: unknown } | null)?.kind;
  const message = err instanceof Error ? err.message : String(err);
  return { target, kind: isRefusalKind(kind) ? kind : 'metadata', message };
}

/**
 * HTTP status pip sees: 404 for a file no role lists or the index does not offer (pip then says
 * "no matching distribution"), 502 when the index could not be reached or refused the
 * credentials, 403 for every security refusal.
 * None of them is in pip's retry list (500, 503, 520, 527), so pip gives up at once.
 */
export function httpStatusFor(kind: RefusalKind): number {
  if (kind === 'not-signed' || kind === 'not-on-index') return 404;
  // 'credentials' too: a 401 would make pip ask for a password for the proxy itself.
  if (kind === 'network' || kind === 'slow-retrieval' || kind === 'credentials') return 502;
  return 403;
}

/** One line for people; ClientError messages already name the kind, role, index and meaning. */
export function describeRefusal(r: Refusal): string {
  const kind = r.message.includes(r.kind) ? '' : ` [${r.kind}]`;
  return r.message.includes(r.target) ? `${r.message}${kind}` : `${r.target}${kind}: ${r.message}`;
}

/** Security refusals first: they explain a failure better than a 404 that followed them. */
export function mostSevere(refusals: readonly Refusal[]): Refusal | undefined {
  const absent = (r: Refusal) => r.kind === 'not-signed' || r.kind === 'not-on-index';
  return refusals.find((r) => !absent(r) && r.kind !== 'network') ?? refusals.find((r) => !absent(r)) ?? refusals.find((r) => r.kind === 'not-on-index') ?? refusals[0];
}

/**
 * Everything the proxy refused during one pip run, as one error: the most severe refusal's kind
 * and message (it names the attack class, the file or role and the index), plus what followed.
 */
export class RefusalsError extends ClientError {
  readonly refusals: Refusal[];
  constructor(refusals: readonly Refusal[], consequence: string) {
    const first = mostSevere(refusals)!;
    const others = refusals.length > 1 ? ` (and ${refusals.length - 1} more refusal${refusals.length > 2 ? 's' : ''})` : '';
    super(first.kind, `${describeRefusal(first)}${others}; ${consequence}`, { path: first.target });
    this.name = 'RefusalsError';
    this.refusals = [...refusals];
  }
}
