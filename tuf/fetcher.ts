// The client's HTTP fetcher for tuf-js (a `BaseFetcher`) over io/http-transport.ts, whose failures
// it reports as tuf-js's own DownloadError classes: tuf-js's Updater ends the root chain on a
// DownloadHTTPError 403/404 (TUF spec 5.3.3), and the client's error classifier reads the class
// names, which tuf-js's `${error}` rewrap keeps ("SlowRetrievalError: ...").
import { Readable } from 'node:stream';
import { BaseFetcher } from 'tuf-js';
import { DownloadError, DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js';
import { HttpTransport, type HttpTransportOptions, type FetchRecord, type TransportErrors } from '../io/http-transport.js';

export { DEFAULT_IDLE_TIMEOUT_MS } from '../io/idle-timeout.js';
export type { FetchRecord, OriginAuth } from '../io/http-transport.js';

/** No byte arrived for longer than the idle timeout (TUF "slow retrieval"). */
export class SlowRetrievalError extends DownloadError {
  constructor(message: string) {
    super(message);
    this.name = 'SlowRetrievalError';
  }
}

/** The server could not be reached, or the connection broke. */
export class NetworkError extends DownloadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'NetworkError';
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/** Named so that tuf-js's `${error}` rewrap keeps the class name. */
function named<E extends Error>(err: E, name: string): E {
  err.name = name;
  return err;
}

const TUF_ERRORS: TransportErrors = {
  slowRetrieval: (m) => new SlowRetrievalError(m),
  network: (m, cause) => new NetworkError(m, cause === undefined ? undefined : { cause }),
  httpStatus: (m, status) => named(new DownloadHTTPError(m, status), 'DownloadHTTPError'),
  tooLong: (m) => named(new DownloadLengthMismatchError(m), 'DownloadLengthMismatchError'),
};

export type HttpFetcherOptions = Omit<HttpTransportOptions, 'errors'>;

export class HttpFetcher extends BaseFetcher {
  private readonly transport: HttpTransport;

  constructor(opts: HttpFetcherOptions = {}) {
    super();
    this.transport = new HttpTransport({ ...opts, errors: TUF_ERRORS });
  }

  /** Every request made, in order (tests and the benchmark count metadata requests with it). */
  get log(): FetchRecord[] {
    return this.transport.log;
  }

  /** tuf-js's stream interface (used by nothing in tuf-js 5.0.1 once downloadFile is overridden). */
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const { body } = await this.transport.open(url, Number.MAX_SAFE_INTEGER);
    return Readable.toWeb(body) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  /**
   * Downloads `url`, at most `maxLength` bytes (TUF spec: the length from signed metadata, or the
   * configured maximum for files whose length is not signed), into a temporary file handed to
   * `handler` (tuf-js's verification), removed afterwards.
   */
  override downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    return this.transport.downloadFile(url, maxLength, handler);
  }

  /** A new file name in this fetcher's private temporary directory (see HttpTransport.scratchFile). */
  scratchFile(): Promise<string> {
    return this.transport.scratchFile();
  }

  /** Closes idle connections (keep-alive sockets and proxy tunnels) and removes temporary files. */
  close(): Promise<void> {
    return this.transport.close();
  }
}
