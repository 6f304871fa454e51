// Benchmark for tuf/linear-models.ts: Metadata.fromJSON + verifyDelegate (what a tuf-js
// refresh() does per role) on a snapshot with 16,385 entries and a targets role with 10,000
// targets, upstream @tufjs/models 4.1.1 vs patched, plus @tufjs/canonical-json vs fastCanonicalize.
// The originals are quadratic, so they are measured at 1,000 / 2,000 / 4,000 entries (each doubling
// should cost ~4x) rather than waiting ~90 s at full size.
//
// Run: node dist/bench/linear-models.bench.js   (prints one line per figure, in milliseconds)
import { generateKeyPairSync, sign } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Metadata, MetadataKind, type JSONObject } from '../tuf/models.js';
import { fastCanonicalize } from '../metadata/canonical-fast.js';
import { installLinearModels, upstreamMethods, withUpstreamModels } from '../tuf/linear-models.js';

// Upstream @tufjs/canonical-json canonicalize (captured by tuf/linear-models.ts before any patch).
const referenceCanonicalize = upstreamMethods[8] as (value: unknown) => string;

const EXPIRES = '2030-01-01T00:00:00Z';

/** An ed25519 key as TUF metadata names it, and an envelope signer over the reference bytes. */
function ed25519() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyid = 'bench-key';
  const keyJSON = {
    keytype: 'ed25519',
    scheme: 'ed25519',
    keyval: { public: publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('hex') },
  };
  const envelope = (signed: unknown): JSONObject => JSON.parse(JSON.stringify({
    signatures: [{ keyid, sig: sign(null, Buffer.from(referenceCanonicalize(signed)), privateKey).toString('hex') }],
    signed,
  })) as JSONObject;
  return { keyid, keyJSON, envelope };
}

function snapshotSigned(entries: number): JSONObject {
  const meta: JSONObject = {};
  for (let i = 0; i < entries; i++) meta[`bin-${i.toString(16).padStart(4, '0')}.json`] = { version: 5 };
  return { _type: 'snapshot', spec_version: '1.0.31', version: 1, expires: EXPIRES, meta };
}

function targetsSigned(entries: number): JSONObject {
  const targets: JSONObject = {};
  for (let i = 0; i < entries; i++) {
    targets[`pkg-${i}/pkg-${i}-1.0.tar.gz`] = { length: 1000 + i, hashes: { sha256: i.toString(16).padStart(64, '0') } };
  }
  return { _type: 'targets', spec_version: '1.0.31', version: 1, expires: EXPIRES, targets };
}

function millis(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function median(runs: number, fn: () => void): number {
  const times = Array.from({ length: runs }, () => millis(fn)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Figures in milliseconds (and one ratio), keyed by what was measured. */
export async function benchLinearModels(): Promise<Record<string, number>> {
  installLinearModels();

  const key = ed25519();
  const role = { keyids: [key.keyid], threshold: 1 };
  const root = Metadata.fromJSON(MetadataKind.Root, key.envelope({
    _type: 'root', spec_version: '1.0.31', version: 1, expires: EXPIRES, consistent_snapshot: true,
    keys: { [key.keyid]: key.keyJSON }, roles: { root: role, targets: role, snapshot: role, timestamp: role },
  }));

  const loadAndVerify = {
    snapshot: (json: JSONObject) => () => root.verifyDelegate('snapshot', Metadata.fromJSON(MetadataKind.Snapshot, json)),
    targets: (json: JSONObject) => () => root.verifyDelegate('targets', Metadata.fromJSON(MetadataKind.Targets, json)),
  };
  const cases = [
    { name: 'snapshot', build: snapshotSigned, full: 16385 },
    { name: 'targets', build: targetsSigned, full: 10000 },
  ] as const;

  const figures: Record<string, number> = {};
  for (const { name, build, full } of cases) {
    for (const entries of [1000, 2000, 4000]) {
      const run = loadAndVerify[name](key.envelope(build(entries)));
      figures[`${name} fromJSON+verifyDelegate original ${entries} entries ms`] =
        withUpstreamModels(() => millis(run));
      figures[`${name} fromJSON+verifyDelegate patched ${entries} entries ms`] = median(5, run);
    }
    const largest = figures[`${name} fromJSON+verifyDelegate original 4000 entries ms`];
    figures[`${name} fromJSON+verifyDelegate original ${full} entries ms (extrapolated, x(${full}/4000)^2)`] =
      largest * (full / 4000) ** 2;
    figures[`${name} fromJSON+verifyDelegate patched ${full} entries ms`] =
      median(5, loadAndVerify[name](key.envelope(build(full))));
  }

  const signed = Metadata.fromJSON(MetadataKind.Snapshot, key.envelope(snapshotSigned(16385))).signed.toJSON();
  const reference = median(21, () => referenceCanonicalize(signed));
  const fast = median(21, () => fastCanonicalize(signed));
  figures['canonicalize reference (@tufjs/canonical-json) snapshot 16385 entries ms'] = reference;
  figures['canonicalize fastCanonicalize snapshot 16385 entries ms'] = fast;
  figures['canonicalize speedup x'] = reference / fast;
  return figures;
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const figures = await benchLinearModels();
  for (const [name, value] of Object.entries(figures)) {
    console.log(`${name}: ${Number.isNaN(value) ? 'n/a (upstream methods were patched before the bench loaded)' : value.toFixed(1)}`);
  }
}
