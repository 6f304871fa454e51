// "Nothing secret ever goes under the served site/" (DESIGN.md). Before publishing, the places a
// transaction writes to and the top of the served tree are checked for private key material;
// `verify` lists the whole public area through the storage seam (findPrivateInPublicArea).
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { TufpipError } from '../../metadata/errors.js';
import type { Storage } from './storage.js';

const KEY_NAME = /\.(pem|key|p8|pkcs8)$|(^|[._-])(id_ed25519|id_rsa)([._-]|$)/i;
const KEY_MARKER = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

// Synchronous system calls: a transaction's scan makes a few dozen, and each thread-pool round
// trip of the async API cost more than the call (~4 ms of every `add`). A deep scan (`verify`)
// yields to the event loop every few hundred entries instead.
const YIELD_EVERY = 256;
let sinceYield = 0;
async function maybeYield(): Promise<void> {
  if (++sinceYield % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
}

/** Whether the start of a file (up to 64 KiB) holds PEM private key armour. */
export function bytesLookSecret(head: Uint8Array): boolean {
  return KEY_MARKER.test(Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1'));
}

function looksSecret(file: string, name: string): boolean {
  if (KEY_NAME.test(name)) return true;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(64 * 1024);
    const bytesRead = fs.readSync(fd, buf, 0, buf.length, 0);
    return KEY_MARKER.test(buf.subarray(0, bytesRead).toString('latin1'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readEntries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Files in `dir` (and below it when `recursive`) that look like private keys. */
async function scanDir(dir: string, recursive: boolean, skip?: (name: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const e of readEntries(dir)) {
    await maybeYield();
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) found.push(...(await scanDir(p, true, skip)));
    } else if (!skip?.(e.name) && looksSecret(p, e.name)) {
      found.push(p);
    }
  }
  return found;
}

// Content-addressed and versioned names the repository writes itself; their content is checked
// when they are written, so a scan of the hot directories does not re-read them.
const OWN_METADATA = /^(\d+\.[a-z0-9-]+\.json|timestamp\.json)$/;

// The top directories of the served tree. Each is scanned unless its mtime is the one recorded
// right after our own last commit: a file added since (by anyone) changes the directory's mtime.
const topDirs = (site: string) => [site, path.join(site, 'metadata'), path.join(site, 'simple'), path.join(site, 'packages')];
const stateFile = (site: string) => path.join(path.dirname(site), 'scan-state.json');

function mtimeOf(dir: string): number | undefined {
  try {
    return fs.statSync(dir).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Records the top directories' mtimes after a commit (a hint; see above). */
export function recordScannedDirs(site: string): void {
  const state: Record<string, number | undefined> = {};
  for (const d of topDirs(site)) state[d] = mtimeOf(d);
  fs.writeFileSync(stateFile(site), JSON.stringify(state));
}

function unchangedSinceLastCommit(site: string): Set<string> {
  try {
    const state = JSON.parse(fs.readFileSync(stateFile(site), 'utf8')) as Record<string, number>;
    return new Set(topDirs(site).filter((d) => state[d] !== undefined && state[d] === mtimeOf(d)));
  } catch {
    return new Set();
  }
}

/** Scans site/ top level, site/metadata names, and the given directories. */
export async function verifyNoSecretsUnderSite(site: string, touchedDirs: Iterable<string>): Promise<void> {
  const unchanged = unchangedSinceLastCommit(site);
  const [top, meta, simple, packages] = topDirs(site);
  const scan = (d: string, skip?: (n: string) => boolean) => (unchanged.has(d) ? Promise.resolve([]) : scanDir(d, false, skip));
  const found = [
    // The top of site/ is always scanned: it holds a handful of entries, and it is where a key
    // copied by mistake most likely lands. A file overwritten in place (e.g. `cp online.pem
    // site/robots.txt` over an existing robots.txt) leaves the directory's mtime unchanged, so
    // the mtime gate alone let that publish (found by test/repo-bad-input.test.ts).
    ...(await scanDir(top, false)),
    ...(await scan(meta, (n) => OWN_METADATA.test(n))),
    ...(await scan(simple)),
    ...(await scan(packages)),
  ];
  // The directories this transaction writes to, except a top directory nothing was added to since
  // our last commit (simple/ gets the project list: re-reading its thousands of entries on every
  // add cost ~20 ms with 150 of them).
  const touched = [...new Set(touchedDirs)].filter((d) => !unchanged.has(d));
  for (const d of touched) found.push(...(await scanDir(d, false)));
  const links = await findLinksOutOfSite(site, [top, ...touched], false);
  if (links.length) throw new TufpipError('REFUSED', `refusing to publish: symbolic link under the served tree points outside it: ${links.join(', ')} (a web server may follow it)`);
  if (found.length) {
    throw new TufpipError('REFUSED', `refusing to publish: private key material under the served tree: ${[...new Set(found)].join(', ')} (move it out of site/)`);
  }
}

/** A single file about to be published. */
export async function fileLooksSecret(file: string): Promise<boolean> {
  return looksSecret(file, path.basename(file));
}

/**
 * Symbolic links under site/ whose target resolves outside it (or does not resolve). A web server
 * that follows symlinks (nginx's default) would serve whatever they point at: the keys folder,
 * /etc... `verify` reports them, publishing refuses while one is at the top of site/ or in a
 * directory being written, and `tufpip-repo serve` never follows one out of site/ (found by
 * test/repo-faults-bad-input.test.ts).
 */
export async function findLinksOutOfSite(site: string, dirs?: Iterable<string>, recursive = true): Promise<string[]> {
  const tryOr = <T>(f: () => T, fallback: T): T => {
    try {
      return f();
    } catch {
      return fallback;
    }
  };
  const root = tryOr(() => fs.realpathSync.native(site), path.resolve(site));
  const found: string[] = [];
  const walk = async (dir: string, deep: boolean): Promise<void> => {
    for (const e of readEntries(dir)) {
      await maybeYield();
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) {
        const real = tryOr<string | undefined>(() => fs.realpathSync.native(p), undefined);
        if (!real || !(real === root || real.startsWith(root + path.sep))) found.push(`${p} -> ${tryOr(() => fs.readlinkSync(p), '?')}`);
      } else if (e.isDirectory() && deep) await walk(p, true);
    }
  };
  for (const d of dirs ?? [site]) await walk(d, recursive);
  return found;
}

// The private state's own names (layout.ts, storage/*.ts records): none of them is ever published.
const PRIVATE_NAMES = new Map<string, string>([
  ['config.json', 'the repository configuration'],
  ['journal', 'the transaction journal'],
  ['retired-files', 'the record of withdrawn files'],
  ['expiry-cache.json', 'a private cache'],
  ['due-summary.json', 'a private cache'],
  ['scan-state.json', 'a private cache'],
  ['lock', 'the repository lock'],
  ['credentials', 'credentials'],
]);
// Private folders at the top of a repository (proposals, keys, staging of uploads) and of an
// object store's private prefix (journal/, retired/, records/: storage/s3-private.ts).
const PRIVATE_TOP = /^(pending|keys|staging|journal|retired|records)\//;
const HEAD_BYTES = 64 * 1024;

/** The first bytes of a stream (then destroyed), or undefined when it cannot be read. */
async function headOf(stream: Readable): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of stream) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= HEAD_BYTES) break;
    }
    return Buffer.concat(chunks).subarray(0, HEAD_BYTES);
  } catch {
    return undefined; // a folder, a dangling link: not readable, so not served as a file either
  } finally {
    stream.destroy();
  }
}

export interface PublicAreaFinding {
  kind: 'secret' | 'private';
  /** Where the object is (storage.where). */
  where: string;
  why: string;
}

/**
 * Lists the whole public area through the storage seam (both areas: every object a web server or
 * a bucket serves) and reports what must never be there: private key material (by name shape or
 * PEM armour in its first 64 KiB) and the repository's private state (config, journal, withdrawn
 * record, caches, lock, proposals, keys). Reads the first bytes of every object once.
 */
export async function findPrivateInPublicArea(storage: Storage): Promise<PublicAreaFinding[]> {
  const found: PublicAreaFinding[] = [];
  const seen = new Set<string>();
  for (const area of ['metadata', 'targets'] as const) {
    for (const obj of await storage.list(area, '')) {
      const where = storage.where(area, obj.name);
      if (seen.has(where)) continue; // local-disk: metadata/ is also under the targets' root
      seen.add(where);
      const served = area === 'metadata' ? `metadata/${obj.name}` : obj.name;
      const base = served.slice(served.lastIndexOf('/') + 1);
      const privateWhat = PRIVATE_NAMES.get(base) ?? (PRIVATE_TOP.test(served) ? `private state (${served.slice(0, served.indexOf('/'))}/)` : undefined);
      if (KEY_NAME.test(base)) {
        found.push({ kind: 'secret', where, why: 'named like a private key' });
        continue;
      }
      const s = await storage.stream(area, obj.name).catch(() => undefined);
      const head = s && (await headOf(s));
      if (head && bytesLookSecret(head)) found.push({ kind: 'secret', where, why: 'holds a PEM private key' });
      else if (privateWhat) found.push({ kind: 'private', where, why: privateWhat });
    }
  }
  return found;
}
