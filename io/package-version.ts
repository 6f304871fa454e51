// The version both CLIs print for `--version`: package.json's, read from the installed package
// (dist/io/ is two levels below the package root in a clone and in an installed tarball).
import fs from 'node:fs';

export function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}
