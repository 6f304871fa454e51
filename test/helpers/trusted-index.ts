// A real `tufpip-repo` index served on loopback and trusted by a fresh tufpip data directory, for
// the end-to-end tests of `tufpip fetch/install/proxy` (real CLIs as child processes, real pip).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { privateKeyFromPem } from '../../repo-tools/keys/signer.js';
import type { RunningServer } from '../../repo-tools/commands/serve.js';
import { tufpip, type RunOptions, type RunResult } from './cli.js';
import { expectOk, makeRepo, serve, type TestRepo } from './repo.js';
import { tmpDir } from './tmp.js';
import type { WheelSpec } from './wheels.js';

/** alpha 1.0 needs beta>=1.0; beta has 1.0 and 1.1 (pip picks 1.1). */
export const STANDARD_WHEELS: WheelSpec[] = [
  { name: 'alpha', version: '1.0', deps: ['beta>=1.0'] },
  { name: 'beta', version: '1.0' },
  { name: 'beta', version: '1.1' },
];

export interface TrustedIndex {
  repo: TestRepo;
  server: RunningServer;
  url: string;
  site: string;
  dataDir: string;
  /** Key ID of the repository's online key (signs the bins). */
  onlineKeyId: string;
  /** Runs `tufpip --data-dir <dataDir> ARGS`. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

/** `files`: other distribution files to publish (sdists, wheels not written by the tests). */
export async function trustedIndex(wheels: WheelSpec[] = STANDARD_WHEELS, opts: { files?: string[] } = {}): Promise<TrustedIndex> {
  const repo = await makeRepo({ wheels, files: opts.files });
  const server = await serve(repo.dir);
  const dataDir = path.join(tmpDir('tufpip-data-'), 'data');
  const run = (args: string[], opts?: RunOptions) => tufpip(['--data-dir', dataDir, ...args], opts);
  try {
    expectOk(await run(['trust', 'add', server.url, '--root', repo.root1]), 'trust add');
  } catch (err) {
    await server.close();
    throw err;
  }
  const online = privateKeyFromPem(fs.readFileSync(path.join(repo.dir, 'keys', 'online.pem'), 'utf8'), 'online.pem');
  return { repo, server, url: server.url, site: path.join(repo.dir, 'site'), dataDir, onlineKeyId: online.keyid, run, close: () => server.close() };
}

/** Parses the JSON a `--json` run printed on stdout. */
export function jsonOf<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    expect.fail(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
