// The published state of a repository, read from site/metadata the way the web server serves it:
// timestamp.json -> N.snapshot.json -> versioned role files. What timestamp.json names is the
// truth; anything else on disk is either history or an unfinished transaction's leftovers.
import fsp from 'node:fs/promises';
import fs from 'node:fs';
import type { Envelope, RootSigned, SnapshotSigned, TargetsSigned, TimestampSigned } from '../../metadata/builders.js';
import { TufpipError } from '../../metadata/errors.js';
import { ROOT, versionedFileName } from '../../metadata/roles.js';
import type { RepoLayout } from './layout.js';

export interface LoadedRole {
  name: string;
  version: number;
  bytes: Buffer;
  signed: TargetsSigned;
  signatures: Envelope['signatures'];
}

export function parseEnvelope<T>(bytes: Buffer, where: string): { signatures: Envelope['signatures']; signed: T } {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${where} is not valid JSON`, { cause: err });
  }
  const e = v as { signatures?: unknown; signed?: unknown };
  if (!e || typeof e !== 'object' || !Array.isArray(e.signatures) || !e.signed || typeof e.signed !== 'object') {
    throw new TufpipError('BAD_INPUT', `${where} is not TUF metadata (needs "signed" and "signatures")`);
  }
  return e as { signatures: Envelope['signatures']; signed: T };
}

async function readFileOr(file: string, what: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `published ${what} is missing: ${file}`, { cause: err });
  }
}

export class Published {
  readonly layout: RepoLayout;
  rootVersion = 0;
  rootBytes!: Buffer;
  root!: Envelope<RootSigned>;
  timestampBytes!: Buffer;
  timestamp!: Envelope<TimestampSigned>;
  snapshotBytes!: Buffer;
  private snapshotParsed?: { version: number; expires: string; versions: Map<string, number> };
  private snapshotName = '';
  private roles = new Map<string, LoadedRole>();

  private constructor(layout: RepoLayout) {
    this.layout = layout;
  }

  static async load(layout: RepoLayout): Promise<Published> {
    const p = new Published(layout);
    await p.loadRoot();
    p.timestampBytes = await readFileOr(layout.metadataFile('timestamp.json'), 'timestamp');
    p.timestamp = parseEnvelope<TimestampSigned>(p.timestampBytes, 'timestamp.json');
    const snapVersion = p.timestamp.signed.meta['snapshot.json'].version;
    const snapName = versionedFileName('snapshot', snapVersion);
    p.snapshotBytes = await readFileOr(layout.metadataFile(snapName), `snapshot ${snapName}`);
    p.snapshotName = snapName;
    return p;
  }

  /** The published snapshot, parsed on first use (a timestamp-only bump never needs it). */
  get snapshot(): { version: number; expires: string } {
    return this.parseSnapshot();
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
      const versions = new Map<string, number>();
      for (const [name, info] of Object.entries(snap.signed.meta)) versions.set(name, info.version);
      this.snapshotParsed = { version: snap.signed.version, expires: snap.signed.expires, versions };
    }
    return this.snapshotParsed;
  }

  /** Highest N with N.root.json (root versions are never deleted, so they are contiguous). */
  private async loadRoot(): Promise<void> {
    let n = 1;
    while (fs.existsSync(this.layout.metadataFile(versionedFileName(ROOT, n + 1)))) n++;
    const name = versionedFileName(ROOT, n);
    this.rootBytes = await readFileOr(this.layout.metadataFile(name), `root ${name}`);
    this.root = parseEnvelope<RootSigned>(this.rootBytes, name);
    this.rootVersion = n;
  }

  versionOf(role: string): number | undefined {
    return this.versions.get(`${role}.json`);
  }

  /** A targets-type role at the version the published snapshot names. */
  async role(name: string): Promise<LoadedRole> {
    const cached = this.roles.get(name);
    if (cached) return cached;
    const version = this.versionOf(name);
    if (version === undefined) throw new TufpipError('NOT_FOUND', `role ${name} is not in the published snapshot`);
    const file = versionedFileName(name, version);
    let bytes: Buffer;
    try {
      // Synchronous: a transaction may read thousands of bins, and each async read is a
      // thread-pool round trip.
      bytes = fs.readFileSync(this.layout.metadataFile(file));
    } catch (err) {
      throw new TufpipError('NOT_FOUND', `published role ${file} is missing`, { cause: err });
    }
    const env = parseEnvelope<TargetsSigned>(bytes, file);
    const loaded: LoadedRole = { name, version, bytes, signed: env.signed, signatures: env.signatures };
    this.roles.set(name, loaded);
    return loaded;
  }
}
