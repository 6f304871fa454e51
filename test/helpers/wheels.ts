// Real distributions for tests: a wheel is a zip with <name>-<version>.dist-info/METADATA, WHEEL
// and RECORD (PEP 427), written with yazl; an sdist is a gzipped ustar archive. Deterministic bytes.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import yazl from 'yazl';

export interface WheelSpec {
  name: string;
  version: string;
  /** Requires-Dist lines, e.g. ['beta>=1.0']. */
  deps?: string[];
  /** Provides-Extra lines (extras named in deps' `extra == "..."` markers). */
  extras?: string[];
  requiresPython?: string;
  /** Module source; default sets VERSION. */
  body?: string;
  /** Extra bytes to make a large wheel. */
  padding?: number;
}

const DATE = new Date('2020-01-01T00:00:00Z');

function recordHash(data: Buffer): string {
  return 'sha256=' + createHash('sha256').update(data).digest('base64url');
}

export function wheelFilename(spec: WheelSpec): string {
  return `${spec.name.replace(/-/g, '_')}-${spec.version}-py3-none-any.whl`;
}

export function wheelBytes(spec: WheelSpec): Promise<Buffer> {
  const mod = spec.name.replace(/[-.]/g, '_').toLowerCase();
  const di = `${spec.name.replace(/-/g, '_')}-${spec.version}.dist-info`;
  const files: [string, Buffer][] = [
    [`${mod}/__init__.py`, Buffer.from(spec.body ?? `VERSION = ${JSON.stringify(spec.version)}\n`)],
    [
      `${di}/METADATA`,
      Buffer.from(
        `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n` +
          (spec.requiresPython ? `Requires-Python: ${spec.requiresPython}\n` : '') +
          (spec.extras ?? []).map((e) => `Provides-Extra: ${e}\n`).join('') +
          (spec.deps ?? []).map((d) => `Requires-Dist: ${d}\n`).join('') +
          '\n',
      ),
    ],
    [`${di}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: tufpip-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n')],
  ];
  if (spec.padding) files.push([`${mod}/padding.bin`, Buffer.alloc(spec.padding, 7)]);
  const record = files.map(([n, d]) => `${n},${recordHash(d)},${d.length}`).join('\n') + `\n${di}/RECORD,,\n`;
  files.push([`${di}/RECORD`, Buffer.from(record)]);
  const zip = new yazl.ZipFile();
  for (const [n, d] of files) zip.addBuffer(d, n, { mtime: DATE, mode: 0o644, compress: !spec.padding });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

export async function writeWheel(dir: string, spec: WheelSpec): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, wheelFilename(spec));
  fs.writeFileSync(file, await wheelBytes(spec));
  return file;
}

/** One ustar header block (POSIX.1-1988) for a regular file of `size` bytes; `name` under 100 bytes. */
function ustarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  header.write('13560000000\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write('0', 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return header;
}

/** A gzipped ustar archive of regular files (deterministic bytes). */
export function tarGz(files: [name: string, data: Buffer][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of files) {
    if (Buffer.byteLength(name) >= 100) throw new Error(`tar entry name too long for ustar: ${name}`);
    blocks.push(ustarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return zlib.gzipSync(Buffer.concat(blocks));
}

/** A minimal valid sdist (.tar.gz with PKG-INFO only: publishable, not buildable). */
export function writeSdist(dir: string, name: string, version: string): string {
  const base = `${name}-${version}`;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${base}.tar.gz`);
  fs.writeFileSync(file, tarGz([[`${base}/PKG-INFO`, Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`)]]));
  return file;
}

export interface BuildableSdistSpec {
  name: string;
  version: string;
  /** PEP 518 `[build-system] requires` (default: setuptools>=40). */
  buildRequires?: string[];
  /** Module source; default sets VERSION. */
  body?: string;
}

/**
 * A real sdist pip can build (PEP 517/518): PKG-INFO, pyproject.toml naming the setuptools
 * backend, setup.cfg with the metadata, and one module `<name>.py`.
 */
export function writeBuildableSdist(dir: string, spec: BuildableSdistSpec): string {
  const base = `${spec.name}-${spec.version}`;
  const mod = spec.name.replace(/[-.]/g, '_').toLowerCase();
  const requires = (spec.buildRequires ?? ['setuptools>=40']).map((r) => JSON.stringify(r)).join(', ');
  const files: [string, Buffer][] = [
    [`${base}/PKG-INFO`, Buffer.from(`Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n`)],
    [`${base}/pyproject.toml`, Buffer.from(`[build-system]\nrequires = [${requires}]\nbuild-backend = "setuptools.build_meta"\n`)],
    [`${base}/setup.cfg`, Buffer.from(`[metadata]\nname = ${spec.name}\nversion = ${spec.version}\n\n[options]\npy_modules = ${mod}\n`)],
    [`${base}/${mod}.py`, Buffer.from(spec.body ?? `VERSION = ${JSON.stringify(spec.version)}\n`)],
  ];
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${base}.tar.gz`);
  fs.writeFileSync(file, tarGz(files));
  return file;
}
