// Builds real repositories for tests with the real `tufpip-repo` CLI.
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

/** `files`: distribution files to publish too (sdists, wheels from elsewhere), added with the wheels. */
export async function makeRepo(opts: { bins?: number; wheels?: WheelSpec[]; files?: string[]; initArgs?: string[] } = {}): Promise<TestRepo> {
  const base = tmpDir('tufpip-repo-');
  const dir = path.join(base, 'repo');
  expectOk(await tufpipRepo(['init', dir, '--url', 'http://127.0.0.1:8080/', '--bins', String(opts.bins ?? 16), ...(opts.initArgs ?? [])]), 'init');
  const wheelsDir = path.join(base, 'wheels');
  const files: string[] = [];
  for (const w of opts.wheels ?? []) files.push(await writeWheel(wheelsDir, w));
  files.push(...(opts.files ?? []));
  if (files.length) expectOk(await tufpipRepo(['add', dir, ...files]), 'add');
  return { dir, wheelsDir, root1: path.join(dir, 'site', 'metadata', '1.root.json') };
}

/** Serves a repository's site/ on a free loopback port; stop it with close(). */
export function serve(repoDir: string): Promise<RunningServer> {
  return serveRepo(repoDir, { host: '127.0.0.1', port: 0 });
}
