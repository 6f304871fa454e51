// HTTP credentials as a request carries them: written in a URL (pip's form) and as an
// Authorization header (RFC 7617 Basic, RFC 6750 Bearer). Pure; where credentials come from is
// the client's business (client/lib/index-credentials.ts).

export type Credential =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string };

/** Credentials written in a URL (`https://USER:PASSWORD@host/`, or pip's token form `https://TOKEN@host/`). */
export function credentialFromUrl(url: string): Credential | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!u.username && !u.password) return undefined;
  return { scheme: 'basic', username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

/** The Authorization header value for a credential (RFC 7617 Basic, RFC 6750 Bearer). */
export function authorizationHeader(c: Credential): string {
  return c.scheme === 'bearer' ? `Bearer ${c.token}` : `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}
