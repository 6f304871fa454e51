// Index URLs: one normal form per index (trailing slash, no credentials, no query), its default
// name (host[:port]) and the transport rule (DESIGN.md / issue 3: plain HTTP only on loopback
// unless the user says --allow-http).
import { TufpipError } from '../../metadata/errors.js';
import { ClientError, redactUrl } from './client-error.js';
import { isLoopbackHost } from '../../io/loopback-host.js';

export { isLoopbackHost } from '../../io/loopback-host.js';

export interface IndexUrl {
  /** Normal form without credentials: the trust store's key and what messages show. */
  url: string;
  /** The URL to fetch from (may carry user:password for HTTP Basic auth). */
  fetchUrl: string;
}

/** Parses and normalises an index base URL (`https://host/path/`, trailing slash added). */
export function parseIndexUrl(input: string): IndexUrl {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new TufpipError('USAGE', `not a URL: ${JSON.stringify(redactUrl(input))} (give the index base URL, e.g. https://pypi.example.org/)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new TufpipError('USAGE', `index URL must be http(s), got ${u.protocol} in ${redactUrl(input)}`);
  }
  if (u.search || u.hash) throw new TufpipError('USAGE', `index URL must not have a query or fragment: ${redactUrl(input)}`);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  const fetchUrl = u.href;
  u.username = '';
  u.password = '';
  return { url: u.href, fetchUrl };
}

/** Default index name: host[:port] of its URL. */
export function defaultIndexName(url: string): string {
  return new URL(url).host;
}

/** Refuses plain HTTP to a non-loopback host unless allowed (metadata is signed, but privacy and
 * the freshness window still depend on the transport; pip itself warns on plain HTTP). */
export function verifyTransport(url: string, allowHttp = false): void {
  const u = new URL(url);
  if (u.protocol === 'http:' && !allowHttp && !isLoopbackHost(u.hostname)) {
    throw new ClientError(
      'insecure-transport',
      `refused (insecure-transport): ${redactUrl(url)} is plain HTTP to a non-loopback host; use https, or pass --allow-http (allowHttp) if you accept that`,
      { index: redactUrl(url) },
    );
  }
}
