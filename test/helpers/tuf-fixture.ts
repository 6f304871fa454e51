// A hand-built TUF repository for client tests that need shapes `tufpip-repo` does not make (yet):
// PEP 480 project roles, diamond delegations, expired, rolled-back or mis-signed metadata. Built with
// the project's metadata builders and canonical JSON, signed with node:crypto ed25519 keys
// (the same bytes repo-tools/txn/transaction.ts signRole produces), written as a served tree
// (consistent snapshots) and served on loopback with the repository's own static server.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildRoot,
  buildTargets,
  buildTimestamp,
  serializeEnvelope,
  type DelegatedRoleJson,
  type DelegationsJson,
  type RootSigned,
  type TargetsSigned,
  type TimestampSigned,
} from '../../metadata/builders.js';
import { canonicalize } from '../../metadata/canonical.js';
import { ed25519KeyJson, keyIdOf, type PublicKeyJson } from '../../metadata/keys.js';
import { SPEC_VERSION } from '../../metadata/profile.js';
import { hashedPath } from '../../metadata/target-paths.js';
import { createSiteServer } from '../../repo-tools/commands/serve.js';
import { writeFileAtomicSync } from '../../io/atomic-file.js';
import { tmpDir } from './tmp.js';

export interface TestKey {
  keyid: string;
  pub: PublicKeyJson;
  priv: KeyObject;
}

export function newKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const pub = ed25519KeyJson(raw);
  return { keyid: keyIdOf(pub), pub, priv: privateKey };
}

/** Serialised metadata: canonical JSON of the signed part, signed by each key. */
export function signEnvelope(signed: object, keys: TestKey[]): Buffer {
  const text = canonicalize(signed);
  const sigs = keys.map((k) => ({ keyid: k.keyid, sig: sign(null, Buffer.from(text, 'utf8'), k.priv).toString('hex') }));
  return Buffer.from(serializeEnvelope(text, sigs), 'utf8');
}

export function isoDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function delegation(name: string, keys: TestKey[], paths: string[], opts: { threshold?: number; terminating?: boolean } = {}): DelegatedRoleJson {
  return { name, keyids: keys.map((k) => k.keyid), threshold: opts.threshold ?? keys.length, terminating: opts.terminating ?? false, paths };
}

export function delegationsOf(roles: Array<{ role: DelegatedRoleJson; keys: TestKey[] }>): DelegationsJson {
  const keys: Record<string, PublicKeyJson> = {};
  for (const r of roles) for (const k of r.keys) keys[k.keyid] = k.pub;
  return { keys, roles: roles.map((r) => r.role) };
}

export interface FixtureRole {
  signed: TargetsSigned;
  signers: TestKey[];
}

export class TufFixture {
  readonly site = path.join(tmpDir('tufpip-fixture-'), 'site');
  readonly rootKeys = [newKey()];
  readonly targetsKey = newKey();
  readonly snapshotKey = newKey();
  readonly timestampKey = newKey();
  root: RootSigned;
  rootSigners: TestKey[];
  /** Every targets role, `targets` included, by name. */
  readonly roles = new Map<string, FixtureRole>();
  snapshotVersion = 0;
  timestampVersion = 0;
  snapshotExpires = isoDays(7);
  timestampExpires = isoDays(1);
  /** Bytes of every published timestamp.json, by version (to replay one). */
  readonly timestamps = new Map<number, Buffer>();
  private server?: ReturnType<typeof createSiteServer>;
  url = '';
  /** Every request the server answered: "GET /metadata/timestamp.json 200". */
  readonly requests: string[] = [];

  constructor() {
    this.root = this.makeRoot(1, this.rootKeys);
    this.rootSigners = this.rootKeys;
    this.roles.set('targets', { signed: buildTargets(1, isoDays(365), {}), signers: [this.targetsKey] });
    fs.mkdirSync(path.join(this.site, 'metadata'), { recursive: true });
    this.writeRoot();
  }

  makeRoot(version: number, rootKeys: TestKey[]): RootSigned {
    const keys: Record<string, PublicKeyJson> = {};
    for (const k of [...rootKeys, this.targetsKey, this.snapshotKey, this.timestampKey]) keys[k.keyid] = k.pub;
    return buildRoot({
      version,
      expires: isoDays(365),
      keys,
      roles: {
        root: { keyids: rootKeys.map((k) => k.keyid), threshold: 1 },
        targets: { keyids: [this.targetsKey.keyid], threshold: 1 },
        snapshot: { keyids: [this.snapshotKey.keyid], threshold: 1 },
        timestamp: { keyids: [this.timestampKey.keyid], threshold: 1 },
      },
    });
  }

  get metadataDir(): string {
    return path.join(this.site, 'metadata');
  }

  rootFile(version = 1): string {
    return path.join(this.metadataDir, `${version}.root.json`);
  }

  /** Writes `<version>.root.json` of the current root, signed by rootSigners. */
  writeRoot(): void {
    writeFileAtomicSync(this.rootFile(this.root.version), signEnvelope(this.root, this.rootSigners));
  }

  role(name: string): FixtureRole {
    const r = this.roles.get(name);
    if (!r) throw new Error(`fixture has no role ${name}`);
    return r;
  }

  setRole(name: string, signers: TestKey[], delegations?: DelegationsJson, version = 1): FixtureRole {
    const r = { signed: buildTargets(version, isoDays(365), {}, delegations), signers };
    this.roles.set(name, r);
    return r;
  }

  /** Writes a target file (plain and hash-prefixed names) and lists it in `role`. */
  addTarget(role: string, targetPath: string, bytes: Buffer): void {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    for (const p of [targetPath, hashedPath(targetPath, sha256)]) {
      const file = path.join(this.site, p);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomicSync(file, bytes);
    }
    this.role(role).signed.targets[targetPath] = { length: bytes.length, hashes: { sha256 } };
  }

  /** Serialised role as published (also used to sign it differently in tests). */
  roleBytes(name: string): Buffer {
    const r = this.role(name);
    return signEnvelope(r.signed, r.signers);
  }

  /** Publishes every targets role at its current version, then a new snapshot and timestamp. */
  publish(): void {
    const meta: Record<string, { version: number }> = {};
    for (const [name, r] of this.roles) {
      writeFileAtomicSync(path.join(this.metadataDir, `${r.signed.version}.${name}.json`), this.roleBytes(name));
      meta[`${name}.json`] = { version: r.signed.version };
    }
    this.snapshotVersion++;
    const snapshot = { _type: 'snapshot', spec_version: SPEC_VERSION, version: this.snapshotVersion, expires: this.snapshotExpires, meta };
    const snapshotBytes = signEnvelope(snapshot, [this.snapshotKey]);
    writeFileAtomicSync(path.join(this.metadataDir, `${this.snapshotVersion}.snapshot.json`), snapshotBytes);
    this.writeTimestamp(
      buildTimestamp(++this.timestampVersion, this.timestampExpires, {
        version: this.snapshotVersion,
        length: snapshotBytes.length,
        sha256: createHash('sha256').update(snapshotBytes).digest('hex'),
      }),
    );
  }

  writeTimestamp(signed: TimestampSigned, keys: TestKey[] = [this.timestampKey]): void {
    const bytes = signEnvelope(signed, keys);
    this.timestamps.set(signed.version, bytes);
    writeFileAtomicSync(path.join(this.metadataDir, 'timestamp.json'), bytes);
  }

  /** Bumps a role's version (after editing it). */
  bump(name: string): void {
    this.role(name).signed.version++;
  }

  async serve(): Promise<string> {
    const server = createSiteServer(this.site, (line) => this.requests.push(line));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
