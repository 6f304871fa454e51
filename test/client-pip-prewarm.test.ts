// client/pip/pip-prewarm.ts: `tufpip fetch` and `install` start pip's interpreter before their
// arguments are parsed and checked; it imports pip and runs nothing until runPip hands it the
// checked arguments. Proven here: the hint reads the command line as the CLI will; a fetch runs
// pip in that interpreter (and verifies as ever); a refused input never reaches it, and it does
// not outlive tufpip; an interpreter that is not the one finally chosen is stopped, not used.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { prewarmHint, startPipPrewarm, takePrewarmedPip } from '../client/pip/pip-prewarm.js';
import { pipEnvironment } from '../client/pip/pip-runner.js';
import { basePython } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { processGone } from './helpers/wait.js';
import { trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';

/** An interpreter that logs each start (pid, first argument) and then is the real one. */
function loggingPython(dir: string): { python: string; starts: () => { pid: number; first: string }[] } {
  const log = path.join(dir, 'starts.log');
  const python = path.join(dir, 'python-logged');
  fs.writeFileSync(python, `#!/bin/sh\necho "$$ $1" >> '${log}'\nexec '${basePython()}' "$@"\n`, { mode: 0o755 });
  return {
    python,
    starts: () =>
      (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => ({ pid: Number(l.split(' ')[0]), first: l.split(' ')[1] })),
  };
}

const gone = (pid: number) => processGone(pid, 5000);

describe('pip started ahead (client/pip/pip-prewarm.ts)', function () {
  this.timeout(300_000);

  it('reads the command and interpreter as the CLI will', () => {
    expect(prewarmHint(['fetch', '-d', 'x', 'alpha'], 'python3')).to.equal('python3');
    expect(prewarmHint(['--data-dir', 'fetch', 'install', 'alpha'], 'python3'), 'fetch is the data dir here').to.equal('python3');
    expect(prewarmHint(['--data-dir', 'd', 'fetch', '--python', '/v/bin/python', 'alpha'], 'python3')).to.equal('/v/bin/python');
    expect(prewarmHint(['install', '--python=/v/bin/python', 'alpha'], 'python3')).to.equal('/v/bin/python');
    expect(prewarmHint(['install', 'alpha', '--', '--python', 'x'], 'python3'), 'pip args after --').to.equal('python3');
    for (const argv of [['fetch', '--help'], ['install', '-h'], ['trust', 'list'], ['proxy'], ['tuf', 'refresh'], [], ['--data-dir', 'd'], ['--', 'fetch']]) {
      expect(prewarmHint(argv, 'python3'), argv.join(' ')).to.equal(undefined);
    }
  });

  it('an interpreter started for another python or environment is stopped, not used', async () => {
    startPipPrewarm(basePython(), pipEnvironment());
    const other = takePrewarmedPip('/nonexistent/python', pipEnvironment(), ['--version']);
    expect(other).to.equal(undefined);
    expect(takePrewarmedPip(basePython(), pipEnvironment(), ['--version']), 'nothing left to take').to.equal(undefined);
    startPipPrewarm(basePython(), pipEnvironment());
    expect(takePrewarmedPip(basePython(), pipEnvironment({ ...process.env, EXTRA_VARIABLE: '1' }), ['--version'])).to.equal(undefined);
    const same = (() => {
      startPipPrewarm(basePython(), pipEnvironment());
      return takePrewarmedPip(basePython(), pipEnvironment(), ['--version'])!;
    })();
    let out = '';
    same.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => same.on('close', r));
    expect(code).to.equal(0);
    expect(out, 'it ran `python -m pip --version`').to.match(/^pip \d+/);
  });

  describe('through the CLI', () => {
    let idx: TrustedIndex;
    before(async () => {
      idx = await trustedIndex();
    });
    after(async () => {
      await idx?.close();
    });

    it('fetch runs pip in the interpreter started ahead, and the files are verified as ever', async () => {
      const dir = tmpDir('tufpip-prewarm-');
      const { python, starts } = loggingPython(dir);
      const r = await idx.run(['fetch', '--python', python, '-d', path.join(dir, 'out'), 'alpha']);
      expect(r.code, r.stderr).to.equal(0);
      expect(starts().map((s) => s.first), 'one interpreter, started with -c (the prewarm), none with -m').to.deep.equal(['-c']);
      expect(fs.readdirSync(path.join(dir, 'out')).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl', 'tufpip-report.json']);
    });

    it('arguments reach pip intact whatever Python\'s stdin encoding (a non-ASCII requirements path)', async () => {
      const dir = path.join(tmpDir('tufpip-prewarm-'), 'réqs-ü');
      fs.mkdirSync(dir);
      const req = path.join(dir, 'requirements.txt');
      fs.writeFileSync(req, 'alpha\n');
      const { python, starts } = loggingPython(dir);
      const r = await idx.run(['fetch', '--python', python, '-d', path.join(dir, 'out'), '-r', req], { env: { ...process.env, PYTHONIOENCODING: 'ascii:backslashreplace' } });
      expect(r.code, r.stderr).to.equal(0);
      expect(starts().map((s) => s.first)).to.deep.equal(['-c']);
      expect(fs.readdirSync(path.join(dir, 'out'))).to.include('alpha-1.0-py3-none-any.whl');
    });

    it('a refused input never reaches the interpreter, which does not outlive tufpip', async () => {
      const dir = tmpDir('tufpip-prewarm-');
      const { python, starts } = loggingPython(dir);
      const r = await idx.run(['fetch', '--python', python, '-d', path.join(dir, 'out'), 'alpha', '--', '--extra-index-url', 'http://127.0.0.1:9/simple/']);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/not allowed after --/);
      const s = starts();
      expect(s.map((x) => x.first), 'started ahead, never as pip').to.deep.equal(['-c']);
      expect(await gone(s[0].pid), 'the interpreter started ahead has exited').to.equal(true);
      expect(fs.existsSync(path.join(dir, 'out')), 'nothing fetched').to.equal(false);
    });
  });
});
