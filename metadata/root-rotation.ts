// The root chain (TUF spec 5.3, "Update the root role"): a client that trusts root version N
// accepts version N+1 only if it is signed by a threshold of N's root keys AND a threshold of its
// own root keys, and its version is exactly N+1. `checkRootChain` reports that for one link, per
// key, so a ceremony can say who still has to sign; it never decides alone what is published
// (repo-tools/txn/self-check.ts runs tuf-js's own updateRoot over the same bytes). Pure.
import type { Envelope, RootSigned } from './builders.js';
import { canonicalize } from './canonical.js';
import { shortKeyId } from './keys.js';
import { checkThreshold, type ThresholdReport } from './threshold.js';

export interface RootChainReport {
  fromVersion: number;
  toVersion: number;
  /** TUF spec 5.3.5: the new version is exactly the trusted version + 1. */
  versionOk: boolean;
  /** TUF spec 5.3.4 (1): threshold of the trusted root's root keys. */
  old: ThresholdReport;
  /** TUF spec 5.3.4 (2): threshold of the new root's own root keys. */
  new: ThresholdReport;
  /** Shape problems of the new root (a threshold no key set can reach, a role key not listed). */
  shape: string[];
  ok: boolean;
  /** One sentence per failed check, naming the spec step. */
  problems: string[];
}

function keyList(ids: string[]): string {
  return ids.length ? ids.map(shortKeyId).join(', ') : 'none';
}

/** Sentence for a threshold: "root v4 needs 2 signatures from the 3 keys of root v3 (...), has 1 (...)". */
export function describeThreshold(subject: string, keysOf: string, r: ThresholdReport): string {
  const bad = r.badSignatures.length ? `; signatures that do not verify: ${keyList(r.badSignatures)}` : '';
  const has = r.signedBy.length ? `${r.signedBy.length} (${keyList(r.signedBy)})` : '0';
  return `${subject} needs ${r.threshold} signature${r.threshold === 1 ? '' : 's'} from the ${r.keyids.length} key${r.keyids.length === 1 ? '' : 's'} of ${keysOf} (${keyList(r.keyids)}), has ${has}${bad}`;
}

/** Problems that make a root unusable whoever signs it (each role must be satisfiable). */
export function checkRootShape(root: RootSigned): string[] {
  const out: string[] = [];
  if (root._type !== 'root') out.push(`_type is ${JSON.stringify(root._type)}, not "root"`);
  for (const name of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
    const r = root.roles?.[name];
    if (!r) {
      out.push(`root v${root.version} has no ${name} role`);
      continue;
    }
    const missing = r.keyids.filter((id) => !root.keys?.[id]);
    if (missing.length) out.push(`root v${root.version}: ${name} lists keys that are not in "keys": ${keyList(missing)}`);
    if (new Set(r.keyids).size !== r.keyids.length) out.push(`root v${root.version}: ${name} lists a key twice`);
    if (!Number.isInteger(r.threshold) || r.threshold < 1 || r.threshold > r.keyids.length) {
      out.push(`root v${root.version}: ${name} threshold ${r.threshold} cannot be reached with ${r.keyids.length} key(s)`);
    }
  }
  return out;
}

/** One link of the root chain: may a client trusting `trusted` move to `next`? */
export function checkRootChain(trusted: RootSigned, next: Envelope<RootSigned>): RootChainReport {
  const bytes = Buffer.from(canonicalize(next.signed), 'utf8');
  const old = checkThreshold(bytes, next.signatures, trusted.keys, trusted.roles.root);
  const self = checkThreshold(bytes, next.signatures, next.signed.keys ?? {}, next.signed.roles?.root ?? { keyids: [], threshold: 1 });
  const versionOk = next.signed.version === trusted.version + 1;
  const shape = checkRootShape(next.signed);
  const problems: string[] = [];
  if (!versionOk) {
    problems.push(`TUF spec 5.3.5: root v${next.signed.version} cannot follow root v${trusted.version}: each root must be the previous version + 1 (expected v${trusted.version + 1})`);
  }
  if (!old.met) problems.push(`TUF spec 5.3.4: ${describeThreshold(`root v${next.signed.version}`, `the trusted root v${trusted.version}`, old)}`);
  if (!self.met) problems.push(`TUF spec 5.3.4: ${describeThreshold(`root v${next.signed.version}`, `its own root role`, self)}`);
  problems.push(...shape);
  return { fromVersion: trusted.version, toVersion: next.signed.version, versionOk, old, new: self, shape, ok: problems.length === 0, problems };
}
