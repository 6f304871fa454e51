// Repository benchmarks (issue "Repository core", Speed): bulk metadata build of N targets in
// 16,384 bins, adding one file to that repository, and `bump` when only the timestamp is due.
// Figures are printed; nothing is asserted. Run: `npm run bench` or `node dist/bench/repo.bench.js [targets]`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { initRepo } from '../repo-tools/commands/init.js';
import { withRepo } from '../repo-tools/txn/open-repo.js';
import { Transaction } from '../repo-tools/txn/transaction.js';
import { addFiles } from '../repo-tools/commands/add.js';
import { bump } from '../repo-tools/commands/bump.js';
import { writeWheel } from '../demo/demo-wheels.js';
import { installLinearModels } from '../tuf/linear-models.js';

// A bench entry: parse as the CLIs do (linear @tufjs/models, tuf/linear-models.ts).
installLinearModels();

const BINS = 16384;

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

async function bulkBuild(dir: string, targets: number): Promise<number> {
  const t0 = performance.now();
  await withRepo(dir, {}, async (ctx) => {
    const tx = new Transaction(ctx, 'bench-bulk');
    const hash = randomBytes(32);
    for (let i = 0; i < targets; i++) {
      hash.writeUInt32BE(i, 0);
      tx.setTarget(`packages/proj-${i % 50000}/proj_${i % 50000}-${(i / 50000) | 0}.0-py3-none-any.whl`, {
        length: 1000 + (i % 100000),
        hashes: { sha256: hash.toString('hex') },
      });
    }
    await tx.commit();
  });
  return performance.now() - t0;
}

/** Runs this file in a fresh process in `mode` and returns the JSON line it prints last. */
function child<T>(mode: string, ...args: string[]): T {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), mode, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Each part runs in a fresh process, timed inside it: the adds and bumps as the CLI runs them
// (work besides process start-up), and none of them next to the 1M build's heap, whose garbage
// collection kept the other core busy (adds measured ~40 ms there, ~26 ms in a fresh process).
export async function benchRepo(targetsList = [100_000, 1_000_000]): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-'));
  try {
    let dir = '';
    for (const n of targetsList) {
      dir = path.join(base, `repo-${n}`);
      const b = child<{ initMs: number; ms: number; rssMB: number }>('--build', dir, String(n));
      figures[`init ${BINS} bins ms`] = Math.round(b.initMs);
      figures[`build metadata ${n} targets in ${BINS} bins ms`] = Math.round(b.ms);
      figures[`build metadata ${n} targets us/target`] = Math.round((b.ms * 1000) / n) / 1000 * 1000 / 1000;
      figures[`peak RSS after ${n} targets MB`] = b.rssMB;
      console.log(`build metadata: ${n} targets in ${BINS} bins: ${(b.ms / 1000).toFixed(2)} s (${((b.ms * 1000) / n).toFixed(1)} us/target), peak RSS ${b.rssMB} MB`);
    }
    // The build's hundreds of megabytes are flushed to disk first: otherwise the adds' fsyncs
    // queue behind that write-back.
    execFileSync('sync');
    const { times, phases, built } = child<{ times: number[]; phases: Record<string, number[]>; built: string[] }>('--adds', dir, path.join(base, 'wheels'));
    console.log(`  add phases (median ms): ${Object.entries(phases).map(([k, v]) => `${k} ${med(v)}`).join(', ')}; snapshot ${[...new Set(built)].join('/')}`);
    for (const [k, v] of Object.entries(phases)) figures[`add phase ${k} ms`] = med(v);
    times.sort((a, b) => a - b);
    figures['add one file (median of 9) ms'] = Math.round(times[4] * 10) / 10;
    console.log(`add one file to the ${targetsList.at(-1)}-target repository: median ${times[4].toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[8].toFixed(1)}; 9 adds in one process, new projects and new versions of one project)`);
    const bt = child<number[]>('--bumps', dir);
    figures['bump timestamp only (median of 5) ms'] = Math.round(med(bt) * 10) / 10;
    console.log(`bump, timestamp only due: median ${med(bt).toFixed(1)} ms`);
    // Whole process, for reference (includes Node start-up and module loading).
    const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tufpip-repo.js');
    const t = performance.now();
    execFileSync(process.execPath, [cli, 'status', dir, '--json'], { stdio: 'ignore' });
    figures['status (whole process) ms'] = Math.round(performance.now() - t);
    const t2 = performance.now();
    execFileSync(process.execPath, [cli, '--help'], { stdio: 'ignore' });
    figures['process start-up (tufpip-repo --help) ms'] = Math.round(performance.now() - t2);
    console.log(`process start-up (tufpip-repo --help): ${figures['process start-up (tufpip-repo --help) ms']} ms; status of the large repository: ${figures['status (whole process) ms']} ms`);
    return figures;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

/** A child of benchRepo: init, then the bulk build of `targets` targets. */
async function timeBuild(dir: string, targets: number): Promise<void> {
  const t = performance.now();
  await initRepo({ dir, url: 'http://127.0.0.1:8080/', bins: BINS, allowSingleRootKey: true, rootKeys: 1, rootThreshold: 1 });
  const initMs = performance.now() - t;
  const ms = await bulkBuild(dir, targets);
  console.log(JSON.stringify({ initMs, ms, rssMB: Number(mb(process.resourceUsage().maxRSS * 1024)) }));
}

/**
 * A child of benchRepo: `bump` when only the timestamp is due. Every 13 h the timestamp (1 d) is
 * due again, while bins and snapshot (7 d) stay outside their re-signing window for the 5 runs (65 h).
 */
async function timeBumps(dir: string): Promise<void> {
  const bt: number[] = [];
  for (let i = 0; i < 5; i++) {
    const later = new Date(Date.now() + 13 * 3600_000 * (i + 1));
    const t = performance.now();
    const r = await bump(dir, { now: later });
    bt.push(performance.now() - t);
    if (r.resigned.join() !== 'timestamp') throw new Error(`expected only timestamp, got ${r.resigned.join()}`);
  }
  console.log(JSON.stringify(bt));
}

/** The child of benchRepo: 9 adds in this process, times and phases as one JSON line. */
async function timeAdds(dir: string, wheels: string): Promise<void> {
  const times: number[] = [];
  const phases: Record<string, number[]> = {};
  const built: string[] = [];
  for (let i = 0; i < 9; i++) {
    // A new project, then new versions of an existing one (its page changes, the project list not).
    const w = await writeWheel(wheels, i % 2 === 0 ? { name: `newproj${i}`, version: '1.0' } : { name: 'newproj0', version: `1.${i}` });
    const t = performance.now();
    const r = await addFiles(dir, [w]);
    times.push(performance.now() - t);
    for (const [k, v] of Object.entries(r.commit.timings ?? {})) (phases[k] ??= []).push(v);
    if (r.commit.snapshotBuilt) built.push(r.commit.snapshotBuilt);
  }
  console.log(JSON.stringify({ times, phases, built }));
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly && process.argv[2] === '--adds') {
  await timeAdds(process.argv[3], process.argv[4]);
} else if (invokedDirectly && process.argv[2] === '--build') {
  await timeBuild(process.argv[3], Number(process.argv[4]));
} else if (invokedDirectly && process.argv[2] === '--bumps') {
  await timeBumps(process.argv[3]);
} else if (invokedDirectly) {
  const arg = process.argv.slice(2).map(Number).filter((n) => n > 0);
  await benchRepo(arg.length ? arg : undefined);
}
