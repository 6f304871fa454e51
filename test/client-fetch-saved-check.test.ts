// client/commands/fetch.ts: after pip exits, every file in pip's download folder must be one the
// verifying proxy served, byte for byte; anything else fails the fetch and nothing reaches the
// destination. pip only downloads through the proxy, so the test makes the interpreter plant a
// file in that folder after pip has run (a stand-in for anything else writing there mid-run).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fetchVerified } from '../client/commands/fetch.js';
import { ClientError } from '../client/lib/client-error.js';
import { basePython } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';
import { writeWheel } from './helpers/wheels.js';

/** An interpreter that runs pip, then copies `plant` into pip's --dest folder (as `name`). */
function plantingPython(dir: string, plant: string, name: string): string {
  const python = path.join(dir, 'python-planting');
  fs.writeFileSync(
    python,
    `#!/bin/sh\n'${basePython()}' "$@"\nstatus=$?\nprev=""\nfor a in "$@"; do\n  if [ "$prev" = "--dest" ]; then cp '${plant}' "$a/${name}"; fi\n  prev="$a"\ndone\nexit $status\n`,
    { mode: 0o755 },
  );
  return python;
}

describe('fetch: only files the proxy served leave pip\'s folder', function () {
  this.timeout(300_000);
  let idx: TrustedIndex;
  before(async () => {
    idx = await trustedIndex();
  });
  after(async () => {
    await idx?.close();
  });

  async function fetchWith(python?: string): Promise<{ dest: string; result: unknown }> {
    const dest = path.join(tmpDir('tufpip-saved-'), 'out');
    const result = await fetchVerified({ index: idx.url, dataDir: idx.dataDir, dest, reqs: ['alpha'], python }).catch((e: unknown) => e);
    return { dest, result };
  }

  it('honest: the files pip saved are all served ones (control)', async () => {
    const { dest, result } = await fetchWith();
    expect(result).to.not.be.instanceOf(Error);
    expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl', 'tufpip-report.json']);
  });

  for (const [what, name] of [
    ['a file no one served', 'planted-1.0-py3-none-any.whl'],
    ['a served name with other bytes', 'alpha-1.0-py3-none-any.whl'],
  ] as const) {
    it(`refuses ${what} in pip's folder, and the destination stays untouched`, async () => {
      const dir = tmpDir('tufpip-plant-');
      const plant = await writeWheel(path.join(dir, 'wheels'), { name: 'planted', version: '1.0' });
      const { dest, result } = await fetchWith(plantingPython(dir, plant, name));
      expect(result).to.be.instanceOf(ClientError);
      expect((result as ClientError).kind).to.equal('not-signed');
      expect((result as Error).message).to.match(new RegExp(`refused \\(not-signed\\) \\[${name.replace(/\./g, '\\.')}\\]: pip saved a file the verifying proxy did not serve .*nothing was fetched`));
      expect(fs.existsSync(dest), 'nothing reached the destination').to.equal(false);
    });
  }
});
