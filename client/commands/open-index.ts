// `--index NAME|URL` for the pip-facing commands: which trusted index to use (DESIGN.md "Client":
// trust is bootstrapped out of band with `tufpip trust add`). Default: the only trusted index.
// The transport rule (plain HTTP only on loopback unless --allow-http) is checked before the
// trust store is read and before any connection (resolveIndex -> verifyTransport).
import type { FetchOptions } from '../lib/api.js';
import { TufpipError } from '../../metadata/errors.js';
import { ClientError } from '../lib/client-error.js';
import type { IndexClient } from '../lib/index-client.js';
import { parseIndexUrl, verifyTransport } from '../lib/index-url.js';
import { TrustStore, type TrustedIndex } from '../lib/trust-store.js';
import { defaultDataDir } from '../lib/data-dir.js';

export interface IndexChoice extends FetchOptions {
  /** Trusted index name or URL; default: the only trusted index. */
  index?: string;
  dataDir?: string;
  allowHttp?: boolean;
}

const looksLikeUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** The index --index chose, resolved once: the trust store's record and the URL to fetch from. */
export interface ResolvedIndex {
  /** The index URL as given (it may carry credentials for the index: never printed), else its normal form. */
  indexUrl: string;
  index: TrustedIndex;
}

/** Resolves --index to a trusted index; throws 'untrusted-index' / USAGE when there is no single answer. */
export async function resolveIndex(choice: IndexChoice): Promise<ResolvedIndex> {
  const store = new TrustStore(choice.dataDir ?? defaultDataDir());
  if (choice.index && looksLikeUrl(choice.index)) {
    verifyTransport(choice.index, choice.allowHttp);
    const { url } = parseIndexUrl(choice.index);
    const index = await store.find(url);
    if (!index) {
      throw new ClientError('untrusted-index', `no trusted root for index ${url}: get its root.json out of band and run 'tufpip trust add ${url} --root ROOT.json'`, { index: url });
    }
    return { indexUrl: choice.index, index };
  }
  if (choice.index) {
    const found = await store.find(choice.index);
    if (!found) {
      throw new ClientError('untrusted-index', `no trusted index named ${choice.index} (see 'tufpip trust list'; add one with 'tufpip trust add URL --root ROOT.json')`);
    }
    verifyTransport(found.url, choice.allowHttp);
    return { indexUrl: found.url, index: found };
  }
  const all = await store.list();
  if (all.length === 1) {
    verifyTransport(all[0].url, choice.allowHttp);
    return { indexUrl: all[0].url, index: all[0] };
  }
  if (all.length === 0) {
    throw new ClientError('untrusted-index', "no trusted index: get the index's root.json out of band and run 'tufpip trust add INDEX_URL --root ROOT.json'");
  }
  throw new TufpipError('USAGE', `several indexes are trusted (${all.map((i) => i.name).join(', ')}): choose one with --index NAME|URL`);
}

/**
 * Opens the chosen trusted index (resolved by resolveIndex, unless the caller already did) and
 * runs the TUF update cycle (TUF spec 5.3-5.6), unless the caller runs it itself (`refresh: false`).
 */
export async function openTrustedIndex(choice: IndexChoice, opts: { refresh?: boolean; resolved?: ResolvedIndex } = {}): Promise<IndexClient> {
  const { indexUrl, index } = opts.resolved ?? (await resolveIndex(choice));
  // Loaded here, not at the top: tuf-js and its models take a while to load, and the pip commands
  // start pip before that (see fetch.ts). Through the library entry, which installs the linear
  // @tufjs/models parsing (tuf/linear-models.ts) before anything is parsed.
  const { IndexClient } = await import('../index.js');
  const client = IndexClient.openTrusted(index, {
    indexUrl,
    allowHttp: choice.allowHttp,
    idleTimeoutMs: choice.idleTimeoutMs,
    onProgress: choice.onProgress,
    userAgent: choice.userAgent,
  });
  if (opts.refresh === false) return client;
  try {
    await client.refresh();
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
