// The verifying proxy's per-run secret (DESIGN.md "Client", docs/design-decisions.md): the proxy
// fetches with the index's credentials, so it must serve only the user who started it. Every
// request path starts with `/<secret>/`; a loopback port alone is open to every local user (and
// to web pages through DNS rebinding), a random path segment is not. Pure: no I/O.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: one URL path segment with 256 bits of entropy. */
export function newProxySecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Equal in constant time whatever the inputs (both hashed first, so lengths do not leak). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export type SecretCheck = { ok: true; rest: string } | { ok: false; reason: string };

/**
 * Checks that a request target (`/<secret>/simple/...`) starts with the secret and returns the
 * rest (`/simple/...`, query kept), or why it was refused.
 */
export function checkProxySecret(requestUrl: string, secret: string): SecretCheck {
  const m = /^\/([^/?#]*)(.*)$/s.exec(requestUrl);
  // A path that starts where the served tree does (`/simple/`, `/packages/`) has no secret at all.
  if (!m || m[1] === '' || m[1] === 'simple' || m[1] === 'packages') return { ok: false, reason: 'missing proxy secret' };
  if (!sameSecret(m[1], secret)) return { ok: false, reason: 'wrong proxy secret' };
  return { ok: true, rest: m[2] === '' ? '/' : m[2] };
}
