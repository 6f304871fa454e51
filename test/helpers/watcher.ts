// A watcher on a real index: a `tufpip-repo` index served on loopback, a tufpip data folder that
// trusts its root 1, and `tufpip watch` run as a child process (test/watch-*.test.ts).
import path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../repo-tools/commands/serve.js';
import { tufpip, tufpipRepo, type RunOptions, type RunResult } from './cli.js';
import { expectOk, makeRepo, serve, type RepoOptions, type TestRepo } from './repo.js';
import { tmpDir } from './tmp.js';
import { writeWheel, type WheelSpec } from './wheels.js';

export interface Watcher {
  dataDir: string;
  index: string;
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** `watch run --json ARGS`: the exit code and the events (JSON lines, each parsed). */
  watch(args?: string[]): Promise<{ code: number | null; events: WatchEventLine[]; r: RunResult }>;
}

export interface WatchEventLine {
  kind: string;
  alarm: boolean;
  message: string;
  id: string;
  project?: string;
  path?: string;
  sha256?: string;
  authorized?: boolean;
  role?: string;
  version?: number;
  vouch?: { kind: string; role: string; keyids: string[]; threshold: number };
}

export function parseJsonLines(stdout: string): WatchEventLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as WatchEventLine;
      } catch {
        return expect.fail(`not a JSON line: ${l}`);
      }
    });
}

/** A data folder trusting `root` of the index at `url`, watching `patterns`. */
export async function watcherOf(url: string, root: string, patterns: string[]): Promise<Watcher> {
  const dataDir = path.join(tmpDir('tufpip-watch-'), 'data');
  const run = (args: string[], opts?: RunOptions) => tufpip(['--data-dir', dataDir, ...args], opts);
  expectOk(await run(['trust', 'add', url, '--root', root, '--name', 'idx']), 'trust add');
  expectOk(await run(['watch', 'add', '--index', 'idx', ...patterns]), 'watch add');
  return {
    dataDir,
    index: 'idx',
    run,
    watch: async (args = []) => {
      const r = await run(['watch', 'run', '--index', 'idx', '--json', ...args]);
      expect(r.code, `watch run:\n${r.stdout}\n${r.stderr}`).to.be.oneOf([0, 1, 2]);
      return { code: r.code, events: parseJsonLines(r.stdout), r };
    },
  };
}

export interface WatchedIndex {
  repo: TestRepo;
  server: RunningServer;
  watcher: Watcher;
  /** Writes a wheel and publishes it with `tufpip-repo add`; returns its file. */
  add(spec: WheelSpec): Promise<string>;
  close(): Promise<void>;
}

export async function watchedIndex(patterns: string[], opts: RepoOptions = {}): Promise<WatchedIndex> {
  const repo = await makeRepo(opts);
  const server = await serve(repo.dir);
  try {
    const watcher = await watcherOf(server.url, repo.root1, patterns);
    return {
      repo,
      server,
      watcher,
      add: async (spec) => {
        const file = await writeWheel(repo.wheelsDir, spec);
        expectOk(await tufpipRepo(['add', repo.dir, file]), `add ${path.basename(file)}`);
        return file;
      },
      close: () => server.close(),
    };
  } catch (err) {
    await server.close();
    throw err;
  }
}
