// PEP 480 at scale (issue 4): a client lookup in a developer-signed project with 5,000 files
// (500 releases of 10 files, one small release role each) must stay cheap. The metadata is built
// with the real claim, planRelease and transaction code, signed by a maintainer key, served over
// loopback HTTP, and looked up with IndexClient (tuf-js underneath). Prints figures only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { initRepo } from '../repo-tools/commands/init.js';
import { claimProject } from '../repo-tools/commands/claim.js';
import { writeNewKey } from '../repo-tools/keys/keygen.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { withRepo } from '../repo-tools/txn/open-repo.js';
import { Transaction, signRole } from '../repo-tools/txn/transaction.js';
import { planRelease } from '../metadata/releases.js';
import { canonicalize } from '../metadata/canonical.js';
import { projectRole } from '../metadata/roles.js';
import type { TargetsSigned } from '../metadata/builders.js';
import { serveRepo } from '../repo-tools/commands/serve.js';
import { IndexClient } from '../client/lib/index-client.js';
import { installLinearModels } from '../tuf/linear-models.js';

// A bench entry: parse as the CLIs do (linear @tufjs/models, tuf/linear-models.ts).
installLinearModels();

export async function benchPep480Lookup(releases = 500, filesPerRelease = 10): Promise<Record<string, number>> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-bench-pep480-'));
  const dir = path.join(base, 'repo');
  try {
    await initRepo({ dir, url: 'http://127.0.0.1/', bins: 256 });
    const k = await writeNewKey(path.join(base, 'm'), 'maint');
    await claimProject(dir, 'big', { keyFiles: [k.publicPath], threshold: 1, offlineKey: path.join(dir, 'keys', 'claimed.pem') });
    const signer = privateKeyFromPem(fs.readFileSync(k.privatePath, 'utf8'), 'maint');
    const keys = { [signer.keyid]: signer.publicKey };
    let current: { project: TargetsSigned; releases: Map<string, TargetsSigned> } | undefined;
    const all = new Map<string, TargetsSigned>();
    for (let r = 0; r < releases; r++) {
      const version = `1.${r}`;
      const files = Array.from({ length: filesPerRelease }, (_, i) => ({
        filename: `big-${version}-cp3${i}-none-any.whl`,
        length: 1000 + i,
        sha256: randomBytes(32).toString('hex'),
      }));
      const plan = planRelease({ project: 'big', version, files, current, keys, threshold: 1, now: new Date(), expiresDays: 365 });
      for (const [name, signed] of plan.roles) all.set(name, signed);
      current = { project: all.get(projectRole('big'))!, releases: new Map([...all].filter(([n]) => n !== projectRole('big'))) };
    }
    all.get(projectRole('big'))!.version = 1; // first publication of the project role
    await withRepo(dir, {}, async (ctx) => {
      const tx = new Transaction(ctx, 'bench');
      tx.projectDelegators.set(projectRole('big'), 'claimed');
      for (const [name, signed] of all) tx.putSignedRole(name, await signRole(canonicalize(signed), [signer]), signed.version);
      await tx.commit();
    });
    const projectBytes = fs.statSync(path.join(dir, 'site', 'metadata', `1.${projectRole('big')}.json`)).size;
    const server = await serveRepo(dir, { host: '127.0.0.1', port: 0 });
    const figures: Record<string, number> = {};
    try {
      const client = await IndexClient.open({ indexUrl: server.url, trustedRoot: fs.readFileSync(path.join(dir, 'site', 'metadata', '1.root.json')), dataDir: path.join(base, 'data') });
      let t = performance.now();
      await client.refresh();
      figures['refresh ms'] = Math.round(performance.now() - t);
      t = performance.now();
      const first = await client.lookup(`packages/big/big-1.${releases >> 1}-cp35-none-any.whl`);
      figures['first lookup (claimed, project role, release role) ms'] = Math.round(performance.now() - t);
      t = performance.now();
      await client.lookup(`packages/big/big-1.${releases - 1}-cp30-none-any.whl`);
      figures['lookup in another release (project role cached) ms'] = Math.round(performance.now() - t);
      await client.close();
      console.log(`PEP 480 lookup, project with ${releases * filesPerRelease} files in ${releases} releases (project role ${projectBytes} bytes):`);
      console.log(`  refresh ${figures['refresh ms']} ms; first lookup ${figures['first lookup (claimed, project role, release role) ms']} ms (target 100 ms); next lookup in another release ${figures['lookup in another release (project role cached) ms']} ms`);
      console.log(`  vouched by ${first.vouchedBy.role} (${first.vouchedBy.kind}, ${first.vouchedBy.signedBy.length} of ${first.vouchedBy.threshold})`);
      figures['project role bytes'] = projectBytes;
      return figures;
    } finally {
      await server.close();
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) await benchPep480Lookup();
