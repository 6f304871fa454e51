// Linear parsing wherever tuf-js runs (tuf/linear-models.ts), installed explicitly by the entry
// points, never as a side effect of importing a library module (test/architecture.test.ts checks
// that half): the library entry and the worker entries install it when loaded alone (a fresh
// process per module), tufpip-repo before running a command, tufpip when a command loads the
// client library (through its entry, once pip is spawned), and a cold refresh against a PEP
// 458-sized repository (`tufpip-repo init --bins 16384`) works. Speed is measured in
// bench/client-refresh.bench.ts, never asserted here.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { IndexClient } from '../client/index.js';
import { makeRepo, serve, type TestRepo } from './helpers/repo.js';
import { PROJECT_ROOT } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';

const run = promisify(execFile);

/** Entry modules (dist paths) that must install the linear methods when loaded alone. */
const IMPORTED_ENTRIES = ['client/index.js', 'repo-tools/txn/self-check-worker.js', 'repo-tools/txn/bin-rebuild-worker.js', 'repo-tools/storage/bin-scan-worker.js'];

/** Whether the linear methods are installed after importing `js` in a fresh process. */
async function installsWhenLoaded(js: string): Promise<boolean> {
  const probe = `await import(${JSON.stringify(js)}); const { Snapshot, Targets } = await import('@tufjs/models');` +
    `process.stdout.write(String(Snapshot.fromJSON.name === 'snapshotFromJSON' && Targets.fromJSON.name === 'targetsFromJSON'));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: PROJECT_ROOT });
  return stdout === 'true';
}

describe('client: linear @tufjs/models parsing wherever tuf-js is used', () => {
  it('the library entry and the worker entries install the linear methods when loaded alone', async () => {
    const missing: string[] = [];
    for (const entry of IMPORTED_ENTRIES) {
      if (!(await installsWhenLoaded(path.join(PROJECT_ROOT, 'dist', entry)))) missing.push(entry);
    }
    expect(missing, 'entry modules that do not call installLinearModels()').to.deep.equal([]);
  });

  it('a library module alone does not install them (tuf/linear-models.ts is explicit)', async () => {
    expect(await installsWhenLoaded(path.join(PROJECT_ROOT, 'dist', 'client', 'lib', 'index-client.js'))).to.equal(false);
  });

  it('tufpip-repo installs them before running a command', () => {
    const src = fs.readFileSync(path.join(PROJECT_ROOT, 'bin', 'tufpip-repo.js'), 'utf8');
    const install = src.indexOf('installLinearModels();');
    expect(install, 'bin/tufpip-repo.js calls installLinearModels()').to.be.greaterThan(0);
    expect(install, 'before running the CLI').to.be.lessThan(src.indexOf('await runRepoCli('));
  });

  it('tufpip loads the client library only through its entry (client/index.ts installs them)', () => {
    // Value imports of IndexClient's module other than the library entry's own re-export.
    const direct: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && p !== path.join(PROJECT_ROOT, 'client', 'index.ts')) {
          const src = fs.readFileSync(p, 'utf8');
          if (/^\s*import\s+(?!type\b)[^;]*?from\s+'[^']*\/index-client\.js'|import\(\s*'[^']*\/index-client\.js'\s*\)/m.test(src)) direct.push(path.relative(PROJECT_ROOT, p));
        }
      }
    };
    walk(path.join(PROJECT_ROOT, 'client'));
    expect(direct).to.deep.equal([]);
  });

  describe('a cold refresh against a 16,384-bin repository', () => {
    let repo: TestRepo;
    let server: RunningServer;
    before(async () => {
      repo = await makeRepo({ bins: 16384, wheels: [{ name: 'delta', version: '1.0' }] });
      server = await serve(repo.dir);
    });
    after(async () => {
      await server?.close();
    });

    it('refreshes (16,385-entry snapshot) and finds a target in its bin', async () => {
      const c = await IndexClient.open({ indexUrl: server.url, dataDir: tmpDir(), trustedRoot: fs.readFileSync(repo.root1) });
      try {
        await c.refresh();
        const t = await c.lookup('packages/delta/delta-1.0-py3-none-any.whl');
        expect(t.vouchedBy.role).to.match(/^bin-[0-9a-f]{4}$/);
        const snapshot = c.requests.find((r) => /\/\d+\.snapshot\.json$/.test(r.url));
        expect(snapshot?.bytes).to.be.greaterThan(400_000);
      } finally {
        await c.close();
      }
    });
  });
});
