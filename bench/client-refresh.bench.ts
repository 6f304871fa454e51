// Client refresh against a PEP 458-sized repository (`tufpip-repo init --bins 16384`, a 16,385-role
// snapshot) served on loopback: a cold refresh (empty metadata cache) plus the first lookup (bins and
// one bin), then a warm refresh with nothing changed on the server, counting its metadata requests
// (issue 3: one metadata download, timestamp.json; the next-root probe answers 404).
// Stock tuf-js 5.0.1 spends ~92 s of a cold refresh parsing this snapshot (issue 3); see
// bench/linear-models.bench.ts for the parsing figures themselves.
//
// Run: node dist/bench/client-refresh.bench.js [BINS]   (prints the figures; default 16384 bins)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { IndexClient } from '../client/index.js';
import { serveRepo } from '../repo-tools/commands/serve.js';

export interface ClientRefreshFigures extends Record<string, number> {
  bins: number;
  'snapshot bytes': number;
  'cold refresh ms': number;
  'cold first lookup ms': number;
  'cold metadata requests': number;
  'warm refresh ms': number;
  'warm metadata requests': number;
  'warm metadata downloads (HTTP 200)': number;
  'warm lookup requests': number;
}

export async function benchClientRefresh(bins = 16384): Promise<ClientRefreshFigures> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-client-'));
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tufpip-repo.js');
  const dir = path.join(base, 'repo');
  execFileSync(process.execPath, [cli, 'init', dir, '--url', 'http://127.0.0.1:8080/', '--bins', String(bins)], { stdio: 'ignore' });
  const server = await serveRepo(dir, { host: '127.0.0.1', port: 0 });
  const dataDir = path.join(base, 'data');
  const trustedRoot = fs.readFileSync(path.join(dir, 'site', 'metadata', '1.root.json'));
  const target = 'simple/index.html';
  try {
    const cold = await IndexClient.open({ indexUrl: server.url, dataDir, trustedRoot });
    let t = performance.now();
    await cold.refresh();
    const coldRefresh = performance.now() - t;
    t = performance.now();
    await cold.lookup(target);
    const coldLookup = performance.now() - t;
    const snapshot = cold.requests.find((r) => /\/\d+\.snapshot\.json$/.test(r.url));
    const coldRequests = cold.requests.length;
    await cold.close();

    const warm = await IndexClient.open({ indexUrl: server.url, dataDir, trustedRoot });
    t = performance.now();
    await warm.refresh();
    const warmRefresh = performance.now() - t;
    const warmRequests = [...warm.requests];
    await warm.lookup(target);
    const warmLookupRequests = warm.requests.length - warmRequests.length;
    await warm.close();

    const figures: ClientRefreshFigures = {
      bins,
      'snapshot bytes': snapshot?.bytes ?? 0,
      'cold refresh ms': Math.round(coldRefresh),
      'cold first lookup ms': Math.round(coldLookup),
      'cold metadata requests': coldRequests,
      'warm refresh ms': Math.round(warmRefresh),
      'warm metadata requests': warmRequests.length,
      'warm metadata downloads (HTTP 200)': warmRequests.filter((r) => r.status === 200).length,
      'warm lookup requests': warmLookupRequests,
    };
    console.log(`client refresh, ${bins} bins (snapshot ${figures['snapshot bytes']} bytes):`);
    console.log(`  cold refresh ${figures['cold refresh ms']} ms (+ first lookup ${figures['cold first lookup ms']} ms), ${coldRequests} metadata requests`);
    console.log(
      `  warm refresh ${figures['warm refresh ms']} ms, ${warmRequests.length} metadata requests: ` +
        warmRequests.map((r) => `${path.basename(new URL(r.url).pathname)} ${r.status}`).join(', ') +
        `; then a lookup: ${warmLookupRequests} requests`,
    );
    return figures;
  } finally {
    await server.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const arg = Number(process.argv[2]);
  await benchClientRefresh(arg > 0 ? arg : undefined);
}
