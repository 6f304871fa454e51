// Bad input to `tufpip`, one table (python-tuf style scenario rows; every row runs the real CLI as
// a child process): each row is an argument vector, the exit code (1, or 2 for a usage error), the
// one line on stderr that names the problem (test/helpers/refusal.ts) and what must not have
// changed (the trust store, the target and metadata folders, the destination, the venv).
//   1. roots and names `tufpip trust` refuses;
//   2. a damaged repository served over loopback (the rows of test/helpers/damaged-repo.ts that
//      a client meets): `tufpip tuf refresh` (and `tuf download` where the damage is in a bin)
//      names the class of the refusal ("refused (metadata)", "(bad-signature)",
//      "(hash-mismatch)", "(endless-data)"), nothing lands in the target folder and nothing
//      unverified in the metadata folder (every file tuf-js kept is the intact repository's own
//      or one the test validly re-signed); for some rows `tufpip fetch` too (no destination);
//   3. paths with '..' and names that are paths, a destination that is a file, a corrupted trust
//      store;
//   4. requirements and pip arguments that would give pip a source outside the verified index,
//      and a proxy on a non-loopback address: refused before pip runs, the venv unchanged;
//   5. `--python` that is not a Python with pip (client/pip/pip-runner.ts verifyPython, checked by
//      fetch.ts whenever pip failed or "succeeded" without asking the verifying proxy anything):
//      `tufpip install` and `fetch` end with one line naming the program and exit 1, nothing
//      fetched or installed, and never "installed from 0 verified files" with exit 0. The
//      interpreter started ahead (pip-prewarm.ts) is part of every run, and one row proves that a
//      program that takes its arguments like the prewarmed interpreter is still caught;
//   6. a URL requirement or requirements-file URL with credentials: refused, the credentials
//      redacted in the message and never printed.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tufpip, type RunResult } from './helpers/cli.js';
import { md, goldRepo, repoDamages, truncate, validlySigned } from './helpers/damaged-repo.js';
import { listTree } from './helpers/faults.js';
import { basePython, freshVenv } from './helpers/python.js';
import { expectOk, serve } from './helpers/repo.js';
import { expectRefused, type Refused } from './helpers/refusal.js';
import { tmpDir } from './helpers/tmp.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';
import { trustedIndex, type TrustedIndex } from './helpers/trusted-index.js';
import { TufFixture, newKey, signEnvelope } from './helpers/tuf-fixture.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

interface Row extends Refused {
  /** Prepares the row's own folder `dir` and returns the arguments of `tufpip`. */
  args: (dir: string) => string[] | Promise<string[]>;
  /** `dir` must be byte for byte as `args` left it, except entries (diffTrees lines) matching this. */
  mayAdd?: RegExp;
  /** What else must hold afterwards (nothing stored, nothing created). */
  after?: (dir: string) => void | Promise<void>;
  /** What stderr must say besides (a redacted URL). */
  also?: RegExp[];
  /** Secrets the output must never contain. */
  never?: string[];
}

let refusedCount = 0;

function table(rows: Record<string, Row>): void {
  for (const [name, row] of Object.entries(rows)) {
    it(name, async () => {
      const dir = tmpDir('tufpip-client-bad-');
      const args = await row.args(dir);
      const before = snapshotTree(dir);
      const r: RunResult = await tufpip(args);
      expectRefused(r, 'tufpip', row, `tufpip ${args.join(' ')}`);
      for (const re of row.also ?? []) expect(r.stderr).to.match(re);
      for (const secret of row.never ?? []) expect(r.stdout + r.stderr, 'a secret was printed').to.not.include(secret);
      const changed = diffTrees(before, snapshotTree(dir)).filter((l) => !row.mayAdd?.test(l));
      expect(changed, `tufpip ${args.join(' ')}: nothing changed`).to.deep.equal([]);
      await row.after?.(dir);
      refusedCount++;
    });
  }
}

/** The trusted indexes of a data folder (`trust list --json`). */
async function trusted(dataDir: string): Promise<unknown[]> {
  return JSON.parse(expectOk(await tufpip(['trust', 'list', '--json', '--data-dir', dataDir])).stdout) as unknown[];
}

describe('client: bad input to tufpip is refused with one clear line and changes nothing', function () {
  this.timeout(600_000);

  // --- 1. tufpip trust --------------------------------------------------------------------------

  describe('tufpip trust: roots that do not verify, an index trusted twice, plain HTTP, names that are paths', () => {
    let fx: TufFixture;
    before(() => {
      fx = new TufFixture();
      fx.publish();
    });
    after(async () => {
      await fx.close();
    });

    const root = (dir: string, bytes: string | Buffer) => {
      const p = path.join(dir, 'root.json');
      fs.writeFileSync(p, bytes);
      return p;
    };
    const addWith = (rootFile: (dir: string) => string) => (dir: string) => ['trust', 'add', 'http://127.0.0.1:1/', '--root', rootFile(dir), '--data-dir', path.join(dir, 'data')];
    const nothingStored = async (dir: string) => void expect(await trusted(path.join(dir, 'data'))).to.deep.equal([]);
    table({
      'trust add: a root whose signed part was changed': {
        args: addWith((dir) => root(dir, fs.readFileSync(fx.rootFile(1), 'utf8').replace(/"version":1\b/, '"version":7'))),
        error: /root/,
        mayAdd: /./,
        after: nothingStored,
      },
      'trust add: a root signed by a key it does not list': { args: addWith((dir) => root(dir, signEnvelope(fx.root, [newKey()]))), error: /root/, mayAdd: /./, after: nothingStored },
      'trust add: timestamp metadata instead of a root': { args: addWith((dir) => root(dir, fs.readFileSync(path.join(fx.metadataDir, 'timestamp.json')))), error: /root/, mayAdd: /./, after: nothingStored },
      'trust add: a root that is not JSON': { args: addWith((dir) => root(dir, 'not json')), error: /root/, mayAdd: /./, after: nothingStored },
      'trust add: a second root for a URL already trusted': {
        args: async (dir) => {
          expectOk(await tufpip(['trust', 'add', 'http://127.0.0.1:1/', '--root', fx.rootFile(1), '--data-dir', dir]));
          return ['trust', 'add', 'http://127.0.0.1:1', '--root', fx.rootFile(1), '--data-dir', dir, '--name', 'other'];
        },
        error: /already trusted as 127\.0\.0\.1:1/,
      },
      'trust add: plain HTTP off loopback (without --allow-http)': {
        args: (dir) => ['trust', 'add', 'http://pypi.example.org/', '--root', fx.rootFile(1), '--data-dir', path.join(dir, 'data')],
        error: /insecure-transport/,
        mayAdd: /./,
        after: nothingStored,
      },
      'trust remove: a name that is not trusted': { args: (dir) => ['trust', 'remove', 'nope', '--data-dir', dir], error: /no trusted index named nope/ },
      'trust remove: a name that is a path': { args: (dir) => ['trust', 'remove', '../evil', '--data-dir', path.join(dir, 'data')], error: /no trusted index named \.\.\/evil/ },
      ...Object.fromEntries(
        ['../evil', 'a/b', '..', '.hidden'].map((name): [string, Row] => [
          `trust add --name ${name} (a name that is a path)`,
          { args: (dir) => ['trust', 'add', 'http://127.0.0.1:1/', '--root', fx.rootFile(1), '--name', name, '--data-dir', path.join(dir, 'data')], code: 2, error: /index name must be 1-100 characters/ },
        ]),
      ),
    });
  });

  // --- 2. and 3.: a served repository, intact or damaged -----------------------------------------

  describe('a served repository: damaged metadata, paths with "..", a destination that is a file, a corrupted trust store', () => {
    let gold: string;
    let copy: () => string;
    let goldServer: RunningServer;
    const servers: RunningServer[] = [];
    before(async () => {
      ({ gold, copy } = await goldRepo(tmpDir('tufpip-client-bad-gold-')));
      goldServer = await serve(gold);
    });
    after(async () => {
      await goldServer?.close();
      for (const s of servers) await s.close();
    });

    for (const [name, c] of Object.entries(repoDamages).filter(([, x]) => x.client)) {
      it(`served: ${name} -> refused as ${c.client!.source.replace(/\\/g, '')}, nothing unverified written`, async () => {
        const repo = copy();
        await c.damage(repo);
        const server = await serve(repo);
        servers.push(server);
        const work = tmpDir('tufpip-faults-client-');
        const mdDir = path.join(work, 'metadata');
        const targetDir = path.join(work, 'targets');
        expectOk(await tufpip(['tuf', 'init', path.join(md(gold), '1.root.json'), '--metadata-dir', mdDir]), 'tuf init');
        const common = ['--metadata-dir', mdDir, '--metadata-url', `${server.url}metadata/`];
        const r = c.clientNeedsTarget
          ? await tufpip(['tuf', 'download', ...common, '--target-name', 'packages/alpha/alpha-1.0-py3-none-any.whl', '--target-base-url', server.url, '--target-dir', targetDir])
          : await tufpip(['tuf', 'refresh', ...common]);
        expectRefused(r, 'tufpip', { error: c.client!, multiLine: true }, `${name}: tufpip tuf ${c.clientNeedsTarget ? 'download' : 'refresh'}`);
        expect(r.stderr.split('\n').filter((l) => l !== ''), 'one line').to.have.length(1);
        refusedCount++;
        // Nothing in the target directory; in the metadata directory only verified files: each
        // one is byte for byte the intact repository's own or one the test validly re-signed
        // (tuf-js keeps a timestamp that verifies, TUF spec 5.4.5).
        expect(fs.existsSync(targetDir) ? fs.readdirSync(targetDir) : [], 'nothing in the target directory').to.deep.equal([]);
        const verified = [...fs.readdirSync(md(gold)).map((f) => fs.readFileSync(path.join(md(gold), f))), ...validlySigned];
        for (const f of fs.readdirSync(mdDir)) {
          const bytes = fs.readFileSync(path.join(mdDir, f));
          const same = verified.some((b) => b.equals(bytes));
          expect(same, `${name}: ${f} in the metadata directory is not a verified file`).to.equal(true);
        }
        if (c.fetch) {
          const data = path.join(work, 'data');
          expectOk(await tufpip(['trust', 'add', server.url, '--root', path.join(md(gold), '1.root.json'), '--data-dir', data]), 'trust add');
          const dest = path.join(work, 'dest');
          const f = await tufpip(['fetch', 'alpha', '-d', dest, '--index', server.url, '--data-dir', data], { timeoutMs: 120_000 });
          expect(f.code, `${name}: fetch\n${f.stderr}`).to.equal(1);
          expect(f.stderr, `${name}: fetch names the class`).to.match(c.client!);
          expect(f.stderr).to.not.match(/\n\s+at /);
          expect(fs.existsSync(dest), `${name}: fetch created nothing`).to.equal(false);
          refusedCount++;
        }
      });
    }

    /** A metadata folder initialised with the intact root; download arguments against the intact repository. */
    const download = async (dir: string, name: string) => {
      const mdDir = path.join(dir, 'a', 'metadata');
      expectOk(await tufpip(['tuf', 'init', path.join(md(gold), '1.root.json'), '--metadata-dir', mdDir]), 'tuf init');
      return ['tuf', 'download', '--metadata-dir', mdDir, '--metadata-url', `${goldServer.url}metadata/`, '--target-base-url', goldServer.url, '--target-dir', path.join(dir, 'a', 'targets'), '--target-name', name];
    };
    // Only the verified top-level metadata may be added (the refresh before the lookup), and the
    // (empty) target folder.
    const refreshed = /^[+-] [fd] a\/metadata(\/(timestamp|snapshot|targets)\.json)?( |$)|^\+ d a\/targets$/;
    const noTarget = (dir: string) => void expect(fs.existsSync(path.join(dir, 'a', 'targets')) ? fs.readdirSync(path.join(dir, 'a', 'targets')) : []).to.deep.equal([]);
    /** A data folder trusting the intact repository. */
    const trustedData = async (dir: string) => {
      const data = path.join(dir, 'data');
      expectOk(await tufpip(['trust', 'add', goldServer.url, '--root', path.join(md(gold), '1.root.json'), '--data-dir', data]), 'trust add');
      return data;
    };
    /** The same, with its index.json truncated (a corrupted trust store). */
    const corruptedData = async (dir: string) => {
      const data = await trustedData(dir);
      truncate(listTree(data).find((p) => p.endsWith('index.json'))!);
      return data;
    };
    table({
      'tuf download --target-name ../../x': { args: (dir) => download(dir, '../../x'), error: /refused \(not-signed\)/, multiLine: true, mayAdd: refreshed, after: noTarget },
      'tuf download --target-name ..': { args: (dir) => download(dir, '..'), error: /--target-name "\.\." is not a file name inside the target directory/, multiLine: true, mayAdd: refreshed, after: noTarget },
      'tuf download --target-name .': { args: (dir) => download(dir, '.'), error: /--target-name "\." is not a file name inside the target directory/, multiLine: true, mayAdd: refreshed, after: noTarget },
      'tuf download --target-name packages/alpha/../../../../etc/passwd': { args: (dir) => download(dir, 'packages/alpha/../../../../etc/passwd'), error: /refused \(not-signed\)/, multiLine: true, mayAdd: refreshed, after: noTarget },
      'fetch -d FILE (a destination that is a file)': {
        args: async (dir) => {
          const data = await trustedData(dir);
          fs.writeFileSync(path.join(dir, 'a-file'), 'mine\n');
          return ['fetch', 'alpha', '-d', path.join(dir, 'a-file'), '--data-dir', data];
        },
        code: 2,
        error: /--dest .*a-file exists and is not a folder/,
        after: (dir) => void expect(fs.readFileSync(path.join(dir, 'a-file'), 'utf8')).to.equal('mine\n'),
      },
      'trust list with a corrupted trust store (index.json truncated)': { args: async (dir) => ['trust', 'list', '--data-dir', await corruptedData(dir)], error: /cannot read .*index\.json/ },
      'fetch with a corrupted trust store (index.json truncated)': {
        args: async (dir) => ['fetch', 'alpha', '-d', path.join(dir, 'dest'), '--data-dir', await corruptedData(dir)],
        error: /cannot read .*index\.json/,
        after: (dir) => void expect(fs.existsSync(path.join(dir, 'dest'))).to.equal(false),
      },
    });
  });

  // --- 4. sources outside the verified index ------------------------------------------------------

  describe('install: requirements and pip arguments that would give pip another source (usage error, exit 2, before pip runs)', () => {
    let ix: TrustedIndex;
    before(async () => {
      ix = await trustedIndex();
    });
    after(async () => {
      await ix?.close();
    });

    const outside: Record<string, { reqs: (reqFile: string) => string[]; pipArgs?: string[]; file?: string }> = {
      'an --extra-index-url line in a requirements file': { file: 'alpha\n--extra-index-url https://pypi.org/simple\n', reqs: (f) => ['-r', f] },
      'a -f line in an included requirements file': { file: '-r more.txt\n', reqs: (f) => ['-r', f] },
      'a direct URL requirement': { reqs: () => ['alpha @ https://example.org/alpha-1.0-py3-none-any.whl'] },
      'a local wheel path': { reqs: () => ['./alpha-1.0-py3-none-any.whl'] },
      'an --index-url pip argument after --': { reqs: () => ['alpha'], pipArgs: ['--index-url', 'https://pypi.org/simple'] },
      'an abbreviated --find-links pip argument after --': { reqs: () => ['alpha'], pipArgs: ['--find=/tmp'] },
    };
    table(
      Object.fromEntries(
        Object.entries(outside).map(([name, c]): [string, Row] => {
          let venv: ReturnType<typeof freshVenv>;
          let before: string;
          return [
            `install: ${name}`,
            {
              args: (dir) => {
                const file = path.join(dir, 'requirements.txt');
                if (c.file) fs.writeFileSync(file, c.file);
                fs.writeFileSync(path.join(dir, 'more.txt'), '-f /tmp/wheels\n');
                venv = freshVenv();
                before = venv.fingerprint();
                return ['--data-dir', ix.dataDir, 'install', ...c.reqs(file), '--python', venv.python, ...(c.pipArgs ? ['--', ...c.pipArgs] : [])];
              },
              code: 2,
              error: /tufpip gives pip only files verified/,
              after: () => void expect(venv.fingerprint(), 'the venv is unchanged').to.equal(before),
            },
          ];
        }),
      ),
    );
    table({
      'proxy --host 0.0.0.0 (not loopback, without --allow-http)': { args: () => ['--data-dir', ix.dataDir, 'proxy', '--host', '0.0.0.0'], code: 2, error: /not a loopback address/ },
    });

  });

  // --- 5. --python that is not a Python with pip --------------------------------------------------

  describe('--python that is not a Python with pip: one clear error, exit 1, nothing done', () => {
    const dir = tmpDir('tufpip-pythons-');
    const log = path.join(dir, 'stdin-taker.log');
    let ix: TrustedIndex;
    before(async () => {
      ix = await trustedIndex();
    });
    after(async () => {
      await ix?.close();
    });

    const cases: Record<string, { python: () => string; message: RegExp; after?: () => void }> = {
      '/bin/true (exits 0 and runs nothing)': {
        python: () => '/bin/true',
        message: /^\/bin\/true is not a Python with pip: `\/bin\/true -m pip --version` printed no pip version; give a Python that has pip with --python PATH; nothing was (installed|fetched)$/,
      },
      '/bin/false': {
        python: () => '/bin/false',
        message: /^\/bin\/false is not a Python with pip: `\/bin\/false -m pip --version` exited with 1; .*nothing was (installed|fetched)$/,
      },
      'a script that prints something else and exits 0': {
        python: () => script(dir, 'garbage', 'echo "hello from a shell script"; echo "pip 23.2 (not really)"; exit 0'),
        message: /is not a Python with pip: `.*garbage -m pip --version` printed no pip version \(pip 23\.2 \(not really\)\); .*nothing was (installed|fetched)$/,
      },
      'a program that takes the arguments the prewarmed interpreter is handed, and exits 0': {
        python: () => script(dir, 'stdin-taker', `echo "start $1" >> '${log}'; cat >> '${log}'; echo >> '${log}'; exit 0`),
        message: /stdin-taker is not a Python with pip: .* printed no pip version; .*nothing was (installed|fetched)$/,
        after: () => {
          const text = fs.readFileSync(log, 'utf8');
          expect(text, 'started ahead with -c, and handed pip\'s arguments on stdin').to.match(/^start -c\n\["download",/m);
          fs.rmSync(log);
        },
      },
      'a path that does not exist': {
        python: () => path.join(dir, 'no-such-python'),
        message: /^python interpreter not found: .*no-such-python \(give one with --python PATH\)/,
      },
      'a folder': {
        python: () => dir,
        message: /^cannot run .* -m pip: .*EACCES/,
      },
      'a Python without pip (venv --without-pip)': {
        python: () => {
          const venv = path.join(dir, 'nopip');
          if (!fs.existsSync(venv)) execFileSync(basePython(), ['-m', 'venv', '--without-pip', venv]);
          return path.join(venv, 'bin', 'python');
        },
        message: /nopip\/bin\/python is not a Python with pip: `.*nopip\/bin\/python -m pip --version` exited with 1 \(.*No module named pip\); .*nothing was (installed|fetched)$/,
      },
    };

    table(
      Object.fromEntries(
        Object.entries(cases).flatMap(([name, c]) =>
          (['install', 'fetch'] as const).map((command): [string, Row] => [
            `${command} --python ${name}`,
            {
              args: (d) => ['--data-dir', ix.dataDir, ...(command === 'install' ? ['install', 'alpha'] : ['fetch', 'alpha', '-d', path.join(d, 'out')]), '--python', c.python()],
              error: c.message,
              after: () => c.after?.(),
            },
          ]),
        ),
      ),
    );
  });


  // --- 6. credentials in refused inputs -----------------------------------------------------------

  describe('a URL requirement or requirements-file URL with credentials: refused with them redacted', () => {
    const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
    const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
    const redacted = { code: 2, error: /is a URL|is a URL or a path/, also: [/https:\/\/(alice:)?\*\*\*\*@files\.example/], never: [PASSWORD, TOKEN] };
    table({
      'fetch of a URL requirement with credentials': { ...redacted, args: (dir) => ['--data-dir', path.join(dir, 'data'), 'fetch', `https://alice:${PASSWORD}@files.example/alpha-1.0-py3-none-any.whl`, '-d', path.join(dir, 'out')] },
      'fetch -r of a requirements file with a URL requirement with credentials': {
        ...redacted,
        args: (dir) => {
          fs.writeFileSync(path.join(dir, 'requirements.txt'), `alpha\nbeta @ https://alice:${PASSWORD}@files.example/beta-1.0-py3-none-any.whl\n`);
          return ['--data-dir', path.join(dir, 'data'), 'fetch', '-r', path.join(dir, 'requirements.txt'), '-d', path.join(dir, 'out')];
        },
      },
      'install -r of a requirements-file URL with a token': { ...redacted, args: (dir) => ['--data-dir', path.join(dir, 'data'), 'install', '-r', `https://${TOKEN}@files.example/requirements.txt`] },
    });
  });

  after(() => console.log(`      client bad input: ${refusedCount} refused runs of tufpip`));
});
