// The published state of a repository, read through the storage seam (storage.ts: the `metadata`
// area, site/metadata on local disk) the way clients reach it:
// timestamp.json -> N.snapshot.json -> versioned role files. What timestamp.json names is the
// truth; anything else on disk is either history or an unfinished transaction's leftovers.
//
// Everything a command builds on is verified first, the way a client would (found by
// test/repo-faults-bad-input.test.ts): `add` and cron's `bump` copy the published content of a
// bin into the new version they sign with the online key, so a bin edited on disk (a target
// injected into site/, no key needed) was re-signed and served as genuine, and a timestamp.json
// with a forged version made the next one "version 1e300". Now the root chain (TUF spec 5.3.4),
// timestamp.json (signed by the root's timestamp keys), the snapshot (length and hash named by
// that timestamp), and every role the repository signs or builds on (signed by its delegator,
// version as the snapshot names it) must verify, and files of the wrong shape or naming roles
// outside the role graph are refused with the file named. Expiry is not checked here: `bump`
// must be able to re-sign an expired repository. Cost: one signature check per role read (ed25519
// verify is ~3x a signature here): a `bump` re-signing all 16,384 bins takes ~2 s more.
import { Metadata, MetadataKind } from '../../tuf/models.js';
import type { Envelope, RootSigned, SnapshotSigned, TargetsSigned, TimestampSigned } from '../../metadata/builders.js';
import { TufpipError } from '../../metadata/errors.js';
import { ROOT, TARGETS, TIMESTAMP, TOP_LEVEL_ROLES, isProjectRole, isTargetsRoleName, versionedFileName } from '../../metadata/roles.js';
import { delegatorOf } from '../../metadata/role-graph.js';
import { verifyDelegate, type DelegatorSigned, type ThresholdReport } from '../../metadata/threshold.js';
import { canonicalize } from '../../metadata/canonical.js';
import { parseEnvelope, parseJsonText } from '../../metadata/envelope.js';
import type { RepoLayout } from './layout.js';
import type { StorageReader } from './storage.js';
import { SnapshotText } from '../../metadata/snapshot-text.js';

export type AnyMetadata = Metadata<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Parses with @tufjs/models (types and required fields checked), naming the file on failure.
 * `parsed`: the file's JSON.parse result when the caller already has it (fromJSON does not
 * change its input; a 1M-target build parsed each of its 16,384 bins twice).
 */
function parseModel(kind: MetadataKind, bytes: Buffer, where: string, parsed?: unknown): AnyMetadata {
  const json = parsed === undefined ? parseJsonText(bytes.toString('utf8'), `published ${where}`) : parsed;
  try {
    return Metadata.fromJSON(kind as MetadataKind.Targets, json as Parameters<typeof Metadata.fromJSON>[1]);
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `published ${where} is not valid ${kind} metadata: ${(err as Error).message}`, { cause: err });
  }
}

// The JSON of a delegator model, once per model (a bulk rebuild checks 16,384 bins against one `bins`).
const delegatorJsons = new WeakMap<AnyMetadata, DelegatorSigned>();
function delegatorJson(md: AnyMetadata): DelegatorSigned {
  let j = delegatorJsons.get(md);
  if (!j) delegatorJsons.set(md, (j = md.signed.toJSON() as DelegatorSigned));
  return j;
}

/**
 * TUF spec 5.3.4 / 5.4.2 / 5.5.3 / 5.6.3 on parsed models, by the one threshold verifier
 * (metadata/threshold.ts): `role` in `md` is signed by a threshold of the keys `delegator` trusts
 * it with, over the canonical form of what the model parsed (as tuf-js signs and verifies it).
 * Throws ThresholdError with @tufjs/models' messages (`<role> was signed by N/T keys`).
 */
export function verifyModelDelegate(delegator: AnyMetadata, role: string, md: AnyMetadata): ThresholdReport {
  const signed = Buffer.from(canonicalize(md.signed.toJSON()), 'utf8');
  const signatures = Object.values(md.signatures as Record<string, { keyID: string; sig: string }>).map((s) => ({ keyid: s.keyID, sig: s.sig }));
  return verifyDelegate(delegatorJson(delegator), role, signed, signatures);
}

/** verifyModelDelegate, naming the published file on failure. */
function verifySignedBy(delegator: AnyMetadata, role: string, md: AnyMetadata, where: string): void {
  try {
    verifyModelDelegate(delegator, role, md);
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `published ${where} failed verification (${(err as Error).message}): it was changed after signing or is corrupted; refusing to build on it`, { cause: err });
  }
}

/**
 * A published targets-type role, checked before anything is built on it: its shape
 * (@tufjs/models), the version the snapshot names, and (when `delegator` is given) a threshold of
 * the delegator's keys (TUF spec 5.6.3). Also used by the workers of a bulk rebuild (bin-rebuild.ts).
 */
export function verifiedRoleModel(name: string, bytes: Buffer, file: string, version: number, delegator?: AnyMetadata, parsed?: unknown): AnyMetadata {
  const md = parseModel(MetadataKind.Targets, bytes, file, parsed);
  if (md.signed.version !== version) throw new TufpipError('BAD_INPUT', `published ${file} holds version ${md.signed.version} of ${name}; refusing to build on it`);
  if (delegator) verifySignedBy(delegator, name, md, file);
  return md;
}

/**
 * A published bin at the version the snapshot names, read through `reader` and verified against
 * the published `bins` model (verifiedRoleModel): what a thread of a bulk rebuild or a bin scan
 * starts from. Throws a TufpipError naming the file.
 */
export async function readVerifiedBin(reader: StorageReader, binsModel: AnyMetadata, name: string, version: number): Promise<{ bytes: Buffer; env: Envelope<TargetsSigned> }> {
  const file = versionedFileName(name, version);
  const bytes = await readPublishedRole(reader, file);
  const env = parseEnvelope<TargetsSigned>(bytes, file);
  verifiedRoleModel(name, bytes, file, version, binsModel, env);
  return { bytes, env };
}

/**
 * An object of the metadata area, or undefined when there is none; an object that cannot be read
 * counts as missing (`error` says why).
 */
async function readMetadata(reader: StorageReader, name: string): Promise<{ bytes?: Buffer; error?: unknown }> {
  try {
    return { bytes: await reader.read('metadata', name) };
  } catch (error) {
    return { error };
  }
}

function missing(message: string, error: unknown): TufpipError {
  return new TufpipError('NOT_FOUND', message, error === undefined ? undefined : { cause: error });
}

/** The published role file `file` of the metadata area; NOT_FOUND names it when missing. */
export async function readPublishedRole(reader: StorageReader, file: string): Promise<Buffer> {
  // One await on the backend (no helper in between): a bulk rebuild reads 16,384 bins here.
  let bytes: Buffer | undefined;
  let error: unknown;
  try {
    bytes = await reader.read('metadata', file);
  } catch (err) {
    error = err;
  }
  if (!bytes) throw missing(`published role ${file} is missing`, error);
  return bytes;
}

export interface LoadedRole {
  name: string;
  version: number;
  bytes: Buffer;
  signed: TargetsSigned;
  signatures: Envelope['signatures'];
}

/** A published metadata object; NOT_FOUND names where it should be when missing. */
async function readOr(reader: StorageReader, name: string, what: string): Promise<Buffer> {
  const { bytes, error } = await readMetadata(reader, name);
  if (!bytes) throw missing(`published ${what} is missing: ${reader.where('metadata', name)}`, error);
  return bytes;
}

export class Published {
  /** The repository directory: private local state beside the published objects (expiry-cache.ts). */
  readonly layout: RepoLayout;
  /** Where the published objects are read from. */
  readonly storage: StorageReader;
  rootVersion = 0;
  rootBytes!: Buffer;
  root!: Envelope<RootSigned>;
  timestampBytes!: Buffer;
  timestamp!: Envelope<TimestampSigned>;
  snapshotBytes!: Buffer;
  private snapshotParsed?: { version: number; expires: string; versions: Map<string, number> };
  private snapshotTextRead?: { text?: SnapshotText };
  private snapshotName = '';
  private roles = new Map<string, LoadedRole>();
  private rootModel!: AnyMetadata;
  private previousRootModel?: AnyMetadata;
  /** True when the newest root was written by a `publish` that did not reach timestamp.json. */
  interruptedRootPublish = false;
  private models = new Map<string, AnyMetadata>();

  private constructor(layout: RepoLayout, storage: StorageReader) {
    this.layout = layout;
    this.storage = storage;
  }

  /** The published state of the repository `layout`, read through `storage` (its `metadata` area). */
  static async load(layout: RepoLayout, storage: StorageReader): Promise<Published> {
    const p = new Published(layout, storage);
    await p.loadRoot();
    p.timestampBytes = await readOr(storage, 'timestamp.json', 'timestamp');
    p.timestamp = parseEnvelope<TimestampSigned>(p.timestampBytes, 'timestamp.json');
    // TUF spec 5.4.2: signed by the root's timestamp keys; and it names the snapshot only.
    const ts = parseModel(MetadataKind.Timestamp, p.timestampBytes, 'timestamp.json');
    try {
      verifySignedBy(p.rootModel, TIMESTAMP, ts, 'timestamp.json');
    } catch (err) {
      // A `publish` killed after writing root N but before timestamp.json: what is published was
      // signed under root N-1 (clients may already hold N, so N is never removed). Existing files
      // are verified against N-1, and only `publish` may run, to finish the transaction.
      if (!p.previousRootModel) throw err;
      verifySignedBy(p.previousRootModel, TIMESTAMP, ts, 'timestamp.json');
      p.rootModel = p.previousRootModel;
      p.interruptedRootPublish = true;
    }
    const named = Object.keys((p.timestamp.signed as { meta?: object }).meta ?? {});
    if (named.length !== 1) throw new TufpipError('BAD_INPUT', `published timestamp.json names metadata other than snapshot.json (${named.filter((n) => n !== 'snapshot.json').join(', ')}); refusing to build on it`);
    const snapVersion = p.timestamp.signed.meta['snapshot.json'].version;
    const snapName = versionedFileName('snapshot', snapVersion);
    p.snapshotBytes = await readOr(storage, snapName, `snapshot ${snapName}`);
    p.snapshotName = snapName;
    // TUF spec 5.5.2: the snapshot is the one the timestamp names (length and hashes).
    try {
      (ts.signed as { snapshotMeta: { verify(data: Buffer): void } }).snapshotMeta.verify(p.snapshotBytes);
    } catch (err) {
      throw new TufpipError('BAD_INPUT', `published ${snapName} is not the snapshot timestamp.json names (${(err as Error).message}): it is corrupted or was changed; refusing to build on it`, { cause: err });
    }
    return p;
  }

  /** The published snapshot, parsed on first use (a timestamp-only bump never needs it). */
  get snapshot(): { version: number; expires: string } {
    return this.snapshotText ?? this.parseSnapshot();
  }

  /**
   * The published snapshot as text when it is in tufpip's canonical shape (every entry checked:
   * metadata/snapshot-text.ts), so that an `add` reads and edits a few entries of a 16,385-entry
   * snapshot without parsing it; undefined otherwise (callers then use `versions`).
   */
  get snapshotText(): SnapshotText | undefined {
    this.snapshotTextRead ??= { text: SnapshotText.fromBytes(this.snapshotBytes) };
    return this.snapshotTextRead.text;
  }

  /** snapshot meta: "<role>.json" -> version */
  get versions(): Map<string, number> {
    return this.parseSnapshot().versions;
  }

  /** Snapshot version named by the timestamp (no parse). */
  get snapshotVersion(): number {
    return this.timestamp.signed.meta['snapshot.json'].version;
  }

  private parseSnapshot(): { version: number; expires: string; versions: Map<string, number> } {
    if (!this.snapshotParsed) {
      const snap = parseEnvelope<SnapshotSigned>(this.snapshotBytes, this.snapshotName);
      const meta: unknown = snap.signed.meta;
      if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new TufpipError('BAD_INPUT', `published ${this.snapshotName} is not valid snapshot metadata: meta must be an object`);
      const versions = new Map<string, number>();
      for (const [name, info] of Object.entries(snap.signed.meta)) {
        const role = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
        if (!isTargetsRoleName(role)) throw new TufpipError('BAD_INPUT', `published ${this.snapshotName} lists an unknown role ${JSON.stringify(name)}; refusing to build on it`);
        if (!Number.isSafeInteger(info?.version) || info.version < 1) throw new TufpipError('BAD_INPUT', `published ${this.snapshotName}: version of ${name} must be a positive integer, got ${JSON.stringify(info?.version)}`);
        versions.set(name, info.version);
      }
      this.snapshotParsed = { version: snap.signed.version, expires: snap.signed.expires, versions };
    }
    return this.snapshotParsed;
  }

  /** Highest N with N.root.json (root versions are never deleted, so they are contiguous). */
  private async loadRoot(): Promise<void> {
    // Probing reads the versions it finds (the chain below needs them all). One that is there but
    // cannot be read ends the probe as the newest: the chain refuses it, naming it (NOT_FOUND),
    // rather than building on an older root.
    const probed = new Map<number, Buffer>();
    let n = 1;
    for (;;) {
      const { bytes, error } = await readMetadata(this.storage, versionedFileName(ROOT, n + 1));
      if (!bytes && error === undefined) break;
      n++;
      if (!bytes) break;
      probed.set(n, bytes);
    }
    const readRoot = (file: string, v: number) => probed.get(v) ?? readOr(this.storage, file, `root ${file}`);
    const name = versionedFileName(ROOT, n);
    this.rootBytes = await readRoot(name, n);
    this.root = parseEnvelope<RootSigned>(this.rootBytes, name);
    this.rootVersion = n;
    // TUF spec 5.3.4: 1.root.json is signed by a threshold of its own keys, and each next version
    // by a threshold of the previous version's keys and of its own, with the version it is named by.
    let trusted: AnyMetadata | undefined;
    for (let v = 1; v <= n; v++) {
      const file = versionedFileName(ROOT, v);
      const bytes = v === n ? this.rootBytes : await readRoot(file, v);
      const md = parseModel(MetadataKind.Root, bytes, file);
      const extra = Object.keys((md.signed as { roles: object }).roles).filter((r) => !(TOP_LEVEL_ROLES as readonly string[]).includes(r));
      if (extra.length) throw new TufpipError('BAD_INPUT', `published ${file} names unknown top-level roles (${extra.join(', ')}); refusing to build on it`);
      if (trusted) verifySignedBy(trusted, ROOT, md, file);
      verifySignedBy(md, ROOT, md, file);
      if (md.signed.version !== v) throw new TufpipError('BAD_INPUT', `published ${file} holds root version ${md.signed.version}; refusing to build on it`);
      if (v === n) this.previousRootModel = trusted;
      trusted = md;
    }
    this.rootModel = trusted!;
  }

  /**
   * The verified model of a role the repository signs or builds on, checked against its delegator
   * (root -> targets -> claimed / recently-claimed / bins -> bin-*). Developer-signed project roles
   * are never re-signed by the repository: their shape is checked, their signatures by the
   * transaction's self-check and by clients.
   */
  private async verifiedModel(name: string, bytes: Buffer, file: string, version: number, parsed?: unknown): Promise<AnyMetadata> {
    const by = isProjectRole(name) ? undefined : delegatorOf(name);
    const delegator = by === ROOT ? this.rootModel : by === undefined ? undefined : await this.model(by);
    const md = verifiedRoleModel(name, bytes, file, version, delegator, parsed);
    this.models.set(name, md);
    return md;
  }

  private async model(name: string): Promise<AnyMetadata> {
    const cached = this.models.get(name);
    if (cached) return cached;
    await this.role(name);
    return this.models.get(name)!;
  }

  versionOf(role: string): number | undefined {
    if (!this.snapshotParsed && this.snapshotText && this.textLookups++ < 64) return this.snapshotText.versionOf(`${role}.json`);
    return this.versions.get(`${role}.json`);
  }

  /** Lookups answered by text search; past a few dozen, one parse of the whole snapshot is cheaper. */
  private textLookups = 0;

  /** A targets-type role at the version the published snapshot names. */
  async role(name: string): Promise<LoadedRole> {
    const cached = this.roles.get(name);
    if (cached) return cached;
    const version = this.versionOf(name);
    if (version === undefined) throw new TufpipError('NOT_FOUND', `role ${name} is not in the published snapshot`);
    const file = versionedFileName(name, version);
    // Inline rather than readPublishedRole: one await per role (`status` reads all 16,384 bins).
    let bytes: Buffer | undefined;
    let error: unknown;
    try {
      bytes = await this.storage.read('metadata', file);
    } catch (err) {
      error = err;
    }
    if (!bytes) throw missing(`published role ${file} is missing`, error);
    const env = parseEnvelope<TargetsSigned>(bytes, file);
    await this.verifiedModel(name, bytes, file, version, env);
    const loaded: LoadedRole = { name, version, bytes, signed: env.signed, signatures: env.signatures };
    this.roles.set(name, loaded);
    return loaded;
  }
}
