// A tuf-js fetcher over any source of object streams: `tufpip-repo verify DIR` runs tuf-js's
// Updater over the repository's storage reader (repo-tools/storage/storage.ts), so the same walk
// checks a local-disk repository and one in an object store. A missing object answers like an
// HTTP 404 (TUF spec 5.3.3: the end of the root chain).
import type { Readable } from 'node:stream';
import { Readable as NodeReadable } from 'node:stream';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

/** Opens the object a URL names, or undefined when there is none. */
export type OpenObject = (url: string) => Promise<Readable | undefined>;

export class StreamFetcher extends BaseFetcher {
  /** Every URL fetched, in order. */
  readonly fetched: string[] = [];
  /**
   * Streams not read to the end: tuf-js stops reading a file longer than it allows without
   * cancelling the stream; close() destroys them so no handle outlives the run.
   */
  private readonly open = new Set<Readable>();

  constructor(private readonly openObject: OpenObject) {
    super();
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    this.fetched.push(url);
    let stream: Readable | undefined;
    try {
      stream = await this.openObject(url);
    } catch (err) {
      throw new DownloadHTTPError(`Failed to download ${url}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 403);
    }
    if (!stream) throw new DownloadHTTPError(`Failed to download ${url}: not found`, 404);
    this.open.add(stream);
    stream.once('close', () => this.open.delete(stream));
    return NodeReadable.toWeb(stream) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}
