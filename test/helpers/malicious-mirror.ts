// A malicious mirror for attack tests (issue 6 "A malicious mirror for tests"): a loopback HTTP
// server (127.0.0.1 only) that serves a real `tufpip-repo` site/ directory honestly until a test
// tells it to misbehave, per URL path and optionally for a number of requests only, switchable at
// any moment of a test:
//   - serve other bytes: an older file (a saved copy), another project's file under this name, a
//     metadata file signed by the wrong key, an expired file, a timestamp.json from another
//     repository's chain (`replace`; the forging helpers below build those bytes);
//   - serve the honest file truncated, extended, or with one byte changed;
//   - endless data (no Content-Length, never ends: TUF "endless data" attack);
//   - a slow trickle: the honest bytes, a few at a time with a pause between chunks, below or above
//     the client's idle timeout (TUF "slow retrieval" attack; the client's timeout is
//     $TUFPIP_IDLE_TIMEOUT_MS, io/idle-timeout.ts);
//   - an HTTP status.
// Every request is logged with the rule that answered it, so a test can prove its attack was
// actually served (a test whose attack never reached the client cannot fail for the right reason).
// The test that starts a mirror stops it (close() destroys open sockets and stops trickles).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createHash } from 'node:crypto';
import {
  buildSnapshot,
  buildTimestamp,
  type Envelope,
  type SnapshotSigned,
  type TargetInfo,
  type TargetsSigned,
  type TimestampSigned,
} from '../../metadata/builders.js';
import { canonicalize } from '../../metadata/canonical.js';
import { versionedFileName } from '../../metadata/roles.js';
import { hashedPath } from '../../metadata/target-paths.js';
import { resolveUnder } from '../../repo-tools/commands/serve.js';
import type { Signer } from '../../repo-tools/keys/signer.js';
import { signRole } from '../../repo-tools/txn/transaction.js';

/** Which requests a rule applies to: an exact URL path, a pattern, or a predicate (decoded path, no query). */
export type Matcher = string | RegExp | ((urlPath: string) => boolean);

export type Misbehaviour =
  /** Other bytes for this path (also for a path that does not exist in site/). */
  | { kind: 'replace'; bytes: Buffer | ((urlPath: string, honest: Buffer | undefined) => Buffer) }
  /** The honest file without its last `drop` bytes. */
  | { kind: 'truncate'; drop: number }
  /** The honest file followed by `extra` more bytes. */
  | { kind: 'extend'; extra: number }
  /** The honest file with one byte changed (XOR 1), at `at` (default: the middle). */
  | { kind: 'flip-byte'; at?: number }
  /** Bytes that never end (no Content-Length). */
  | { kind: 'endless' }
  /** The honest bytes, `chunkBytes` at a time, `intervalMs` apart (headers and first chunk at once). */
  | { kind: 'trickle'; chunkBytes: number; intervalMs: number }
  | { kind: 'status'; status: number };

export const misbehave = {
  replace: (bytes: Buffer | ((urlPath: string, honest: Buffer | undefined) => Buffer)): Misbehaviour => ({ kind: 'replace', bytes }),
  truncate: (drop = 10): Misbehaviour => ({ kind: 'truncate', drop }),
  extend: (extra = 100): Misbehaviour => ({ kind: 'extend', extra }),
  flipByte: (at?: number): Misbehaviour => ({ kind: 'flip-byte', at }),
  endless: (): Misbehaviour => ({ kind: 'endless' }),
  trickle: (chunkBytes: number, intervalMs: number): Misbehaviour => ({ kind: 'trickle', chunkBytes, intervalMs }),
  status: (status: number): Misbehaviour => ({ kind: 'status', status }),
};

export interface MirrorRule {
  readonly label: string;
  /** Requests this rule answered. */
  readonly hits: number;
  /** Stops the rule (the path is served honestly again, unless another rule matches). */
  off(): void;
}

export interface MirrorRequest {
  path: string;
  status: number;
  /** Label of the rule that answered, or undefined when served honestly. */
  rule?: string;
}

interface ActiveRule {
  label: string;
  test: (p: string) => boolean;
  act: Misbehaviour;
  remaining: number;
  hits: number;
  on: boolean;
}

function matcherOf(m: Matcher): (p: string) => boolean {
  if (typeof m === 'string') return (p) => p === m;
  if (m instanceof RegExp) return (p) => m.test(p);
  return m;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** URL paths of a target: its plain name and its consistent-snapshot name `<dir>/<sha256>.<base>`. */
export function targetUrls(targetPath: string): RegExp {
  const i = targetPath.lastIndexOf('/');
  const dir = i < 0 ? '' : `${targetPath.slice(0, i)}/`;
  const base = targetPath.slice(i + 1);
  return new RegExp(`^/${escape(dir)}(?:[0-9a-f]{64}\\.)?${escape(base)}$`);
}

/** URL paths of a role's metadata: `/metadata/timestamp.json`, or `/metadata/<N>.<role>.json` for any N. */
export function metadataUrls(role: string): RegExp {
  return role === 'timestamp' ? /^\/metadata\/timestamp\.json$/ : new RegExp(`^/metadata/\\d+\\.${escape(role)}\\.json$`);
}

/** URL path of one version of a role's metadata (TUF spec 5.5.1 / 5.6.1 consistent snapshots). */
export function metadataUrl(role: string, version?: number): string {
  return role === 'timestamp' ? '/metadata/timestamp.json' : `/metadata/${versionedFileName(role, version!)}`;
}

export class MaliciousMirror {
  readonly site: string;
  url = '';
  readonly requests: MirrorRequest[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private rules: ActiveRule[] = [];
  private closed = false;

  private constructor(site: string) {
    this.site = path.resolve(site);
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Serves `site` (a repository's site/ folder) on a free port of 127.0.0.1. */
  static async start(site: string): Promise<MaliciousMirror> {
    const m = new MaliciousMirror(site);
    await new Promise<void>((resolve, reject) => {
      m.server.once('error', reject);
      m.server.listen(0, '127.0.0.1', () => resolve());
    });
    m.url = `http://127.0.0.1:${(m.server.address() as net.AddressInfo).port}/`;
    return m;
  }

  /**
   * From now on, answer requests that `match` with `act` (the first matching rule wins, newest
   * first), for `times` requests (default: until off() or reset()).
   */
  when(match: Matcher, act: Misbehaviour, opts: { times?: number; label?: string } = {}): MirrorRule {
    const r: ActiveRule = {
      label: opts.label ?? `${act.kind} ${String(match)}`,
      test: matcherOf(match),
      act,
      remaining: opts.times ?? Infinity,
      hits: 0,
      on: true,
    };
    this.rules.unshift(r);
    return {
      label: r.label,
      get hits() {
        return r.hits;
      },
      off: () => {
        r.on = false;
      },
    };
  }

  /** Serves each URL path of `files` with those bytes (e.g. a forged chain of metadata). */
  serveFiles(files: ReadonlyMap<string, Buffer>, label = 'forged'): MirrorRule {
    return this.when((p) => files.has(p), misbehave.replace((p) => files.get(p)!), { label });
  }

  /** Back to honest: every rule off. */
  reset(): void {
    for (const r of this.rules) r.on = false;
    this.rules = [];
  }

  /** Requests whose path matched `match`. */
  requestsFor(match: Matcher): MirrorRequest[] {
    const t = matcherOf(match);
    return this.requests.filter((r) => t(r.path));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- serving ---------------------------------------------------------------------------------

  private honestBytes(urlPath: string): Buffer | undefined {
    let file = resolveUnder(this.site, urlPath);
    if (!file) return undefined;
    try {
      if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      return fs.readFileSync(file);
    } catch {
      return undefined;
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent((req.url ?? '/').split('?')[0]);
    } catch {
      urlPath = req.url ?? '/';
    }
    const rule = this.rules.find((r) => r.on && r.remaining > 0 && r.test(urlPath));
    const log = (status: number) => this.requests.push({ path: urlPath, status, rule: rule?.label });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      log(405);
      res.writeHead(405).end();
      return;
    }
    if (rule) {
      rule.remaining -= 1;
      rule.hits += 1;
    }
    const honest = this.honestBytes(urlPath);
    const act = rule?.act;
    if (act?.kind === 'status') {
      log(act.status);
      res.writeHead(act.status, { 'content-length': 0 }).end();
      return;
    }
    if (act?.kind === 'endless') {
      log(200);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      this.pump(res, () => Buffer.alloc(64 * 1024, 0x7b));
      return;
    }
    let body: Buffer | undefined = honest;
    if (act?.kind === 'replace') body = typeof act.bytes === 'function' ? act.bytes(urlPath, honest) : act.bytes;
    else if (honest && act?.kind === 'truncate') body = honest.subarray(0, Math.max(0, honest.length - act.drop));
    else if (honest && act?.kind === 'extend') body = Buffer.concat([honest, Buffer.alloc(act.extra, 0x20)]);
    else if (honest && act?.kind === 'flip-byte') {
      body = Buffer.from(honest);
      const at = act.at ?? Math.floor(body.length / 2);
      body[at] ^= 0x01;
    }
    if (!body) {
      log(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    log(200);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (act?.kind === 'trickle') {
      this.trickle(res, body, act.chunkBytes, act.intervalMs);
      return;
    }
    res.end(body);
  }

  /** Writes chunks for as long as the client reads (backpressure), until the connection closes. */
  private pump(res: http.ServerResponse, chunk: () => Buffer): void {
    let stopped = false;
    res.on('close', () => (stopped = true));
    const write = () => {
      while (!stopped && !this.closed) {
        if (!res.write(chunk())) {
          res.once('drain', write);
          return;
        }
      }
    };
    write();
  }

  /** Sends `body` a few bytes at a time; stops when the client goes away or the mirror closes. */
  private trickle(res: http.ServerResponse, body: Buffer, chunkBytes: number, intervalMs: number): void {
    let offset = 0;
    let stopped = false;
    res.on('close', () => (stopped = true));
    const next = () => {
      if (stopped || this.closed) return;
      const end = Math.min(body.length, offset + chunkBytes);
      res.write(body.subarray(offset, end));
      offset = end;
      if (offset >= body.length) {
        res.end();
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        next();
      }, intervalMs);
      this.timers.add(t);
    };
    next();
  }
}

// --- forging: what an attacker (or time) makes of the served metadata ---------------------------

/** A moment long past: metadata that expired then is what a frozen mirror serves (TUF "freeze"). */
export const LONG_AGO = '2020-01-01T00:00:00Z';

function envelopeOf<T>(bytes: Buffer): Envelope & { signed: T } {
  return JSON.parse(bytes.toString('utf8')) as Envelope & { signed: T };
}

/** The state a site/ folder publishes: timestamp.json, the snapshot it names, role versions. */
export class PublishedSite {
  constructor(readonly site: string) {}

  file(urlPath: string): Buffer {
    return fs.readFileSync(path.join(this.site, urlPath));
  }

  timestamp(): { bytes: Buffer; signed: TimestampSigned } {
    const bytes = this.file(metadataUrl('timestamp'));
    return { bytes, signed: envelopeOf<TimestampSigned>(bytes).signed };
  }

  snapshot(): { version: number; bytes: Buffer; signed: SnapshotSigned } {
    const version = this.timestamp().signed.meta['snapshot.json'].version;
    const bytes = this.file(metadataUrl('snapshot', version));
    return { version, bytes, signed: envelopeOf<SnapshotSigned>(bytes).signed };
  }

  /** Published version of a targets role (from the snapshot). */
  version(role: string): number {
    const v = this.snapshot().signed.meta[`${role}.json`]?.version;
    if (v === undefined) throw new Error(`${role} is not in the published snapshot`);
    return v;
  }

  /** A targets role as published now (or at `version`). */
  role(role: string, version = this.version(role)): { version: number; url: string; bytes: Buffer; signed: TargetsSigned } {
    const url = metadataUrl(role, version);
    const bytes = this.file(url);
    return { version, url, bytes, signed: envelopeOf<TargetsSigned>(bytes).signed };
  }

  /** Bytes of a target as published (its consistent-snapshot copy, named by its sha256). */
  target(targetPath: string, sha256: string): Buffer {
    return this.file('/' + hashedPath(targetPath, sha256));
  }
}

/** Re-signs a metadata file's `signed` part (edited in place by `edit`, if given) with `signers`. */
export async function resign(bytes: Buffer, signers: Signer[], edit?: (signed: Record<string, unknown>) => void): Promise<Buffer> {
  const signed = structuredClone(envelopeOf<Record<string, unknown>>(bytes).signed);
  edit?.(signed);
  return signRole(canonicalize(signed), signers);
}

export interface ForgeOptions {
  /**
   * New versions of targets roles signed by `signer` (bins, recently-claimed): `edit` changes a
   * copy of the published role; the version goes up by one unless `edit` sets it.
   */
  roles?: Record<string, (t: TargetsSigned) => void>;
  /** Targets roles signed by someone else (e.g. maintainers), published as they are. */
  presigned?: Record<string, Buffer>;
  /** Content to serve under consistent-snapshot names (target path -> bytes). */
  content?: Record<string, Buffer>;
  /** Edits the new snapshot (version + 1, changed roles' versions set) before it is signed. */
  snapshot?: (s: SnapshotSigned) => void;
  /** Point the new timestamp at these snapshot bytes (e.g. an older snapshot) instead of a new one. */
  snapshotBytes?: Buffer;
  /** Edits the new timestamp (version + 1) before it is signed. */
  timestamp?: (t: TimestampSigned) => void;
}

/** A target's signed description (length, sha256), as a bin lists it. */
export function targetInfoOf(bytes: Buffer): TargetInfo {
  return { length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } };
}

/**
 * A chain of metadata as someone holding `signer` (the repository's online key: timestamp,
 * snapshot, bins) would publish it on top of what `site` publishes: changed targets roles, a new
 * snapshot, a new timestamp. Returns URL path -> bytes, for MaliciousMirror.serveFiles; nothing is
 * written to the repository.
 */
export async function forgeChain(site: string, signer: Signer, o: ForgeOptions = {}): Promise<Map<string, Buffer>> {
  const pub = new PublishedSite(site);
  const files = new Map<string, Buffer>();
  const snap = pub.snapshot();
  const versions = new Map(Object.entries(snap.signed.meta).map(([name, m]) => [name, m.version]));
  for (const [role, edit] of Object.entries(o.roles ?? {})) {
    const cur = pub.role(role);
    const signed = structuredClone(cur.signed);
    signed.version = cur.version + 1;
    edit(signed);
    files.set(metadataUrl(role, signed.version), await signRole(canonicalize(signed), [signer]));
    versions.set(`${role}.json`, signed.version);
  }
  for (const [role, bytes] of Object.entries(o.presigned ?? {})) {
    const version = envelopeOf<TargetsSigned>(bytes).signed.version;
    files.set(metadataUrl(role, version), bytes);
    versions.set(`${role}.json`, version);
  }
  for (const [targetPath, bytes] of Object.entries(o.content ?? {})) {
    files.set('/' + hashedPath(targetPath, targetInfoOf(bytes).hashes.sha256), bytes);
  }
  let snapshotBytes = o.snapshotBytes;
  if (!snapshotBytes) {
    const s = buildSnapshot(snap.version + 1, snap.signed.expires, versions);
    o.snapshot?.(s);
    snapshotBytes = await signRole(canonicalize(s), [signer]);
    files.set(metadataUrl('snapshot', s.version), snapshotBytes);
  }
  const snapshotVersion = envelopeOf<SnapshotSigned>(snapshotBytes).signed.version;
  const ts = pub.timestamp().signed;
  const t = buildTimestamp(ts.version + 1, ts.expires, { version: snapshotVersion, ...lengthAndHash(snapshotBytes) });
  o.timestamp?.(t);
  files.set(metadataUrl('timestamp'), await signRole(canonicalize(t), [signer]));
  return files;
}

function lengthAndHash(bytes: Buffer): { length: number; sha256: string } {
  const info = targetInfoOf(bytes);
  return { length: info.length, sha256: info.hashes.sha256 };
}
