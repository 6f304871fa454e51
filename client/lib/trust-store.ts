// The trust store (DESIGN.md "Client"; issue 3 `tufpip trust`): one directory per index under the
// data directory, holding the root given out of band and everything tuf-js learns from it:
//
//   <data-dir>/indexes/<name>/index.json        { name, url, addedAt, initialRoot }
//   <data-dir>/indexes/<name>/metadata/          tuf-js metadata dir (root.json = current trusted root)
//   <data-dir>/indexes/<name>/metadata.lock      cross-process lock (io/metadata-lock.ts)
//   <data-dir>/indexes/<name>/roots/N.root.json  every root version trusted so far (root history)
//   <data-dir>/indexes/<name>/credentials        index credentials given to `trust add` (mode 0600,
//                                                in a 0700 directory; client/lib/index-credentials.ts)
//
// `<name>` is the index name, URI-encoded for the file system ("127.0.0.1:8080" -> "127.0.0.1%3A8080").
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { versionedFileName } from '../../metadata/roles.js';
import type { RootSummary } from './root-check.js';
import { defaultIndexName, parseIndexUrl } from './index-url.js';
import { writeFileAtomicSync } from '../../io/atomic-file.js';
import { defaultDataDir } from './data-dir.js';
import { CREDENTIALS_FILE, persistStoredCredential, type Credential } from './index-credentials.js';

// root-check (@tufjs/models) and the lock (proper-lockfile) are loaded by the methods that need
// them: looking an index up (list, find) is on the path that starts pip and stays light
// (issue 3 "Speed").
const rootCheck = () => import('./root-check.js');

export interface TrustedIndexRecord {
  name: string;
  /** Normalised index URL (no credentials). */
  url: string;
  addedAt: string;
  /** The root given to `trust add`. */
  initialRoot: { version: number; sha256: string };
}

export interface TrustedIndex extends TrustedIndexRecord {
  dir: string;
  metadataDir: string;
  rootsDir: string;
}

export interface TrustedIndexStatus extends TrustedIndex {
  /** Version of the root currently trusted (after rotations followed by refreshes). */
  rootVersion: number;
  rootExpires: string;
  /** Root versions kept in the root history. */
  rootHistory: number[];
}

const NAME = /^[A-Za-z0-9[\]][A-Za-z0-9[\]:._-]{0,99}$/;

export function verifyIndexName(name: string): void {
  if (!NAME.test(name)) {
    throw new TufpipError('USAGE', `index name must be 1-100 characters of letters, digits, and . _ - : [ ] (not starting with . _ - :), got ${JSON.stringify(name)}`);
  }
}

/** Writes `N.root.json` into a root-history directory (once per version). */
export function keepRootVersion(rootsDir: string, version: number, bytes: Uint8Array): void {
  const file = path.join(rootsDir, versionedFileName('root', version));
  if (!fs.existsSync(file)) writeFileAtomicSync(file, bytes);
}

export class TrustStore {
  readonly dataDir: string;
  constructor(dataDir: string = defaultDataDir()) {
    this.dataDir = path.resolve(dataDir);
  }

  get indexesDir(): string {
    return path.join(this.dataDir, 'indexes');
  }

  private located(record: TrustedIndexRecord): TrustedIndex {
    const dir = path.join(this.indexesDir, encodeURIComponent(record.name));
    return { ...record, dir, metadataDir: path.join(dir, 'metadata'), rootsDir: path.join(dir, 'roots') };
  }

  async list(): Promise<TrustedIndex[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.indexesDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: TrustedIndex[] = [];
    for (const e of entries.sort()) {
      if (e.startsWith('.')) continue;
      const file = path.join(this.indexesDir, e, 'index.json');
      let record: TrustedIndexRecord;
      try {
        record = JSON.parse(await fsp.readFile(file, 'utf8')) as TrustedIndexRecord;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // not an index directory
        throw new TufpipError('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
      out.push(this.located(record));
    }
    return out;
  }

  /** The index trusted for a URL (compared in normal form) or a name. */
  async find(urlOrName: string): Promise<TrustedIndex | undefined> {
    const all = await this.list();
    const byName = all.find((i) => i.name === urlOrName);
    if (byName) return byName;
    let url: string;
    try {
      url = parseIndexUrl(urlOrName).url;
    } catch {
      return undefined;
    }
    return all.find((i) => i.url === url);
  }

  /** Stores a root for an index after checking it (self-signed to threshold). */
  async add(indexUrl: string, rootBytes: Uint8Array, opts: { name?: string; rootSource?: string; now?: Date; credential?: Credential } = {}): Promise<TrustedIndex> {
    const { url } = parseIndexUrl(indexUrl);
    const name = opts.name ?? defaultIndexName(url);
    verifyIndexName(name);
    const { checkRootBytes } = await rootCheck();
    const root = checkRootBytes(rootBytes, opts.rootSource ?? 'root');
    const all = await this.list();
    const sameName = all.find((i) => i.name === name);
    if (sameName) throw new TufpipError('EXISTS', `an index named ${name} is already trusted (${sameName.url}); run 'tufpip trust remove ${name}' first`);
    const sameUrl = all.find((i) => i.url === url);
    if (sameUrl) throw new TufpipError('EXISTS', `${url} is already trusted as ${sameUrl.name}; run 'tufpip trust remove ${sameUrl.name}' first`);

    const record: TrustedIndexRecord = { name, url, addedAt: (opts.now ?? new Date()).toISOString(), initialRoot: { version: root.version, sha256: root.sha256 } };
    const final = this.located(record);
    // Built in a temporary directory (mkdtemp: mode 0700) and renamed into place: an index is
    // trusted completely or not at all.
    await fsp.mkdir(this.indexesDir, { recursive: true });
    const tmp = await fsp.mkdtemp(path.join(this.indexesDir, '.add-'));
    try {
      // Secrets apart from the trust data (index.json keeps the URL without credentials).
      if (opts.credential) persistStoredCredential(tmp, opts.credential);
      await fsp.mkdir(path.join(tmp, 'metadata'));
      await fsp.mkdir(path.join(tmp, 'roots'));
      writeFileAtomicSync(path.join(tmp, 'metadata', 'root.json'), rootBytes);
      keepRootVersion(path.join(tmp, 'roots'), root.version, rootBytes);
      writeFileAtomicSync(path.join(tmp, 'index.json'), JSON.stringify(record, null, 2) + '\n');
      await fsp.rename(tmp, final.dir);
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new TufpipError('EXISTS', `an index named ${name} was added concurrently`, { cause: err });
      }
      throw err;
    }
    return final;
  }

  /** Forgets an index: its root, metadata and root history. */
  async remove(name: string): Promise<TrustedIndex> {
    const index = (await this.list()).find((i) => i.name === name);
    if (!index) throw new TufpipError('NOT_FOUND', `no trusted index named ${name} (see 'tufpip trust list')`);
    const { withMetadataLock } = await import('../../io/metadata-lock.js');
    await withMetadataLock(index.metadataDir, async () => {
      // The secret first: a crash never leaves credentials behind an index that is no longer listed.
      await fsp.rm(path.join(index.dir, CREDENTIALS_FILE), { force: true });
      // index.json next: from then on the index is not listed, whatever else a crash leaves.
      await fsp.rm(path.join(index.dir, 'index.json'), { force: true });
      await fsp.rm(index.metadataDir, { recursive: true, force: true });
      await fsp.rm(index.rootsDir, { recursive: true, force: true });
    });
    await fsp.rm(index.dir, { recursive: true, force: true });
    return index;
  }

  /** Current trusted root and root history of an index. */
  async status(index: TrustedIndex): Promise<TrustedIndexStatus> {
    const bytes = await fsp.readFile(path.join(index.metadataDir, 'root.json'));
    const { checkRootBytes } = await rootCheck();
    const root: RootSummary = checkRootBytes(bytes, `${index.metadataDir}/root.json`);
    const history = (await fsp.readdir(index.rootsDir).catch(() => [] as string[]))
      .map((f) => /^(\d+)\.root\.json$/.exec(f))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    return { ...index, rootVersion: root.version, rootExpires: root.expires, rootHistory: history };
  }
}
