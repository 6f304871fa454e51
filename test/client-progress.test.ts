// Download progress: IndexClient reports bytes per target path; the CLI draws cli-progress bars on
// an interactive terminal only, and nothing under --json or --quiet or when not a TTY.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { IndexClient } from '../client/index.js';
import { downloadProgress } from '../io/cli/progress.js';
import { TufFixture } from './helpers/tuf-fixture.js';
import { tmpDir } from './helpers/tmp.js';

class FakeTerminal extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  columns = 100;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('client: download progress', () => {
  it('IndexClient reports progress per target path up to the signed length', async () => {
    const fx = new TufFixture();
    const big = Buffer.alloc(300_000, 3);
    fx.addTarget('targets', 'packages/big/big-1.0-py3-none-any.whl', big);
    fx.publish();
    const url = await fx.serve();
    const seen: Array<[string, number, number]> = [];
    const c = await IndexClient.open({ indexUrl: url, dataDir: tmpDir(), trustedRoot: fs.readFileSync(fx.rootFile(1)), onProgress: (p, r, t) => seen.push([p, r, t]) });
    try {
      await c.download('packages/big/big-1.0-py3-none-any.whl', path.join(tmpDir(), 'big.whl'));
      expect(seen.length).to.be.greaterThan(0);
      expect(new Set(seen.map((s) => s[0]))).to.deep.equal(new Set(['packages/big/big-1.0-py3-none-any.whl']), 'metadata downloads report nothing');
      expect(seen[seen.length - 1].slice(1)).to.deep.equal([big.length, big.length]);
    } finally {
      await c.close();
      await fx.close();
    }
  });

  it('draws a bar on a TTY', () => {
    const tty = new FakeTerminal(true);
    const p = downloadProgress({}, tty);
    expect(p.active).to.equal(true);
    p.onProgress('packages/x/x-1.0-py3-none-any.whl', 50, 100);
    p.onProgress('packages/x/x-1.0-py3-none-any.whl', 100, 100);
    p.stop();
    expect(tty.text).to.contain('x-1.0-py3-none-any.whl');
    expect(tty.text).to.contain('100/100');
  });

  for (const [name, flags, isTTY] of [
    ['--json', { json: true }, true],
    ['--quiet', { quiet: true }, true],
    ['not a TTY', {}, false],
  ] as const) {
    it(`is silent under ${name}`, () => {
      const out = new FakeTerminal(isTTY);
      const p = downloadProgress(flags, out);
      p.onProgress('packages/x/x.whl', 1, 2);
      p.stop();
      expect(p.active).to.equal(false);
      expect(out.text).to.equal('');
    });
  }
});
