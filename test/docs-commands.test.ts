// The README and the runbook work exactly as written: every ```sh block of each page runs, in
// order, in one bash session (cd, variables and background jobs carry over, as in a user's
// terminal), in a fresh scratch folder, with `tufpip` and `tufpip-repo` on PATH (shims to this
// checkout's bin/, as `npm install -g .` gives users) and a free loopback port in PORT (the pages
// say how PORT is set). The first command that fails stops the page: the failure names the page,
// the line, the command and shows its block and the output.
//
// Skipped, and listed: blocks whose every command is `npm ...` (the checkout's own setup: `npm ci`
// would reinstall the node_modules this test runs from, `npm test` is this suite); the packed
// install and the packaged demo are run by test/package-install.test.ts.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLIENT_BIN, REPO_BIN } from './helpers/cli.js';
import { docScript, shBlocks, type ShBlock } from './helpers/doc-blocks.js';
import { PROJECT_ROOT } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { freePort } from './helpers/loopback.js';

const isCheckoutSetup = (b: ShBlock) => b.lines.every((l) => !l.trim() || l.trim().startsWith('#') || /^npm\s/.test(l.trim()));

/** The scratch folder a reader starts in: their distributions, as the pages describe them. */
async function scratchFolder(): Promise<string> {
  const dir = tmpDir('tufpip-docs-');
  const work = path.join(dir, 'work');
  await writeWheel(path.join(work, 'dist'), { name: 'greeting', version: '1.0', body: 'def hello():\n    return "hello"\n' });
  writeSdist(path.join(work, 'dist'), 'greeting', '1.0');
  await writeWheel(path.join(work, 'old-packages'), { name: 'legacy', version: '0.9' });
  await writeWheel(path.join(work, 'myproj', 'dist'), { name: 'myproj', version: '1.0' });
  writeSdist(path.join(work, 'myproj', 'dist'), 'myproj', '1.0');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const [name, target] of [['tufpip', CLIENT_BIN], ['tufpip-repo', REPO_BIN]]) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(target)} "$@"\n`, { mode: 0o755 });
  }
  fs.mkdirSync(path.join(dir, 'home'));
  return work;
}

interface PageRun {
  code: number | null;
  log: string;
  timedOut: boolean;
}

function runScript(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<PageRun> {
  return new Promise((resolve, reject) => {
    const file = path.join(path.dirname(cwd), 'page.sh');
    fs.writeFileSync(file, script);
    // Its own process group: whatever the page started in the background is stopped with it.
    const child = spawn('bash', [file], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const stopGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // the group has already exited
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup();
    }, 540_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      stopGroup();
      resolve({ code, log, timedOut });
    });
  });
}

function failureReport(page: string, run: PageRun, origin: ReturnType<typeof docScript>['origin']): string {
  const m = /__DOCS_FAILED__ (\d+) (\d+) (.*)/.exec(run.log);
  const tail = run.log.split('\n').slice(-40).join('\n');
  if (!m) return `${page}: ${run.timedOut ? 'still running after 540 s (a command waiting forever?)' : `bash exited ${run.code} without a failing command`} (output below)\n${tail}`;
  const at = origin[Number(m[1])];
  if (!at) return `${page}: the harness failed at script line ${m[1]}: ${m[3]}\n${tail}`;
  const shown = at.block.lines.map((l, k) => `${at.block.line + k === at.line ? '>>' : '  '} ${String(at.block.line + k).padStart(4)} | ${l}`).join('\n');
  return `${page}:${at.line}: exit ${m[2]} from: ${m[3]}\n\nthe block (${page}:${at.block.line}):\n${shown}\n\noutput (last 40 lines):\n${tail}`;
}

describe('docs: every ```sh block of README.md and docs/runbook.md runs as written', function () {
  this.timeout(600_000);
  it('control: a failing command stops the page and is reported with its page, line and block', async () => {
    const page = 'Intro\n\n```sh\necho one\n```\n\n- a list item:\n   ```sh\n   echo two\n   false --flag   # fails\n   echo never\n   ```\n';
    const blocks = shBlocks(page, 'page.md');
    expect(blocks.map((b) => [b.line, b.lines])).to.deep.equal([[4, ['echo one']], [9, ['echo two', 'false --flag   # fails', 'echo never']]]);
    const { script, origin } = docScript(blocks);
    const work = await scratchFolder();
    const run = await runScript(script, work, process.env);
    expect(run.code).not.to.equal(0);
    expect(run.log).not.to.contain('never');
    expect(failureReport('page.md', run, origin)).to.match(/^page\.md:10: exit 1 from: false --flag\n[\s\S]*>> +10 \| false --flag/);
  });
  before(() => {
    // What the pages assume a reader has besides tufpip: bash, curl (waiting for the server).
    for (const tool of ['bash', 'curl']) expect(spawnSync(tool, ['--version']).status, `${tool} is needed to run the documented commands`).to.equal(0);
  });
  it('README.md starts with the two commands a newcomer runs (npm run demo, npm test)', () => {
    const first = shBlocks(fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8'), 'README.md')[0];
    expect(first.line).to.equal(4);
    expect(first.lines.map((l) => l.replace(/\s+#.*$/, ''))).to.deep.equal(['npm ci && npm run demo', 'npm ci && npm test']);
  });
  for (const page of ['README.md', 'docs/runbook.md']) {
    it(`${page}: all blocks, in order, in a scratch folder against a loopback index`, async () => {
      const blocks = shBlocks(fs.readFileSync(path.join(PROJECT_ROOT, page), 'utf8'), page);
      const skipped = blocks.filter(isCheckoutSetup);
      const runnable = blocks.filter((b) => !isCheckoutSetup(b));
      expect(runnable.length, `${page} has runnable blocks`).to.be.greaterThan(2);
      for (const b of skipped) expect(b.lines.join('\n'), `${page}:${b.line} skipped block`).to.match(/^(\s*(npm\s.*|#.*)?\n?)+$/);
      // set -e does not stop at a failing command on the left of && or ||: one command per line.
      const chained = runnable.flatMap((b) => b.lines.map((l, k) => ({ at: `${page}:${b.line + k}`, l })).filter(({ l }) => /&&|\|\|/.test(l.replace(/#.*$/, ''))));
      expect(chained.map(({ at, l }) => `${at}: ${l}`), 'commands chained with && or || (a failure on the left would not stop the page)').to.deep.equal([]);
      const work = await scratchFolder();
      const scratch = path.dirname(work);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${path.join(scratch, 'bin')}:${process.env.PATH ?? ''}`,
        HOME: path.join(scratch, 'home'),
        PORT: String(await freePort()),
        PIP_CONFIG_FILE: '/dev/null',
        PIP_DISABLE_PIP_VERSION_CHECK: '1',
        PIP_NO_INPUT: '1',
      };
      for (const v of ['TUFPIP_DATA_DIR', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'VIRTUAL_ENV', 'TMPDIR']) delete env[v];
      const { script, origin } = docScript(runnable);
      const run = await runScript(script, work, env);
      if (run.code !== 0) expect.fail(failureReport(page, run, origin));
      expect(run.log, `${page} ran to its end`).to.contain('__DOCS_DONE__');
    });
  }
});
