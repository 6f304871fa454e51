// `tufpip-repo serve` listens on loopback unless --host says otherwise (docs/serving.md), and its
// help says so, with where production puts TLS. The real CLI as a child process.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { REPO_BIN, tufpipRepo } from './helpers/cli.js';
import { makeRepo } from './helpers/repo.js';

describe('tufpip-repo serve: loopback by default', function () {
  it('without --host it listens on 127.0.0.1 and answers there; no plain-HTTP note', async () => {
    const repo = await makeRepo();
    const child = spawn(process.execPath, [REPO_BIN, 'serve', repo.dir, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /at (http:\/\/[^ ]+\/) /.exec(out);
          if (m) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`serve exited ${code}: ${out}${err}`)));
      });
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(`${url}metadata/1.root.json`);
      expect(res.status).to.equal(200);
      expect(err).not.to.contain('plain HTTP');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
  });

  it('--help names the loopback default, how to listen elsewhere, and TLS in front', async () => {
    const r = await tufpipRepo(['serve', '--help']);
    expect(r.code).to.equal(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).to.contain('on loopback unless --host says otherwise');
    expect(help).to.contain('0.0.0.0 or :: for every interface');
    expect(help).to.contain('[default: "127.0.0.1"]');
    expect(help).to.contain('TLS in front, docs/serving.md');
  });
});
