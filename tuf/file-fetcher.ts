// A tuf-js fetcher over a local served tree (`file://` URLs), so `tufpip-repo verify DIR` runs
// the real client workflow against the files a web server would serve. A missing file answers
// like an HTTP 404 (TUF spec 5.3.3: the end of the root chain).
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

export class FileFetcher extends BaseFetcher {
  /** Every URL fetched, in order (tests count downloads with it). */
  readonly fetched: string[] = [];
  /**
   * Files not read to the end. tuf-js stops reading a file longer than it allows (endless data)
   * without cancelling the stream, so its handle stayed open until garbage collection, which
   * prints a warning (found by test/repo-faults-bad-input.test.ts): close() closes them.
   */
  private readonly open = new Set<fs.promises.FileHandle>();

  async close(): Promise<void> {
    for (const fh of this.open) await fh.close().catch(() => undefined);
    this.open.clear();
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    this.fetched.push(url);
    const file = fileURLToPath(url);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new DownloadHTTPError(`Failed to download ${url}: ${code}`, code === 'ENOENT' ? 404 : 403);
    }
    this.open.add(fh);
    const stream = fh.createReadStream();
    stream.once('close', () => this.open.delete(fh));
    return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}
