// Object-storage benchmarks (docs/object-storage.md) on Ceph's S3 gateway on loopback
// (scripts/s3-gateway.sh, started and stopped here): adding one file to a 16,384-bin index in a
// bucket (object writes and wall time, in-process as the CLI runs it after start-up), and two
// "machines" (separate local state) adding 50 files each at the same time, one `tufpip-repo add`
// process per file (adds per second, retries after a lost race). Figures are printed; nothing is
// asserted. Run: `npm run bench` or `node dist/bench/s3.bench.js`.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { initRepo } from '../repo-tools/commands/init.js';
import { addFiles } from '../repo-tools/commands/add.js';
import { s3LocationFromFlags } from '../repo-tools/storage/s3-location.js';
import { writeWheel } from '../demo/demo-wheels.js';
import { installLinearModels } from '../tuf/linear-models.js';
import { s3Gateway, secondMachine, stopS3Gateway } from '../test/helpers/s3-gateway.js';

installLinearModels();

const REPO_BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tufpip-repo.js');

/** Counts the object writes (PUT, POST, DELETE: CopyObject is a PUT) this process sends. */
function countWrites(): { writes: number; reset(): void } {
  const counter = {
    writes: 0,
    reset() {
      counter.writes = 0;
    },
  };
  const request = http.request;
  http.request = ((...args: Parameters<typeof http.request>) => {
    const o = args[0] as http.RequestOptions;
    if (typeof o === 'object' && o.method && o.method !== 'GET' && o.method !== 'HEAD') counter.writes++;
    return request(...args);
  }) as typeof http.request;
  return counter;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REPO_BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function benchS3(quick = false): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-s3-'));
  const counter = countWrites();
  try {
    const gw = await s3Gateway();
    const bucket = `bench-${Date.now()}`;
    await gw.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const flags = (prefix: string, plainNames = false) => s3LocationFromFlags({ storage: `s3://${bucket}/${prefix}`, endpoint: gw.endpoint, pathStyle: true, plainNames });

    // 1. One file into a 16,384-bin index.
    const bins = quick ? 1024 : 16384;
    const dir = path.join(base, 'big');
    let t0 = performance.now();
    counter.reset();
    await initRepo({ dir, url: `${gw.endpoint}/${bucket}/big/`, bins, rootKeys: 1, allowSingleRootKey: true, storage: flags('big/') });
    console.log(`init, ${bins} bins on S3: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${counter.writes} object writes`);
    const times: number[] = [];
    const writes: number[] = [];
    const phases: Record<string, number[]> = {};
    for (let i = 0; i < 7; i++) {
      const wheel = await writeWheel(path.join(base, 'w'), { name: `one${i}`, version: '1.0' });
      counter.reset();
      t0 = performance.now();
      const r = await addFiles(dir, [wheel]);
      times.push(performance.now() - t0);
      for (const [k, v] of Object.entries(r.commit.timings ?? {})) (phases[k] ??= []).push(v);
      writes.push(counter.writes);
    }
    figures.addOneMs = Math.round(med(times));
    figures.addOneWrites = med(writes);
    console.log(`add one file (new project) to ${bins} bins on S3: median ${figures.addOneMs} ms, ${figures.addOneWrites} object writes (of 7 adds: ${times.map((t) => Math.round(t)).join(', ')} ms)`);
    console.log(`  phases (median ms): ${Object.entries(phases).map(([k, v]) => `${k} ${med(v)}`).join(', ')}; the rest: loading and verifying the published state`);

    // 1b. The same with plain names for plain pip (init --plain-names, docs/object-storage.md).
    const plainDir = path.join(base, 'plain');
    await initRepo({ dir: plainDir, url: `${gw.endpoint}/${bucket}/plain/`, bins, rootKeys: 1, allowSingleRootKey: true, storage: flags('plain/', true) });
    const plainTimes: number[] = [];
    const plainWrites: number[] = [];
    for (let i = 0; i < 7; i++) {
      const wheel = await writeWheel(path.join(base, 'wp'), { name: `plain${i}`, version: '1.0' });
      counter.reset();
      t0 = performance.now();
      await addFiles(plainDir, [wheel]);
      plainTimes.push(performance.now() - t0);
      plainWrites.push(counter.writes);
    }
    figures.addOnePlainMs = Math.round(med(plainTimes));
    figures.addOnePlainWrites = med(plainWrites);
    console.log(`add one file with --plain-names (${bins} bins): median ${figures.addOnePlainMs} ms, ${figures.addOnePlainWrites} object writes (of 7 adds: ${plainTimes.map((t) => Math.round(t)).join(', ')} ms)`);

    // 2. Two machines x 50 adds, one process per add.
    const small = path.join(base, 'a');
    await initRepo({ dir: small, url: `${gw.endpoint}/${bucket}/two/`, bins: 256, rootKeys: 1, allowSingleRootKey: true, storage: flags('two/') });
    const other = secondMachine(small, path.join(base, 'b'));
    const n = quick ? 10 : 50;
    const env = { ...process.env, ...gw.env };
    const writer = async (d: string, name: string) => {
      let retries = 0;
      for (let i = 0; i < n; i++) {
        const wheel = await writeWheel(path.join(base, `w-${name}`), { name: `${name}${i}`, version: '1.0' });
        const r = await run(['add', d, wheel], env);
        if (r.code !== 0) throw new Error(`add on ${name} failed: ${r.stderr}`);
        retries += r.stderr.split('\n').filter((l) => l.startsWith('tufpip-repo: retrying (')).length;
      }
      return retries;
    };
    t0 = performance.now();
    const [ra, rb] = await Promise.all([writer(small, 'x'), writer(other, 'y')]);
    const s = (performance.now() - t0) / 1000;
    figures.twoWritersAddsPerS = Math.round(((2 * n) / s) * 10) / 10;
    figures.twoWritersRetries = ra + rb;
    console.log(`two machines x ${n} adds (one process each, 256 bins): ${(2 * n)} adds in ${s.toFixed(1)} s = ${figures.twoWritersAddsPerS} adds/s, ${ra + rb} retries (${ra} + ${rb})`);
    return figures;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
    await stopS3Gateway();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchS3(!!process.env.BENCH_QUICK);
}
