// A real `tufpip-repo` site served on loopback behind HTTP authentication, for the private-index
// tests: Basic (RFC 7617) or Bearer (RFC 6750). No Authorization header: 401 with
// WWW-Authenticate; a wrong one: 401 (Basic) or 403 (Bearer), as private indexes answer. Every
// request is recorded with the status and the Authorization header it carried. Closed by the test.
import type http from 'node:http';
import { createSiteServer } from '../../repo-tools/commands/serve.js';
import { startHttp, type Loopback } from './loopback.js';

export type IndexAuth = { scheme: 'basic'; username: string; password: string } | { scheme: 'bearer'; token: string };

export interface AuthRequest {
  path: string;
  status: number;
  authorization?: string;
}

export interface AuthIndex extends Loopback {
  auth: IndexAuth;
  /** The Authorization header value the index accepts. */
  header: string;
  /** Accepts other credentials from now on (the old ones are revoked). */
  rotate(auth: IndexAuth): void;
  requests: AuthRequest[];
  /** Requests answered 401 or 403. */
  refused(): AuthRequest[];
}

export function headerFor(auth: IndexAuth): string {
  return auth.scheme === 'bearer' ? `Bearer ${auth.token}` : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

export async function startAuthIndex(siteDir: string, auth: IndexAuth): Promise<AuthIndex> {
  const site = createSiteServer(siteDir);
  let header = headerFor(auth);
  const requests: AuthRequest[] = [];
  const handler: http.RequestListener = (req, res) => {
    const given = req.headers.authorization;
    const entry: AuthRequest = { path: req.url ?? '', status: 0, authorization: given };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    if (given === header) {
      site.emit('request', req, res);
      return;
    }
    const challenge = auth.scheme === 'bearer' ? 'Bearer realm="tufpip-test"' : 'Basic realm="tufpip-test"';
    const status = !given || auth.scheme === 'basic' ? 401 : 403;
    res.writeHead(status, { 'www-authenticate': challenge, 'content-type': 'text/plain' });
    res.end(status === 401 ? 'authentication required\n' : 'forbidden\n');
  };
  const lb = await startHttp(handler);
  const ix: AuthIndex = {
    ...lb,
    auth,
    header,
    requests,
    rotate(next) {
      ix.auth = auth = next;
      ix.header = header = headerFor(next);
    },
    refused: () => requests.filter((r) => r.status === 401 || r.status === 403),
  };
  return ix;
}
