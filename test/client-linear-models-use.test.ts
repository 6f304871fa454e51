// Linear parsing everywhere tuf-js is used (metadata/linear-models.ts): every module of the
// project that imports tuf-js or @tufjs/models for more than error classes installs the linear
// methods when loaded on its own (checked in a fresh process per module), and a cold refresh
// against a PEP 458-sized repository (`tufpip-repo init --bins 16384`) works. Speed is measured in
// bench/client-refresh.bench.ts, never asserted here.
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

/** Source modules whose non-type imports reach tuf-js or @tufjs/models beyond their error classes. */
function tufUsers(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const src = fs.readFileSync(p, 'utf8');
        const value = /^import\s+(?!type\b)[^;]*?from\s+'(tuf-js|@tufjs\/models)(\/dist\/(?!error\.js)[^']*)?'/m;
        if (value.test(src)) out.push(path.relative(PROJECT_ROOT, p));
      }
    }
  };
  for (const d of ['client', 'repo-tools']) walk(path.join(PROJECT_ROOT, d));
  return out.sort();
}

describe('client: linear @tufjs/models parsing wherever tuf-js is used', () => {
  it('every module using tuf-js installs the linear methods when loaded alone', async () => {
    const users = tufUsers();
    expect(users).to.include.members(['client/lib/index-client.ts', 'client/tuf-internals.ts', 'repo-tools/commands/verify.ts']);
    const missing: string[] = [];
    for (const src of users) {
      const js = path.join(PROJECT_ROOT, 'dist', src.replace(/\.ts$/, '.js'));
      const probe = `await import(${JSON.stringify(js)}); const { Snapshot, Targets } = await import('@tufjs/models');` +
        `process.stdout.write(String(Snapshot.fromJSON.name === 'snapshotFromJSON' && Targets.fromJSON.name === 'targetsFromJSON'));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: PROJECT_ROOT });
      if (stdout !== 'true') missing.push(src);
    }
    expect(missing, 'modules that use tuf-js without metadata/linear-models.js').to.deep.equal([]);
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
