// Broken and hostile distributions for refusal tests: zips with chosen members (no .dist-info,
// METADATA naming another project, a member path that climbs out), truncated archives,
// gzip that is not a tar, files that are not gzip at all.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import yazl from 'yazl';
import { tarGz } from './wheels.js';

const DATE = new Date('2020-01-01T00:00:00Z');

/** A zip with exactly these members (name -> text). `validate: false` allows unsafe names. */
export function zipBytes(members: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(members)) {
    // yazl refuses '..' and absolute names; write a safe placeholder of the same length and
    // patch the bytes afterwards, so the archive really carries the unsafe name.
    const safe = name.replace(/\.\./g, '__').replace(/^\//, '_');
    zip.addBuffer(Buffer.from(text), safe, { mtime: DATE, mode: 0o644, compress: false });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => {
      let buf = Buffer.concat(chunks);
      for (const name of Object.keys(members)) {
        const safe = name.replace(/\.\./g, '__').replace(/^\//, '_');
        if (safe === name) continue;
        // Both the local header and the central directory carry the name.
        const from = Buffer.from(safe);
        const to = Buffer.from(name);
        let i = buf.indexOf(from);
        while (i >= 0) {
          to.copy(buf, i);
          i = buf.indexOf(from, i + to.length);
        }
      }
      resolve(buf);
    });
  });
}

/** A minimal wheel's members for `project` (dist-info named `distName`, METADATA naming `metaName`). */
export function wheelMembers(distName: string, version: string, metaName = distName, metaVersion = version): Record<string, string> {
  const di = `${distName}-${version}.dist-info`;
  return {
    [`${distName.toLowerCase()}/__init__.py`]: 'X = 1\n',
    [`${di}/METADATA`]: `Metadata-Version: 2.1\nName: ${metaName}\nVersion: ${metaVersion}\n\n`,
    [`${di}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: tufpip-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    [`${di}/RECORD`]: '',
  };
}

export async function writeZip(dir: string, filename: string, members: Record<string, string>): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, filename);
  fs.writeFileSync(file, await zipBytes(members));
  return file;
}

export function writeBytes(dir: string, filename: string, data: Buffer | string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, filename);
  fs.writeFileSync(file, data);
  return file;
}

export function gzipOf(data: string | Buffer): Buffer {
  return zlib.gzipSync(data);
}

/** An sdist (.tar.gz) named `filename` whose `top/PKG-INFO` says Name and Version (omitted: no PKG-INFO). */
export function writeSdistAs(dir: string, filename: string, pkgInfo?: { top: string; name: string; version: string }): string {
  const members: Record<string, string> = {};
  const top = pkgInfo?.top ?? filename.replace(/\.tar\.gz$/, '');
  if (pkgInfo) members[`${top}/PKG-INFO`] = `Metadata-Version: 2.1\nName: ${pkgInfo.name}\nVersion: ${pkgInfo.version}\n`;
  members[`${top}/setup.py`] = 'raise SystemExit("test sdist")\n';
  return writeBytes(dir, filename, tarGz(Object.entries(members).map(([name, text]) => [name, Buffer.from(text)])));
}
