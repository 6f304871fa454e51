// Credentials for a private index (DESIGN.md "Secrets of the client": stored apart from trust
// data, 0600, redacted everywhere, from where pip users keep them: URL, netrc, environment).
// Where they come from, first match wins:
//   1. the URL given to this command (`--index https://USER:PASSWORD@host/`, `--metadata-url`);
//   2. the index's environment variables: TUFPIP_INDEX_<NAME>_AUTH=USER:PASSWORD (HTTP Basic) or
//      TUFPIP_INDEX_<NAME>_TOKEN=TOKEN (HTTP Bearer), NAME the index name upper-cased with every
//      character but A-Z and 0-9 as `_` ("127.0.0.1:8080" -> TUFPIP_INDEX_127_0_0_1_8080_AUTH);
//   3. what `tufpip trust add` stored: <data-dir>/indexes/<name>/credentials (mode 0600);
//   4. netrc ($NETRC, ~/.netrc), for the index's host name, as pip reads it (Basic only).
// A credential is sent only to the index's own origin (io/http-transport.ts). Nothing here ever
// puts a secret in a message: sources are described by where they are, never by what they hold.
import fs from 'node:fs';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { netrcCredentialFor } from './netrc.js';
import { writeFileAtomicSync } from '../../io/atomic-file.js';
import { credentialFromUrl, type Credential } from '../../io/http-auth.js';

export { authorizationHeader, credentialFromUrl, type Credential } from '../../io/http-auth.js';

export type CredentialSource =
  | { kind: 'url' }
  | { kind: 'env'; variable: string }
  | { kind: 'stored'; file: string }
  | { kind: 'netrc'; file: string; machine: string };

export interface IndexCredentials {
  credential?: Credential;
  source?: CredentialSource;
}

/** File name of the stored credentials in an index's trust-store directory. */
export const CREDENTIALS_FILE = 'credentials';

/** The environment variables that give credentials for an index named `name`. */
export function credentialEnvNames(name: string): { auth: string; token: string } {
  const n = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return { auth: `TUFPIP_INDEX_${n}_AUTH`, token: `TUFPIP_INDEX_${n}_TOKEN` };
}

/** `USER:PASSWORD` (split at the first colon); a value without a colon is a token sent as the user name, as pip does. */
export function basicFromValue(value: string): Credential {
  const i = value.indexOf(':');
  return i < 0 ? { scheme: 'basic', username: value, password: '' } : { scheme: 'basic', username: value.slice(0, i), password: value.slice(i + 1) };
}

/** Where credentials came from, for messages and `trust list` (never the secret itself). */
export function describeSource(s: CredentialSource): string {
  switch (s.kind) {
    case 'url':
      return 'from the URL';
    case 'env':
      return `from $${s.variable}`;
    case 'stored':
      return `stored by 'tufpip trust add' (${s.file})`;
    case 'netrc':
      return `from netrc ${s.file} (${s.machine === 'default' ? 'default entry' : `machine ${s.machine}`})`;
  }
}

/**
 * How to give credentials for an index, for the message of an HTTP 401/403; `trusted`: the index
 * is in the trust store (credentials can be stored with `trust add`), else a URL is the way.
 */
export function credentialsHint(name: string, url: string, trusted: boolean): string {
  const env = credentialEnvNames(name);
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const other = trusted
    ? `or store them with 'tufpip trust add' (USER:PASSWORD@ in the index URL, or --token-env VAR) after 'tufpip trust remove ${name}'`
    : 'or put USER:PASSWORD@ in the URL';
  return `give them with ${env.auth}=USER:PASSWORD or ${env.token}=TOKEN, in netrc ($NETRC or ~/.netrc, machine ${host}), ${other}`;
}

function fromEnv(name: string, env: NodeJS.ProcessEnv): IndexCredentials | undefined {
  const names = credentialEnvNames(name);
  const auth = env[names.auth];
  const token = env[names.token];
  if (auth && token) throw new TufpipError('USAGE', `both ${names.auth} and ${names.token} are set: keep one`);
  if (token) return { credential: { scheme: 'bearer', token }, source: { kind: 'env', variable: names.token } };
  if (auth) return { credential: basicFromValue(auth), source: { kind: 'env', variable: names.auth } };
  return undefined;
}

/** Reads the credentials `trust add` stored in an index directory, if any. */
export function loadStoredCredential(indexDir: string): IndexCredentials | undefined {
  const file = path.join(indexDir, CREDENTIALS_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TufpipError('IO', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const c = parseStored(text);
  if (!c) throw new TufpipError('BAD_INPUT', `${file} is not a tufpip credentials file: remove the index with 'tufpip trust remove' and add it again`);
  return { credential: c, source: { kind: 'stored', file } };
}

function parseStored(text: string): Credential | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const o = v as Record<string, unknown> | null;
  if (o?.scheme === 'bearer' && typeof o.token === 'string') return { scheme: 'bearer', token: o.token };
  if (o?.scheme === 'basic' && typeof o.username === 'string' && typeof o.password === 'string') return { scheme: 'basic', username: o.username, password: o.password };
  return undefined;
}

/** Writes `<indexDir>/credentials`, mode 0600 from creation, atomically. */
export function persistStoredCredential(indexDir: string, c: Credential): void {
  writeFileAtomicSync(path.join(indexDir, CREDENTIALS_FILE), JSON.stringify(c) + '\n', true, 0o600);
}

export interface ResolveOptions {
  /** The URL given to this command, possibly with credentials. */
  url: string;
  /** Index name (trust store name, else host:port). */
  name: string;
  /** The index's trust-store directory, when it has one. */
  indexDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** The credentials to use for an index, by the precedence above; `{}` when there are none. */
export function resolveCredentials(o: ResolveOptions): IndexCredentials {
  const env = o.env ?? process.env;
  const inUrl = credentialFromUrl(o.url);
  if (inUrl) return { credential: inUrl, source: { kind: 'url' } };
  const fromVars = fromEnv(o.name, env);
  if (fromVars) return fromVars;
  const stored = o.indexDir ? loadStoredCredential(o.indexDir) : undefined;
  if (stored) return stored;
  const m = netrcCredentialFor(new URL(o.url).hostname, env);
  if (m) return { credential: { scheme: 'basic', username: m.username, password: m.password }, source: { kind: 'netrc', file: m.file, machine: m.machine } };
  return {};
}
