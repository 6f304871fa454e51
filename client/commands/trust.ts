// `tufpip trust add/list/remove`: bootstrapping trust out of band (DESIGN.md "Client"), and the
// index credentials `trust add` is given (client/lib/index-credentials.ts: stored apart, mode 0600).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { ClientError } from '../lib/client-error.js';
import { TrustStore, type TrustedIndex, type TrustedIndexStatus } from '../lib/trust-store.js';
import { parseIndexUrl, verifyTransport } from '../lib/index-url.js';
import { basicFromValue, credentialFromUrl, resolveCredentials, type Credential, type CredentialSource } from '../lib/index-credentials.js';

export interface TrustAddOptions {
  dataDir?: string;
  name?: string;
  allowHttp?: boolean;
  /** Environment variable holding a bearer token to store for the index. */
  tokenEnv?: string;
  /** Environment variable holding USER:PASSWORD to store for the index. */
  authEnv?: string;
  /** Check the index with its credentials before keeping it (default true when there are credentials). */
  check?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Where an index's credentials come from, without the secret (`trust list`, `trust add`). */
export interface CredentialsInfo {
  source: CredentialSource['kind'] | 'none';
  scheme?: Credential['scheme'];
  /** The environment variable (source 'env'). */
  variable?: string;
  /** The stored or netrc file. */
  file?: string;
}

export interface TrustedIndexInfo extends TrustedIndexStatus {
  credentials: CredentialsInfo;
  /** Whether `trust add` checked the index with its credentials (a TUF update cycle). */
  checked?: boolean;
}

interface Given {
  credential: Credential;
  /** For messages: where it was given. */
  source: string;
}

function credentialGiven(indexUrl: string, opts: TrustAddOptions): Given | undefined {
  const env = opts.env ?? process.env;
  const given: Given[] = [];
  const inUrl = credentialFromUrl(indexUrl);
  if (inUrl) given.push({ credential: inUrl, source: "given in the URL to 'tufpip trust add'" });
  for (const [flag, variable, make] of [
    ['--token-env', opts.tokenEnv, (v: string): Credential => ({ scheme: 'bearer', token: v })],
    ['--auth-env', opts.authEnv, basicFromValue],
  ] as const) {
    if (variable === undefined) continue;
    const value = env[variable];
    if (!value) throw new TufpipError('USAGE', `${flag} ${variable}: the environment variable ${variable} is not set or empty`);
    given.push({ credential: make(value), source: `from $${variable} (${flag})` });
  }
  if (given.length > 1) throw new TufpipError('USAGE', 'give credentials one way: in the URL, with --token-env or with --auth-env');
  return given[0];
}

function infoOf(index: TrustedIndex, env?: NodeJS.ProcessEnv): CredentialsInfo {
  const { credential, source } = resolveCredentials({ url: index.url, name: index.name, indexDir: index.dir, env });
  if (!credential || !source) return { source: 'none' };
  return {
    source: source.kind,
    scheme: credential.scheme,
    ...(source.kind === 'env' ? { variable: source.variable } : {}),
    ...(source.kind === 'stored' || source.kind === 'netrc' ? { file: source.file } : {}),
  };
}

/**
 * Stores the root (and the credentials given, apart); when the index has credentials from any
 * source, checks them with a TUF update cycle (TUF spec 5.3-5.6) and keeps nothing if it fails.
 */
export async function trustAdd(indexUrl: string, rootFile: string, opts: TrustAddOptions = {}): Promise<TrustedIndexInfo> {
  const { url } = parseIndexUrl(indexUrl);
  verifyTransport(url, opts.allowHttp);
  const given = credentialGiven(indexUrl, opts);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(rootFile);
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read root file ${rootFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const store = new TrustStore(opts.dataDir);
  const index = await store.add(url, bytes, { name: opts.name, rootSource: path.resolve(rootFile), credential: given?.credential });
  let checked = false;
  try {
    const credentials = infoOf(index, opts.env);
    if (credentials.source !== 'none' && opts.check !== false) {
      await checkIndex(index, opts, given);
      checked = true;
    }
    return { ...(await store.status(index)), credentials, checked };
  } catch (err) {
    await store.remove(index.name).catch(() => undefined);
    if (err instanceof ClientError) {
      throw new ClientError(err.kind, `${err.message}; nothing was stored (--no-check stores the index without checking)`, { cause: err, role: err.role, index: err.index, path: err.targetPath });
    }
    throw err;
  }
}

/**
 * A TUF update cycle against the index with the credentials given to `trust add`, else with those
 * later commands will find (environment, netrc).
 */
async function checkIndex(index: TrustedIndex, opts: TrustAddOptions, given?: Given): Promise<void> {
  const { IndexClient } = await import('../index.js'); // the library entry (linear parsing installed)
  // The index was just stored and its transport checked (trustAdd): not looked up again.
  const client = IndexClient.openTrusted(index, {
    indexUrl: index.url,
    allowHttp: opts.allowHttp,
    credential: given?.credential,
    credentialSource: given?.source,
  });
  try {
    await client.refresh();
  } finally {
    await client.close();
  }
}

export async function trustList(opts: { dataDir?: string } = {}): Promise<TrustedIndexInfo[]> {
  const store = new TrustStore(opts.dataDir);
  return Promise.all((await store.list()).map(async (i) => ({ ...(await store.status(i)), credentials: infoOf(i) })));
}

export async function trustRemove(name: string, opts: { dataDir?: string } = {}): Promise<{ name: string; url: string }> {
  const removed = await new TrustStore(opts.dataDir).remove(name);
  return { name: removed.name, url: removed.url };
}

/** `stored (bearer)`, `from $VAR (basic)`, `from netrc FILE (basic)`, `none`. */
export function describeCredentials(c: CredentialsInfo): string {
  switch (c.source) {
    case 'none':
      return 'none';
    case 'env':
      return `from $${c.variable} (${c.scheme})`;
    case 'netrc':
      return `from netrc ${c.file} (${c.scheme})`;
    default:
      return `${c.source} (${c.scheme})`;
  }
}
