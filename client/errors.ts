// The client's side of the one tuf-js error classifier (tuf/error-classifier.ts): a classified
// failure becomes the client's boundary error, ClientError (client-error.ts, re-exported here),
// worded for a user to act on (STYLE.md "Errors").
import { classifyTufFailure } from '../tuf/error-classifier.js';
import { ClientError, refusalMessage, tidyMessage, type RefusalContext } from './lib/client-error.js';

export { ClientError, SignatureGapError, codeForKind, meaningOf, redactUrl, refusalMessage, tidyMessage, type RefusalContext } from './lib/client-error.js';

/**
 * TUF spec 5 (client workflow): every failure of tuf-js's Updater mapped to the attack class it
 * stopped. A ClientError is returned unchanged. `context.role` is used when the message names none.
 */
export function classifyTufError(err: unknown, context: RefusalContext = {}): ClientError {
  if (err instanceof ClientError) return err;
  const { kind, role, detail } = classifyTufFailure(err, context.role);
  return new ClientError(kind, refusalMessage(kind, tidyMessage(detail), { ...context, role }), {
    cause: err,
    role,
    index: context.index,
    path: context.path,
  });
}
