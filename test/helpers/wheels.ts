// Real distributions for tests. Wheels: the writer lives in demo/demo-wheels.ts (the packaged
// demo uses it too). Sdists: a gzipped ustar archive, deterministic bytes (test-only).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
export { wheelBytes, wheelFilename, writeWheel, type WheelSpec } from '../../demo/demo-wheels.js';
import { writeWheel } from '../../demo/demo-wheels.js';

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

/**
 * A folder as a pypiserver or a CI upload leaves it, for `sync`: four distributions at several
 * depths (alpha 1.0 wheel and sdist, beta 2.0, gamma 0.1) and three other files that are not.
 */
export async function writeDistFolder(folder: string): Promise<{ dists: string[]; others: string[] }> {
  const dists = [
    await writeWheel(folder, { name: 'alpha', version: '1.0' }),
    writeSdist(folder, 'alpha', '1.0'),
    await writeWheel(path.join(folder, 'beta'), { name: 'beta', version: '2.0' }),
    await writeWheel(path.join(folder, 'nested', 'deeper'), { name: 'gamma', version: '0.1' }),
  ];
  const others = [path.join(folder, 'README.md'), path.join(folder, 'beta', 'notes.txt'), path.join(folder, 'nested', 'index.html')];
  for (const o of others) fs.writeFileSync(o, 'not a distribution\n');
  return { dists, others };
}
