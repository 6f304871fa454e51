// `tufpip fetch` of 20 packages from a loopback index against plain `pip download` of the same 20
// from the same server without TUF, in one run (issue 3 "Speed": at most 1.3x), and a second
// `tufpip fetch` when nothing changed on the index, counting its metadata requests (issue 3: one
// metadata download, timestamp.json; the probe for the next root version answers 404).
// Both sides are the real commands as child processes: node + tufpip + pip vs pip alone.
// Repetitions alternate the two sides; medians are reported.
//
// Run: node dist/bench/fetch.bench.js [REPETITIONS]   (prints the figures; default 3)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipEnvironment } from '../client/pip/pip-runner.js';
import { serveRepo } from '../repo-tools/commands/serve.js';
import { writeWheel } from '../demo/demo-wheels.js';
import { median, timed } from './timing.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGES = 20;

export interface FetchFigures extends Record<string, number> {
  packages: number;
  repetitions: number;
  'pip download ms (median)': number;
  'tufpip fetch cold ms (median)': number;
  'ratio cold': number;
  'tufpip fetch warm ms (median)': number;
  'ratio warm': number;
  'warm fetch metadata requests': number;
  'warm fetch metadata downloads (HTTP 200)': number;
}

export async function benchFetch(repetitions = 3): Promise<FetchFigures> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-fetch-'));
  const repoCli = path.join(ROOT, 'bin', 'tufpip-repo.js');
  const tufpipCli = path.join(ROOT, 'bin', 'tufpip.js');
  const python = process.env.TUFPIP_TEST_PYTHON ?? 'python3';
  const names = Array.from({ length: PACKAGES }, (_, i) => `bench-pkg-${String(i + 1).padStart(2, '0')}`);
  const wheels: string[] = [];
  for (const name of names) wheels.push(await writeWheel(path.join(base, 'wheels'), { name, version: '1.0', padding: 50_000 }));
  const dir = path.join(base, 'repo');
  execFileSync(process.execPath, [repoCli, 'init', dir, '--url', 'http://127.0.0.1:8080/'], { stdio: 'ignore' });
  execFileSync(process.execPath, [repoCli, 'add', dir, ...wheels], { stdio: 'ignore' });
  const requests: string[] = [];
  const server = await serveRepo(dir, { host: '127.0.0.1', port: 0, log: (l) => requests.push(l) });
  // Same isolation for both sides: no user pip config, no PIP_* settings, no pip cache.
  const env = pipEnvironment();
  const root = path.join(dir, 'site', 'metadata', '1.root.json');
  const pip: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  let warmRequests: string[] = [];
  try {
    for (let i = 0; i < repetitions; i++) {
      const out = (what: string) => path.join(base, `${what}-${i}`);
      pip.push(await timed(python, ['-m', 'pip', 'download', '--index-url', `${server.url}simple/`, '--no-cache-dir', '--progress-bar', 'off', '-d', out('pip'), ...names], env));
      const dataDir = out('data');
      execFileSync(process.execPath, [tufpipCli, '--data-dir', dataDir, 'trust', 'add', server.url, '--root', root], { stdio: 'ignore' });
      cold.push(await timed(process.execPath, [tufpipCli, '--data-dir', dataDir, 'fetch', '-d', out('cold'), ...names], env));
      const before = requests.length;
      warm.push(await timed(process.execPath, [tufpipCli, '--data-dir', dataDir, 'fetch', '-d', out('warm'), ...names], env));
      warmRequests = requests.slice(before).filter((l) => /^GET \/metadata\//.test(l));
    }
  } finally {
    await server.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
  const p = median(pip);
  const figures: FetchFigures = {
    packages: PACKAGES,
    repetitions,
    'pip download ms (median)': Math.round(p),
    'tufpip fetch cold ms (median)': Math.round(median(cold)),
    'ratio cold': Number((median(cold) / p).toFixed(2)),
    'tufpip fetch warm ms (median)': Math.round(median(warm)),
    'ratio warm': Number((median(warm) / p).toFixed(2)),
    'warm fetch metadata requests': warmRequests.length,
    'warm fetch metadata downloads (HTTP 200)': warmRequests.filter((l) => / 200$/.test(l)).length,
  };
  console.log(`tufpip fetch vs pip download, ${PACKAGES} packages, median of ${repetitions} (target: at most 1.3x):`);
  console.log(`  pip download ${figures['pip download ms (median)']} ms`);
  console.log(`  tufpip fetch cold ${figures['tufpip fetch cold ms (median)']} ms (${figures['ratio cold']}x), warm ${figures['tufpip fetch warm ms (median)']} ms (${figures['ratio warm']}x)`);
  console.log(`  second fetch, nothing changed: ${warmRequests.length} metadata requests: ${warmRequests.map((l) => l.replace(/^GET \/metadata\//, '')).join(', ')}`);
  return figures;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const reps = Number(process.argv[2]);
  await benchFetch(reps > 0 ? reps : undefined);
}
