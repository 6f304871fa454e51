// An in-memory TUF repository (after python-tuf's RepositorySimulator) with the PEP 458 / PEP 480
// role graph of DESIGN.md: root, targets -> claimed / recently-claimed / bins -> bin-N (TAP 15
// succinct hash bins, online key), claimed -> project-P (developer keys, terminating), snapshot
// and timestamp (online key), consistent snapshots. Built with the project's metadata/ builders
// and canonical JSON, signed with real ed25519 keys through repo-tools' LocalSigner.
//
// It is also the client's fetcher (tuf-js BaseFetcher, the IndexClient `fetcher` option): it
// serves the files of its served tree from memory, so IndexClient (tuf-js's Updater underneath)
// runs the whole TUF client workflow with no HTTP and no clock games. Tampering helpers replace
// served bytes the way an attacker controlling the mirror would; nothing here checks anything.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import {
  binDelegations,
  buildRoot,
  buildSnapshot,
  buildTargets,
  buildTimestamp,
  emptyDelegations,
  serializeEnvelope,
  topDelegations,
  type RootSigned,
  type SnapshotSigned,
  type TargetsSigned,
  type TimestampSigned,
} from '../../metadata/builders.js';
import { canonicalize } from '../../metadata/canonical.js';
import { binForPath } from '../../metadata/hash-bins.js';
import type { PublicKeyJson } from '../../metadata/keys.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP, binName, projectRole } from '../../metadata/roles.js';
import { hashedPath, projectOfTarget, projectPatterns } from '../../metadata/target-paths.js';
import { LocalSigner } from '../../repo-tools/keys/signer.js';

/** One request the simulator answered (the shape of IndexClient.requests). */
export interface SimRequest {
  url: string;
  status: number;
  bytes: number;
}

interface SimRole {
  signed: TargetsSigned;
  signers: LocalSigner[];
  /** Changed since it was last published: publish() bumps its version and signs it again. */
  dirty: boolean;
}

export function newSigner(): LocalSigner {
  return new LocalSigner(generateKeyPairSync('ed25519').privateKey);
}

/** An ISO 8601 time `days` from now, whole seconds (TUF `expires`). */
export function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const keyRef = (s: LocalSigner): { key: PublicKeyJson; keyid: string } => ({ key: s.publicKey, keyid: s.keyid });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class RepositorySimulator extends BaseFetcher {
  /** The index URL the client is opened with (https: no --allow-http needed; never resolved). */
  readonly url = 'https://index.simulator.invalid/';
  readonly binCount: number;
  rootSigners: LocalSigner[] = [newSigner()];
  readonly targetsSigner = newSigner();
  readonly claimedSigner = newSigner();
  readonly recentlyClaimedSigner = newSigner();
  readonly binsSigner = newSigner();
  /** The online key: snapshot, timestamp and every bin-N. */
  readonly onlineSigner = newSigner();
  /** Developer keys of each claimed project (PEP 480). */
  readonly developers = new Map<string, LocalSigner[]>();
  root: RootSigned;
  /** Every targets-type role, by name. */
  readonly roles = new Map<string, SimRole>();
  snapshot?: SnapshotSigned;
  timestamp?: TimestampSigned;
  /** Expiry of the next snapshot and timestamp publish() signs. */
  snapshotExpires = daysFromNow(7);
  timestampExpires = daysFromNow(1);
  /** The served tree: path under `url` -> bytes. */
  readonly files = new Map<string, Buffer>();
  /** Every published timestamp.json, by version (a replay serves an old one). */
  readonly timestamps = new Map<number, Buffer>();
  /** Every request, in order (IndexFetcher `log`). */
  readonly log: SimRequest[] = [];

  constructor(opts: { binCount?: number } = {}) {
    super();
    this.binCount = opts.binCount ?? 4;
    this.root = this.makeRoot(1);
    this.setRole(TARGETS, [this.targetsSigner], topDelegations({ claimed: keyRef(this.claimedSigner), recentlyClaimed: keyRef(this.recentlyClaimedSigner), bins: keyRef(this.binsSigner) }));
    this.setRole(CLAIMED, [this.claimedSigner], emptyDelegations());
    this.setRole(RECENTLY_CLAIMED, [this.recentlyClaimedSigner], emptyDelegations());
    this.setRole(BINS, [this.binsSigner], binDelegations(this.onlineSigner.publicKey, this.onlineSigner.keyid, this.binCount));
    for (let i = 0; i < this.binCount; i++) this.setRole(binName(i, this.binCount), [this.onlineSigner]);
    this.serveRoot(this.rootSigners);
    this.publish();
  }

  // --- the repository ----------------------------------------------------------------------------

  /** Root bytes of `version` as published (what a client is given out of band: version 1). */
  rootBytes(version = 1): Buffer {
    const b = this.files.get(`metadata/${version}.root.json`);
    if (!b) throw new Error(`simulator has no root version ${version}`);
    return b;
  }

  role(name: string): SimRole {
    const r = this.roles.get(name);
    if (!r) throw new Error(`simulator has no role ${name}`);
    return r;
  }

  /**
   * Adds a target file to the served tree (hash-prefixed name, consistent snapshots) and lists it
   * in `role`: by default the project role of a claimed project, else its hash bin.
   */
  addTarget(targetPath: string, bytes: Buffer | string, role?: string): { length: number; sha256: string } {
    const b = Buffer.from(bytes);
    const info = { length: b.length, sha256: sha256(b) };
    this.files.set(hashedPath(targetPath, info.sha256), b);
    const project = projectOfTarget(targetPath);
    const listing = role ?? (project && targetPath.startsWith('packages/') && this.developers.has(project) ? projectRole(project) : binForPath(targetPath, this.binCount));
    const r = this.role(listing);
    r.signed.targets[targetPath] = { length: info.length, hashes: { sha256: info.sha256 } };
    r.dirty = true;
    return info;
  }

  /** PEP 480: `claimed` delegates `packages/<project>/*` to the project's developer keys (terminating). */
  claim(project: string, keyCount = 1): LocalSigner[] {
    const keys = Array.from({ length: keyCount }, newSigner);
    this.developers.set(project, keys);
    const name = projectRole(project);
    this.setRole(name, keys);
    const claimed = this.role(CLAIMED);
    const d = claimed.signed.delegations!;
    for (const k of keys) d.keys[k.keyid] = k.publicKey;
    d.roles!.push({ name, keyids: keys.map((k) => k.keyid).sort(), threshold: keyCount, terminating: true, paths: projectPatterns(project) });
    claimed.dirty = true;
    return keys;
  }

  /**
   * Publishes every changed targets role at its next version, then a new snapshot (versions of
   * every role) and timestamp (TUF spec 4.4 / 4.6), all signed.
   */
  publish(): void {
    for (const [name, r] of this.roles) {
      if (!r.dirty) continue;
      if (this.files.has(`metadata/${r.signed.version}.${name}.json`)) r.signed.version++;
      this.files.set(`metadata/${r.signed.version}.${name}.json`, this.sign(r.signed, r.signers));
      r.dirty = false;
    }
    const versions = new Map([...this.roles].map(([name, r]) => [`${name}.json`, r.signed.version]));
    this.snapshot = buildSnapshot((this.snapshot?.version ?? 0) + 1, this.snapshotExpires, versions);
    const snapshotBytes = this.sign(this.snapshot, [this.onlineSigner]);
    this.files.set(`metadata/${this.snapshot.version}.snapshot.json`, snapshotBytes);
    this.publishTimestamp(buildTimestamp((this.timestamp?.version ?? 0) + 1, this.timestampExpires, { version: this.snapshot.version, length: snapshotBytes.length, sha256: sha256(snapshotBytes) }));
  }

  /** Signs and serves a timestamp (publish() makes the honest one). */
  publishTimestamp(signed: TimestampSigned, signers: LocalSigner[] = [this.onlineSigner]): void {
    this.timestamp = signed;
    const bytes = this.sign(signed, signers);
    this.timestamps.set(signed.version, bytes);
    this.files.set('metadata/timestamp.json', bytes);
  }

  /**
   * TUF spec 5.3: a new root version with `count` new root keys, signed by the old root keys and
   * the new ones (the old threshold vouches for the new root, the new threshold for itself).
   * `signedByOldKeys: false` leaves the old keys' signatures out (an attacker's root).
   */
  rotateRoot(count = 1, opts: { signedByOldKeys?: boolean } = {}): LocalSigner[] {
    const old = opts.signedByOldKeys === false ? [] : this.rootSigners;
    this.rootSigners = Array.from({ length: count }, newSigner);
    this.root = this.makeRoot(this.root.version + 1);
    this.serveRoot([...old, ...this.rootSigners]);
    return this.rootSigners;
  }

  // --- an attacker on the mirror -----------------------------------------------------------------

  /** Serves `bytes` at `servedPath` (any file, metadata or target). */
  serve(servedPath: string, bytes: Buffer | string): void {
    this.files.set(servedPath, Buffer.from(bytes));
  }

  /** The served bytes of `servedPath`. */
  served(servedPath: string): Buffer {
    const b = this.files.get(servedPath);
    if (!b) throw new Error(`simulator serves nothing at ${servedPath}`);
    return b;
  }

  /** Path of the current published metadata of a role (`metadata/timestamp.json` for timestamp). */
  metadataPath(role: string): string {
    if (role === TIMESTAMP) return 'metadata/timestamp.json';
    if (role === SNAPSHOT) return `metadata/${this.snapshot!.version}.snapshot.json`;
    if (role === ROOT) return `metadata/${this.root.version}.root.json`;
    return `metadata/${this.role(role).signed.version}.${role}.json`;
  }

  /** Replaces every signature of a role's served metadata with another valid-looking one (same length). */
  corruptSignatures(role: string): void {
    const p = this.metadataPath(role);
    const env = JSON.parse(this.served(p).toString('utf8')) as { signed: object; signatures: Array<{ keyid: string; sig: string }> };
    const text = canonicalize(env.signed);
    const sigs = env.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }));
    this.files.set(p, Buffer.from(serializeEnvelope(text, sigs), 'utf8'));
  }

  /** Serves the bytes of a target with one byte changed (same length: only the hash can tell). */
  corruptTarget(targetPath: string): void {
    const p = this.targetServedPath(targetPath);
    const b = Buffer.from(this.served(p));
    b[0] ^= 0xff;
    this.files.set(p, b);
  }

  /** Where a listed target is served (hash-prefixed name under consistent snapshots). */
  targetServedPath(targetPath: string): string {
    for (const r of this.roles.values()) {
      const t = r.signed.targets[targetPath];
      if (t) return hashedPath(targetPath, t.hashes.sha256);
    }
    throw new Error(`no role lists ${targetPath}`);
  }

  // --- the fetcher (tuf-js BaseFetcher: it enforces maxLength as bytes arrive) -------------------

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const rel = url.startsWith(this.url) ? decodeURIComponent(url.slice(this.url.length)) : undefined;
    const bytes = rel === undefined ? undefined : this.files.get(rel);
    this.log.push({ url, status: bytes ? 200 : 404, bytes: bytes?.length ?? 0 });
    // TUF spec 5.3.3: a missing file is HTTP 404 (the end of the root chain).
    if (!bytes) throw new DownloadHTTPError(`Failed to download ${url}`, 404);
    return new Blob([bytes]).stream() as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  // --- internals ---------------------------------------------------------------------------------

  private setRole(name: string, signers: LocalSigner[], delegations?: TargetsSigned['delegations']): void {
    this.roles.set(name, { signed: buildTargets(1, daysFromNow(365), {}, delegations), signers, dirty: true });
  }

  private makeRoot(version: number): RootSigned {
    const keys: Record<string, PublicKeyJson> = {};
    const ids = (s: LocalSigner[]) => s.map((k) => k.keyid).sort();
    for (const k of [...this.rootSigners, this.targetsSigner, this.onlineSigner]) keys[k.keyid] = k.publicKey;
    return buildRoot({
      version,
      expires: daysFromNow(365),
      keys,
      roles: {
        root: { keyids: ids(this.rootSigners), threshold: this.rootSigners.length },
        targets: { keyids: ids([this.targetsSigner]), threshold: 1 },
        snapshot: { keyids: ids([this.onlineSigner]), threshold: 1 },
        timestamp: { keyids: ids([this.onlineSigner]), threshold: 1 },
      },
    });
  }

  private serveRoot(signers: LocalSigner[]): void {
    this.files.set(`metadata/${this.root.version}.root.json`, this.sign(this.root, signers));
  }

  /** Serialised metadata: canonical JSON of `signed`, signed by each signer (TUF spec 4.2). */
  private sign(signed: object, signers: LocalSigner[]): Buffer {
    const text = canonicalize(signed);
    const data = Buffer.from(text, 'utf8');
    return Buffer.from(serializeEnvelope(text, signers.map((s) => ({ keyid: s.keyid, sig: s.signSync(data) }))), 'utf8');
  }
}
