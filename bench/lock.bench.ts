// `tufpip install --locked` of 20 packages against `pip install --no-deps --require-hashes` of
// the same files from the same loopback server without TUF (issue 13 "Speed": at most 1.2x), and
// `tufpip lock --check` of a 100-package lock (a full re-resolution through the verifying proxy
// plus the pin diff). Real commands as child processes; both install sides write into a
// `--target` folder with the same pip. Repetitions alternate the sides; medians are reported.
//
// Run: node dist/bench/lock.bench.js [REPETITIONS]   (prints the figures; default 3)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { pipEnvironment } from '../client/pip/pip-runner.js';
import { serveRepo } from '../repo-tools/commands/serve.js';
import { writeWheel } from '../demo/demo-wheels.js';
import { median, timed } from './timing.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INSTALLED = 20;
const CHECKED = 100;

export async function benchLock(repetitions = 3): Promise<Record<string, number>> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-lock-'));
  const repoCli = path.join(ROOT, 'bin', 'tufpip-repo.js');
  const tufpipCli = path.join(ROOT, 'bin', 'tufpip.js');
  const python = process.env.TUFPIP_TEST_PYTHON ?? 'python3';
  const names = Array.from({ length: CHECKED }, (_, i) => `bench-lock-${String(i + 1).padStart(3, '0')}`);
  const wheels: string[] = [];
  for (const name of names) wheels.push(await writeWheel(path.join(base, 'wheels'), { name, version: '1.0', padding: 50_000 }));
  const dir = path.join(base, 'repo');
  execFileSync(process.execPath, [repoCli, 'init', dir, '--url', 'http://127.0.0.1:8080/'], { stdio: 'ignore' });
  execFileSync(process.execPath, [repoCli, 'add', dir, ...wheels], { stdio: 'ignore' });
  const server = await serveRepo(dir, { host: '127.0.0.1', port: 0 });
  const env = pipEnvironment();
  const root = path.join(dir, 'site', 'metadata', '1.root.json');
  const dataDir = path.join(base, 'data');
  const tufpip = (args: string[]) => [tufpipCli, '--data-dir', dataDir, ...args];
  const pip: number[] = [];
  const locked: number[] = [];
  const check: number[] = [];
  let lockMs = 0;
  try {
    execFileSync(process.execPath, tufpip(['trust', 'add', server.url, '--root', root]), { stdio: 'ignore' });
    const small = path.join(base, 'pylock-20.toml');
    const big = path.join(base, 'pylock-100.toml');
    await timed(process.execPath, tufpip(['lock', '-o', small, ...names.slice(0, INSTALLED)]), env);
    lockMs = await timed(process.execPath, tufpip(['lock', '-o', big, ...names]), env);
    // pip's own route: the lock's files as a hash-checked requirements file.
    const doc = parse(fs.readFileSync(small, 'utf8')) as unknown as { packages: { name: string; version: string; wheels: { hashes: { sha256: string } }[] }[] };
    const reqs = path.join(base, 'requirements.txt');
    fs.writeFileSync(reqs, doc.packages.map((p) => `${p.name}==${p.version} --hash=sha256:${p.wheels[0].hashes.sha256}\n`).join(''));
    for (let i = 0; i < repetitions; i++) {
      const out = (what: string) => path.join(base, `${what}-${i}`);
      pip.push(await timed(python, ['-m', 'pip', 'install', '--no-deps', '--require-hashes', '--index-url', `${server.url}simple/`, '--no-cache-dir', '--progress-bar', 'off', '--target', out('pip'), '-r', reqs], env));
      locked.push(await timed(process.execPath, tufpip(['install', '--locked', small, '--quiet', '--', '--target', out('locked')]), env));
      check.push(await timed(process.execPath, tufpip(['lock', '--check', '-o', big, '--quiet']), env));
    }
  } finally {
    await server.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
  const figures = {
    'installed packages': INSTALLED,
    repetitions,
    'pip install --require-hashes ms (median)': Math.round(median(pip)),
    'tufpip install --locked ms (median)': Math.round(median(locked)),
    ratio: Number((median(locked) / median(pip)).toFixed(2)),
    'locked packages checked': CHECKED,
    'tufpip lock (100 packages) ms': Math.round(lockMs),
    'tufpip lock --check (100 packages) ms (median)': Math.round(median(check)),
  };
  console.log(`tufpip install --locked vs pip install --no-deps --require-hashes, ${INSTALLED} packages, median of ${repetitions} (target: at most 1.2x):`);
  console.log(`  pip ${figures['pip install --require-hashes ms (median)']} ms, tufpip --locked ${figures['tufpip install --locked ms (median)']} ms (${figures.ratio}x)`);
  console.log(`tufpip lock of ${CHECKED} packages: ${figures['tufpip lock (100 packages) ms']} ms; lock --check of that lock: ${figures['tufpip lock --check (100 packages) ms (median)']} ms (median)`);
  return figures;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const reps = Number(process.argv[2]);
  await benchLock(reps > 0 ? reps : undefined);
}
