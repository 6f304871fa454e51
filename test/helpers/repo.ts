// The one way tests build a real repository: `makeRepo` runs the real `tufpip-repo init` (and
// `add` for the distributions asked for) in a new folder or a given one; `copyRepo` copies one
// built once per describe for a test that changes it; `serve` serves it on loopback
// (trusted-index.ts adds a client data folder that trusts it; ceremony.ts, pep480-fixture.ts and
// damaged-repo.ts build on makeRepo too).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tmpDir } from './tmp.js';
import { tufpipRepo, type RunResult } from './cli.js';
import { writeWheel, type WheelSpec } from './wheels.js';
import { serveRepo, type RunningServer } from '../../repo-tools/commands/serve.js';

export interface TestRepo {
  dir: string;
  wheelsDir: string;
  root1: string;
}

export function expectOk(r: RunResult, what = 'command'): RunResult {
  expect(r.code, `${what} failed:\n${r.stderr}\n${r.stdout}`).to.equal(0);
  return r;
}

export interface RepoOptions {
  /** Where to create it (must not exist, or be empty); default: BASE/repo in a new temporary folder. */
  dir?: string;
  /** Hash bins (default 16). */
  bins?: number;
  /** Wheels to write and publish. */
  wheels?: WheelSpec[];
  /** Distribution files to publish too (sdists, wheels from elsewhere), added with the wheels. */
  files?: string[];
  /** Further `tufpip-repo init` arguments (--expires, --keys-dir, --root-keys...). */
  initArgs?: string[];
}

/** `tufpip-repo init DIR --url http://127.0.0.1:8080/ --bins N ...`, then one `add` of the wheels and files. */
export async function makeRepo(opts: RepoOptions = {}): Promise<TestRepo> {
  const base = tmpDir('tufpip-repo-');
  const dir = opts.dir ?? path.join(base, 'repo');
  expectOk(await tufpipRepo(['init', dir, '--url', 'http://127.0.0.1:8080/', '--bins', String(opts.bins ?? 16), ...(opts.initArgs ?? [])]), 'init');
  const wheelsDir = path.join(base, 'wheels');
  const files: string[] = [];
  for (const w of opts.wheels ?? []) files.push(await writeWheel(wheelsDir, w));
  files.push(...(opts.files ?? []));
  if (files.length) expectOk(await tufpipRepo(['add', dir, ...files]), 'add');
  return { dir, wheelsDir, root1: path.join(dir, 'site', 'metadata', '1.root.json') };
}

/** Copies a repository directory (a template built once per describe) for one test; `dir`: where. */
export function copyRepo(repoDir: string, dir = path.join(tmpDir('tufpip-repo-copy-'), 'repo')): string {
  fs.cpSync(repoDir, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Serves a repository's site/ on a free loopback port (`log`: each request line); stop it with close(). */
export function serve(repoDir: string, log?: (line: string) => void): Promise<RunningServer> {
  return serveRepo(repoDir, { host: '127.0.0.1', port: 0, ...(log ? { log } : {}) });
}
