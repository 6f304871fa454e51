// Credentials in URLs are never shown (DESIGN.md: secrets redacted everywhere): every message a
// CLI prints passes through redactUrls at the error boundary (io/cli/process-guards.ts).
/**
 * Credentials in `user:password@` redacted as pip does (pip/_internal/utils/misc.py
 * `redact_netloc`): `user:****@host`, and `****@host` for a token given as the user name.
 */
function redactUserinfo(userinfo: string): string {
  const i = userinfo.indexOf(':');
  return i < 0 ? '****' : `${userinfo.slice(0, i)}:****`;
}

/** A URL with its credentials redacted (never print a credential URL). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_m, scheme: string, userinfo: string) => `${scheme}${redactUserinfo(userinfo)}@`);
}

/** Every URL's credentials redacted (pip's form), anywhere in a text. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/\s?#@"']*)@/gi, (_m, scheme: string, userinfo: string) => `${scheme}${redactUserinfo(userinfo)}@`);
}
