// PEP 480 "the index registers the maintainers' keys": the keys and threshold a `claim` recorded
// for `project-<p>` in claimed / recently-claimed, read from a served index (`--index URL`) or a
// copy of its metadata folder (`--from DIR`), and verified as a client verifies them, with tuf-js's
// own TrustedMetadataStore: root (TUF spec 5.3, each next root signed by the one before), timestamp
// (5.4), snapshot (5.5), targets then the claimed role (5.6). The chain starts at the root the
// maintainer gives (`--root`, the same file installers trust) or else at the index's first root.
import { isAbsentStatus } from '../../io/http-transport.js';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import type { PublicKeyJson } from '../../metadata/keys.js';
import { CLAIMED, RECENTLY_CLAIMED, TARGETS, projectRole, versionedFileName } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS, delegatorOf } from '../../metadata/role-graph.js';
import { loadCheckStore } from '../../tuf/self-check-store.js';
import { describeTufError } from '../../tuf/error-classifier.js';

export interface RegisteredMaintainers {
  /** claimed or recently-claimed. */
  delegator: string;
  keys: Record<string, PublicKeyJson>;
  threshold: number;
}

type Get = (name: string) => Promise<Buffer | undefined>;

function getter(source: { index?: string; from?: string }): { get: Get; where: string } {
  if (source.index) {
    const base = source.index.endsWith('/') ? source.index : `${source.index}/`;
    return {
      where: base,
      get: async (name) => {
        const r = await fetch(`${base}metadata/${encodeURIComponent(name)}`);
        if (isAbsentStatus(r.status)) return undefined;
        if (!r.ok) throw new TufpipError('NOT_FOUND', `${base}metadata/${name}: HTTP ${r.status}`);
        return Buffer.from(await r.arrayBuffer());
      },
    };
  }
  const dir = source.from!;
  return { where: dir, get: async (name) => fsp.readFile(path.join(dir, name)).catch(() => undefined) };
}

/**
 * The maintainer keys and threshold the index registered for `project`, or undefined when the
 * source is not an index's metadata (a bundle file) or the project is not claimed there.
 */
export async function registeredMaintainers(source: { index?: string; from?: string }, project: string, rootFile?: string): Promise<RegisteredMaintainers | undefined> {
  if (!source.index && !source.from) return undefined;
  if (source.from && !(await fsp.stat(source.from).catch(() => undefined))?.isDirectory()) return undefined;
  const { get, where } = getter(source);
  const json = (b: Buffer) => JSON.parse(b.toString('utf8')) as { signed: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const at = { role: 'root' };
  try {
    const rootBytes = rootFile ? await fsp.readFile(rootFile) : await get(versionedFileName('root', 1));
    if (!rootBytes) throw new TufpipError('NOT_FOUND', `${where}: no 1.root.json`);
    // TUF spec 5.3: every later root, each verified by the one before (inside the store).
    const roots: Buffer[] = [];
    for (let v = json(rootBytes).signed.version + 1; ; v++) {
      const next = await get(versionedFileName('root', v));
      if (!next) break;
      roots.push(next);
    }
    const timestamp = await get('timestamp.json');
    if (!timestamp) throw new TufpipError('NOT_FOUND', `${where}: no timestamp.json`);
    const snapshot = await get(versionedFileName('snapshot', json(timestamp).signed.meta['snapshot.json'].version));
    if (!snapshot) throw new TufpipError('NOT_FOUND', `${where}: the snapshot the timestamp names is missing`);
    const meta = json(snapshot).signed.meta as Record<string, { version: number }>;
    const chain: [string, Uint8Array, string][] = [];
    for (const [role, parent] of [TARGETS, ...PROJECT_DELEGATORS].map((r) => [r, delegatorOf(r)!])) {
      const v = meta[`${role}.json`]?.version;
      const bytes = v === undefined ? undefined : await get(versionedFileName(role, v));
      if (!bytes) throw new TufpipError('NOT_FOUND', `${where}: ${role} version ${v} is missing`);
      chain.push([role, bytes, parent]);
    }
    const full = loadCheckStore({ rootBytes, laterRoots: roots, newTimestampBytes: timestamp, snapshotBytes: snapshot, chain }, at);
    for (const delegator of PROJECT_DELEGATORS) {
      const signed = full.getRole(delegator);
      if (!signed) continue;
      const raw = json(chain.find(([r]) => r === delegator)![1] as Buffer).signed;
      const d = (raw.delegations?.roles ?? []).find((r: { name: string }) => r.name === projectRole(project));
      if (!d) continue;
      const keys: Record<string, PublicKeyJson> = {};
      for (const id of d.keyids as string[]) keys[id] = raw.delegations.keys[id] as PublicKeyJson;
      return { delegator, keys, threshold: d.threshold as number };
    }
    return undefined;
  } catch (err) {
    if (err instanceof TufpipError) throw err;
    throw new TufpipError('REFUSED', `${where}: the index's metadata does not verify at ${at.role} (${describeTufError(err)}): refusing to take the maintainer keys from it`, { cause: err });
  }
}
