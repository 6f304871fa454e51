// Checks a distribution before anything is written: its name (wheel / sdist naming, no path
// tricks), that its archive is intact, for wheels the PEP 427 layout (a `.dist-info` with
// METADATA, WHEEL and RECORD naming the same project), and that the core metadata inside
// (wheel METADATA, sdist PKG-INFO) names the project and version its filename says, as PyPI
// checks on upload (PEP 503 names, PEP 440 versions: `1.0` == `1.0.0`).
import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { Parser as TarParser } from 'tar';
import { normalizeProject, parseDistFilename, type DistFilename } from '../metadata/pep503.js';
import { TufpipError } from '../metadata/errors.js';
import { sha256File } from '../io/hash.js';
import { sha256Hex } from '../metadata/hash.js';
import { sameVersion, versionKey } from '../metadata/pep440.js';

/** Distributions up to this size are checked and hashed from memory (and staged synchronously). */
export const IN_MEMORY_MAX = 8 * 1024 * 1024;

export interface CheckedDist {
  dist: DistFilename;
  file: string;
  length: number;
  sha256: string;
  requiresPython?: string;
}

/** A zip from its bytes when the caller read them (small files), else from the file. */
function openZip(file: string, bytes?: Buffer): Promise<yauzl.ZipFile> {
  const options = { lazyEntries: true, strictFileNames: true, validateEntrySizes: true };
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, zip?: yauzl.ZipFile) => (err ? reject(err) : resolve(zip!));
    if (bytes) yauzl.fromBuffer(bytes, options, done);
    else yauzl.open(file, options, done);
  });
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (entry.uncompressedSize > max) return reject(new Error(`${entry.fileName} is too large (${entry.uncompressedSize} bytes)`));
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** Walks a zip's entries, reading the ones `want` selects (CRC and sizes checked by yauzl). */
async function walkZip(file: string, want: (name: string) => boolean, bytes?: Buffer): Promise<{ names: string[]; read: Map<string, Buffer> }> {
  const zip = await openZip(file, bytes);
  const names: string[] = [];
  const read = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      if (!want(entry.fileName)) return zip.readEntry();
      readEntry(zip, entry, 16 * 1024 * 1024)
        .then((b) => {
          read.set(entry.fileName, b);
          zip.readEntry();
        })
        .catch(reject);
    });
    zip.readEntry();
  }).finally(() => zip.close());
  return { names, read };
}

function header(metadata: string, field: string): string | undefined {
  // Core metadata (RFC 822 style): headers end at the first blank line.
  const head = metadata.split(/\r?\n\r?\n/, 1)[0];
  const m = new RegExp(`^${field}:[ \\t]*(.*)$`, 'mi').exec(head);
  return m ? m[1].trim() : undefined;
}

async function checkWheel(file: string, dist: DistFilename, bytes?: Buffer): Promise<{ requiresPython?: string }> {
  const { names, read } = await walkZip(file, (n) => /^[^/]+\.dist-info\/(METADATA|WHEEL)$/.test(n), bytes);
  for (const n of names) {
    if (n.startsWith('/') || n.split('/').includes('..')) throw new Error(`archive member with an unsafe path: ${JSON.stringify(n)}`);
  }
  const infos = new Set(names.filter((n) => /^[^/]+\.dist-info\//.test(n)).map((n) => n.split('/')[0]));
  const matching = [...infos].filter((d) => normalizeProject(d.slice(0, -'.dist-info'.length).replace(/-[^-]*$/, '')) === dist.project);
  if (matching.length !== 1) throw new Error(`expected one ${dist.project} .dist-info directory, found ${infos.size ? [...infos].join(', ') : 'none'}`);
  const di = matching[0];
  for (const f of ['METADATA', 'WHEEL', 'RECORD']) {
    if (!names.includes(`${di}/${f}`)) throw new Error(`${di}/${f} is missing`);
  }
  const metadata = read.get(`${di}/METADATA`)!.toString('utf8');
  verifyCoreMetadata(metadata, 'METADATA', dist);
  if (!header(read.get(`${di}/WHEEL`)!.toString('utf8'), 'Wheel-Version')) throw new Error(`${di}/WHEEL has no Wheel-Version`);
  return { requiresPython: header(metadata, 'Requires-Python') };
}

/**
 * The core metadata must name the project and version the filename says (PEP 503 normalized
 * names; PEP 440 normalized versions): pip trusts the filename to pick a candidate and the
 * metadata once it is installed, so the two must agree (PyPI refuses the upload otherwise).
 */
function verifyCoreMetadata(text: string, where: string, dist: DistFilename): void {
  const name = header(text, 'Name');
  if (!name || normalizeProject(name) !== dist.project) throw new Error(`${where} names project ${JSON.stringify(name)}, the file name says ${dist.project}`);
  const version = header(text, 'Version');
  if (!version) throw new Error(`${where} has no Version, the file name says ${JSON.stringify(dist.version)}`);
  if (!sameVersion(version, dist.version)) {
    throw new Error(`${where} says version ${JSON.stringify(version)}, the file name says ${JSON.stringify(dist.version)} (PEP 440: ${versionKey(version)} is not ${versionKey(dist.version)})`);
  }
}

/** An sdist's PKG-INFO: `{name}-{version}/PKG-INFO`, one folder down (PEP 517 / PEP 625 sdists). */
const SDIST_PKG_INFO = /^[^/]+\/PKG-INFO$/;

function onePkgInfo(found: Map<string, Buffer>): string {
  if (found.size !== 1) throw new Error(found.size === 0 ? 'no PKG-INFO in its top folder' : `more than one top-level PKG-INFO (${[...found.keys()].join(', ')})`);
  return [...found.values()][0].toString('utf8');
}

/** Reads a .tar.gz sdist (gzip and tar checked by node-tar, strict) and returns its PKG-INFO. */
async function readTarGzPkgInfo(file: string, bytes?: Buffer): Promise<string> {
  const found = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    const parser = new TarParser({
      strict: true,
      onReadEntry(entry) {
        const p = entry.path.replace(/^\.\//, '');
        if (p.startsWith('/') || p.split('/').includes('..')) return reject(new Error(`archive member with an unsafe path: ${JSON.stringify(entry.path)}`));
        if (!SDIST_PKG_INFO.test(p) || entry.type !== 'File' || entry.size > 16 * 1024 * 1024) return entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => found.set(p, Buffer.concat(chunks)));
      },
    });
    // node-tar reports a bad archive as TAR_* (strict: an error); gzip problems come from zlib.
    const notTar = (detail: string) => new Error(`not a tar archive inside the gzip stream (${detail})`);
    parser.on('error', (err: NodeJS.ErrnoException) => reject(/^TAR_/.test(String(err.code ?? err.message)) ? notTar(err.message) : err));
    parser.on('warn', (code: string, message: string | Error) => reject(notTar(`${code}: ${typeof message === 'string' ? message : message.message}`)));
    parser.on('end', () => resolve());
    if (bytes) parser.end(bytes);
    else fs.createReadStream(file).on('error', reject).pipe(parser);
  });
  return onePkgInfo(found);
}

/** Checks one distribution file; throws TufpipError('BAD_INPUT') naming the file and why. */
export async function checkDistribution(file: string): Promise<CheckedDist> {
  const name = path.basename(file);
  const dist = parseDistFilename(name);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `${file}: no such file`, { cause: err });
  }
  if (st.isSymbolicLink()) throw new TufpipError('BAD_INPUT', `${file} is a symbolic link: give the file itself`);
  if (!st.isFile()) throw new TufpipError('BAD_INPUT', `${file} is not a regular file`);
  // A small file is read once: the archive is checked and hashed from memory (a 1 KB wheel spent
  // ~3 ms in stream and thread-pool round trips); a large one is streamed.
  const bytes = st.size <= IN_MEMORY_MAX ? fs.readFileSync(file) : undefined;
  let requiresPython: string | undefined;
  try {
    if (dist.kind === 'wheel') requiresPython = (await checkWheel(file, dist, bytes)).requiresPython;
    else {
      const pkgInfo = name.endsWith('.zip') ? onePkgInfo((await walkZip(file, (n) => SDIST_PKG_INFO.test(n), bytes)).read) : await readTarGzPkgInfo(file, bytes);
      verifyCoreMetadata(pkgInfo, 'PKG-INFO', dist);
      requiresPython = header(pkgInfo, 'Requires-Python');
    }
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${name} is not a valid ${dist.kind}: ${(err as Error).message}`, { cause: err });
  }
  const { sha256, length } = bytes ? { sha256: sha256Hex(bytes), length: bytes.length } : await sha256File(file);
  return { dist, file, length, sha256, requiresPython };
}
