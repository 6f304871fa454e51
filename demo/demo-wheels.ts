// Real distributions for the demo, the tests and the benchmarks: a wheel is a zip with
// <name>-<version>.dist-info/METADATA, WHEEL and RECORD (PEP 427). 
// Written with yazl, deterministic bytes. Shipped in the package (`npm run demo` from a tarball).
import fs from 'node:fs';
import path from 'node:path';
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
