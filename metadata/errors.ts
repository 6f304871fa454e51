// One error base for everything a user sees (STYLE.md "Errors"): a string `code`, a short
// factual message naming what was refused and why, and `cause`. `exitCodeFor` is the one place
// that maps errors to process exit codes, for both CLIs.

export type ErrorCode =
  | 'USAGE' // bad flags or arguments
  | 'BAD_INPUT' // a file or value that is not acceptable (not a distribution, bad JSON...)
  | 'BAD_FILENAME'
  | 'BAD_KEY' // missing, unreadable or wrong key, wrong passphrase
  | 'EXISTS' // refusing to overwrite (init on an existing directory)
  | 'NOT_FOUND'
  | 'CONFLICT' // a filename already published with other content
  | 'REFUSED' // a policy refusal (developer-signed project, secret under site/...)
  | 'SELF_CHECK' // the repository's own verification of what it was about to publish failed
  | 'VERIFY_FAILED' // verify found problems
  | 'EXPIRING' // bump: an offline role expires soon
  | 'PARTIAL' // sync: published, but some files were left out (developer-signed projects)
  | 'LOCKED' // could not get the repository lock
  | 'NETWORK' // the index could not be reached, or answered with an HTTP error (client)
  | 'AUTH' // the index asks for credentials, or refused them (client, HTTP 401/403)
  | 'IO';

export class TufpipError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TufpipError';
  }
}

const EXIT: Record<ErrorCode, number> = {
  USAGE: 2,
  BAD_INPUT: 1,
  BAD_FILENAME: 1,
  BAD_KEY: 1,
  EXISTS: 1,
  NOT_FOUND: 1,
  CONFLICT: 1,
  REFUSED: 1,
  SELF_CHECK: 1,
  VERIFY_FAILED: 1,
  EXPIRING: 3,
  PARTIAL: 5,
  LOCKED: 4,
  NETWORK: 1,
  AUTH: 1,
  IO: 1,
};

/** Exit code for an error: 2 usage, 3 offline role expiring, 4 lock, 5 partial sync, 1 anything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof TufpipError) return EXIT[err.code];
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in EXIT) return EXIT[code as ErrorCode];
  return 1;
}

/** One line for the user: the message, plus the underlying cause when it adds something. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
