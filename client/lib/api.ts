// The client library's public contract (`import { ... } from 'tufpip'`). Implemented by
// index-client.ts; consumed by the verifying proxy, the `tufpip` CLI and other installers.
// Verification itself is tuf-js's Updater (DESIGN.md "Client"); this is everything around it.
import type { FetchRecord } from '../../io/http-transport.js';

/** Who vouched for a target (DESIGN.md "Client": every fetched file names its signers). */
export interface Vouch {
  /** 'developer': a PEP 480 project role (maintainers' keys); 'index': the repository's online key (bins). */
  kind: 'developer' | 'index';
  /** The role that listed the target, e.g. `project-foo` or `bin-3a`. */
  role: string;
  /** Full key IDs of the keys that role trusts (display with the first 8 hex digits). */
  keyids: string[];
  threshold: number;
  /** Key IDs whose signatures on the role verified. */
  signedBy: string[];
}

export interface VerifiedTarget {
  /** Target path, e.g. `packages/foo/foo-1.0-py3-none-any.whl` or `simple/foo/index.html`. */
  path: string;
  length: number;
  sha256: string;
  hashes: Record<string, string>;
  vouchedBy: Vouch;
}

/** The attack classes a refusal names (DESIGN.md "Client": bad news is explicit). */
export type RefusalKind =
  | 'rollback'
  | 'freeze' // expired metadata: freeze attack, or the index's cron stopped
  | 'mix-and-match'
  | 'bad-signature' // signature invalid or threshold not met
  | 'hash-mismatch' // length or hash of a file differs from signed metadata
  | 'not-signed' // no role of the index lists this file
  | 'not-on-index' // neither the verified project list nor the project's page names it (a typo, not an attack)
  | 'missing-developer-signature' // PEP 480 signature gap: the index lists it, the maintainers did not sign it
  | 'endless-data' // more bytes than signed metadata allows
  | 'slow-retrieval' // no bytes for longer than the idle timeout
  | 'network'
  | 'credentials' // HTTP 401/403 from the index: credentials missing or refused
  | 'untrusted-index' // no trusted root for this index
  | 'insecure-transport' // plain HTTP off loopback without --allow-http
  | 'metadata'; // any other metadata problem

/**
 * How an IndexClient gets bytes: tuf-js's `Fetcher` contract (TUF spec 5: the client workflow,
 * every signature, version, expiry, length and hash check stays tuf-js's Updater; a fetcher only
 * transports). Default: the HTTP fetcher (proxies, idle timeout, credentials per origin). A
 * fetcher that serves another source (memory, a mirror, a test double) must answer a missing
 * file as tuf-js's `DownloadHTTPError` with status 404 (the end of the root chain, TUF spec
 * 5.3.3) and refuse more than `maxLength` bytes.
 */
export interface IndexFetcher {
  /** Downloads `url` (at most `maxLength` bytes) into a temporary file and runs `handler` on it. */
  downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T>;
  /** Downloads `url` (at most `maxLength` bytes) into memory. */
  downloadBytes(url: string, maxLength: number): Promise<Buffer>;
  /** Every request made, in order (`IndexClient.requests`); none when absent. */
  readonly log?: readonly FetchRecord[];
  /** A fresh path for a temporary file, removed by close(); default: one under os.tmpdir(). */
  scratchFile?(): Promise<string>;
  /** Releases connections and temporary files; IndexClient.close() calls it. */
  close?(): Promise<void>;
}

export interface FetchOptions {
  /** Abort a download when no byte arrives for this long (ms). Default 30,000. */
  idleTimeoutMs?: number;
  /** Progress of a download: bytes so far and expected total. */
  onProgress?: (path: string, received: number, total: number) => void;
  userAgent?: string;
}

export interface OpenIndexOptions extends FetchOptions {
  /** Index base URL: metadata at `<url>metadata/`, targets at `<url><target path>`. */
  indexUrl: string;
  /** tufpip data directory (default $TUFPIP_DATA_DIR or $XDG_DATA_HOME/tufpip). */
  dataDir?: string;
  /**
   * Trusted root bytes, for embedding without the trust store; default: the root stored by
   * `tufpip trust add` for this index.
   */
  trustedRoot?: Uint8Array;
  /** Allow plain HTTP to a non-loopback host. */
  allowHttp?: boolean;
  /**
   * Credentials for the index, sent to its origin only. Default, first found: user:password in
   * `indexUrl`, $TUFPIP_INDEX_<NAME>_AUTH / _TOKEN, those stored by `tufpip trust add`, netrc.
   */
  credential?: { scheme: 'basic'; username: string; password: string } | { scheme: 'bearer'; token: string };
  /** Where `credential` came from, for messages (never the secret). Default "given to the client". */
  credentialSource?: string;
  /**
   * The fetcher for metadata and targets (default: an HTTP fetcher built from `idleTimeoutMs`,
   * `userAgent`, `onProgress` and the index credentials, which then do not apply to this one).
   * IndexClient.close() closes it.
   */
  fetcher?: IndexFetcher;
}

export interface DownloadOptions {
  /**
   * fsync the file and its directory before returning (default true). `false` keeps the atomic
   * rename but skips the fsyncs: for caches whose files are verified again on every use (the
   * verifying proxy's private cache).
   */
  durable?: boolean;
}
