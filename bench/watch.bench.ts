// `tufpip watch run` benchmark (docs/watch.md "Speed"): a 16,384-bin index served on
// loopback, a watcher with a baseline, then 1,000 new files published across 100 snapshot versions
// (10 per transaction); the next `watch run` walks all 100 versions, reading only the bins that
// changed. Prints the time and the bytes downloaded; asserts nothing.
// Run: `npm run bench` or `node dist/bench/watch.bench.js [files] [versions]`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { initRepo } from '../repo-tools/commands/init.js';
import { startServeCli } from '../test/helpers/serve-cli.js';
import { withRepo } from '../repo-tools/txn/open-repo.js';
import { Transaction } from '../repo-tools/txn/transaction.js';
import { TrustStore } from '../client/lib/trust-store.js';
import { watchAdd } from '../client/commands/watch.js';
import { watchRunIndex } from '../client/watch/watch-run.js';
import { installLinearModels } from '../tuf/linear-models.js';
import { parseTrustedRoot, verifyHistoricSigned } from '../tuf/history-verify.js';

// A bench entry: parse as the CLIs do (linear @tufjs/models, tuf/linear-models.ts).
installLinearModels();

const BINS = 16384;

async function publish(dir: string, versions: number, perVersion: number): Promise<void> {
  const hash = randomBytes(32);
  let i = 0;
  for (let v = 0; v < versions; v++) {
    await withRepo(dir, {}, async (ctx) => {
      const tx = new Transaction(ctx, 'bench-watch');
      for (let k = 0; k < perVersion; k++, i++) {
        hash.writeUInt32BE(i, 0);
        tx.setTarget(`packages/proj-${i % 300}/proj_${i % 300}-${i}.0-py3-none-any.whl`, { length: 1000 + i, hashes: { sha256: hash.toString('hex') } });
      }
      await tx.commit();
    });
  }
}

export async function benchWatch(files = 1000, versions = 100): Promise<Record<string, number>> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-watch-'));
  const dir = path.join(base, 'repo');
  const figures: Record<string, number> = {};
  await initRepo({ dir, url: 'http://127.0.0.1:8080/', bins: BINS, allowSingleRootKey: true, rootKeys: 1, rootThreshold: 1 });
  // The index is served by another process (`tufpip-repo serve`), as a real index is: the figures
  // are the watcher's work, not the server's sharing its event loop.
  const server = await startServeCli(dir);
  try {
    const dataDir = path.join(base, 'data');
    const store = new TrustStore(dataDir);
    const index = await store.add(server.url, fs.readFileSync(path.join(dir, 'site', 'metadata', '1.root.json')), { name: 'bench' });
    await watchAdd([], { index: 'bench', dataDir });
    let t0 = performance.now();
    const baseline = await watchRunIndex(index, { dataDir });
    const baselineMs = performance.now() - t0;
    console.log(`watch baseline of a ${BINS}-bin index: ${(baselineMs / 1000).toFixed(2)} s, ${baseline.requests} requests, ${(baseline.bytes / 1024 / 1024).toFixed(1)} MiB`);
    figures['watch baseline ms'] = Math.round(baselineMs);
    figures['watch baseline bytes'] = baseline.bytes;

    await publish(dir, versions, Math.ceil(files / versions));
    t0 = performance.now();
    const r = await watchRunIndex(index, { dataDir });
    const ms = performance.now() - t0;
    const added = r.events.filter((e) => e.kind === 'file-added').length;
    console.log(
      `watch run after ${files} new files in ${versions} snapshot versions: ${(ms / 1000).toFixed(2)} s, ${r.walked} versions walked, ${added} file-added events, ` +
        `${r.requests} requests, ${(r.bytes / 1024 / 1024).toFixed(1)} MiB downloaded`,
    );
    figures['watch run ms'] = Math.round(ms);
    figures['watch run bytes'] = r.bytes;
    figures['watch run requests'] = r.requests;
    figures['watch run file-added events'] = added;
    t0 = performance.now();
    const idle = await watchRunIndex(index, { dataDir });
    console.log(`watch run with nothing new: ${(performance.now() - t0).toFixed(0)} ms, ${idle.requests} requests, ${idle.bytes} bytes`);
    figures['watch run nothing new ms'] = Math.round(performance.now() - t0);
    // The walk's main cost, alone: one 16,384-entry snapshot checked (parse, canonical JSON,
    // signature). The minimum of 20 is the figure of an idle core (a busy machine adds waiting).
    const meta = path.join(dir, 'site', 'metadata');
    const newest = Math.max(...fs.readdirSync(meta).map((f) => Number(/^(\d+)\.snapshot\.json$/.exec(f)?.[1] ?? 0)));
    const snap = fs.readFileSync(path.join(meta, `${newest}.snapshot.json`));
    const root = parseTrustedRoot(fs.readFileSync(path.join(meta, '1.root.json')));
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      verifyHistoricSigned('snapshot', 'snapshot', snap, newest, [root]);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`check one ${BINS}-entry snapshot (${snap.length} bytes): min ${times[0].toFixed(1)} ms, median ${times[10].toFixed(1)} ms`);
    figures['check one snapshot min ms'] = Math.round(times[0] * 10) / 10;
  } finally {
    await server.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }
  return figures;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchWatch(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 100));
}
