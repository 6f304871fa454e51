// One repository of either storage backend for suites that run the same assertions on both
// (`for (const kind of BACKENDS) describe(...)`): the local folder with its site/, or a bucket on
// the tests' Ceph gateway (s3-gateway.ts). `makeBackendRepo` runs the real `tufpip-repo init`
// (and `add`), `run` runs any `tufpip-repo` command with the backend's environment (the gateway's
// credentials through the SDK's default chain), and the published tree is read through the
// backend's own reader: files under site/ for local, objects of the public prefix for S3 (what
// clients and a CDN read). Readers follow timestamp.json -> snapshot -> roles, as clients do, and
// reach targets by their hash-named (consistent snapshot) copies only.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { tufpipRepo, type RunOptions, type RunResult } from './cli.js';
import { expectOk } from './repo.js';
import { listKeys, makePublic, s3Env, s3Gateway, s3InitArgs, useS3Gateway } from './s3-gateway.js';
import { startServeCli } from './serve-cli.js';
import { startHttp } from './loopback.js';
import { tmpDir } from './tmp.js';
import { writeWheel, type WheelSpec } from './wheels.js';
import { sha256 } from './hash.js';

export type BackendKind = 'local' | 's3';
/** The backends every parametrised publishing suite runs on. */
export const BACKENDS: readonly BackendKind[] = ['local', 's3'];

/** Registers the gateway's root hooks (start once per run, stop after the last test). */
export function useBackends(): void {
  useS3Gateway();
}

export interface S3Place {
  bucket: string;
  /** Public prefix ('index/'). */
  prefix: string;
}

export interface BackendRepo {
  kind: BackendKind;
  /** The repository's local folder (local: everything; S3: config, keys, 1.root.json). */
  dir: string;
  /** Where the distributions `makeBackendRepo` wrote live. */
  wheelsDir: string;
  /** Root v1, as handed to clients out of band. */
  root1: string;
  /** Environment for the CLIs (S3: the gateway's credentials). */
  env: NodeJS.ProcessEnv;
  s3?: S3Place;
  /** `tufpip-repo ARGS` with this backend's environment. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Bytes of the object at REL of the public tree ('metadata/timestamp.json'), undefined if absent. */
  read(rel: string): Promise<Buffer | undefined>;
  /** Every path of the public tree under REL_PREFIX ('packages/dev/'), relative to the tree. */
  list(relPrefix: string): Promise<string[]>;
}

function localRepo(dir: string, wheelsDir: string): BackendRepo {
  const site = path.join(dir, 'site');
  const walk = (d: string): string[] =>
    fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : [];
  return {
    kind: 'local',
    dir,
    wheelsDir,
    root1: path.join(site, 'metadata', '1.root.json'),
    env: process.env,
    run: (args, opts = {}) => tufpipRepo(args, opts),
    read: async (rel) => {
      const f = path.join(site, ...rel.split('/'));
      return fs.existsSync(f) ? fs.readFileSync(f) : undefined;
    },
    list: async (relPrefix) => {
      const parts = relPrefix.split('/');
      const folder = path.join(site, ...parts.slice(0, -1));
      return walk(folder)
        .map((f) => path.relative(site, f).split(path.sep).join('/'))
        .filter((k) => k.startsWith(relPrefix))
        .sort();
    },
  };
}

function s3Repo(dir: string, wheelsDir: string, place: S3Place, env: NodeJS.ProcessEnv): BackendRepo {
  return {
    kind: 's3',
    dir,
    wheelsDir,
    root1: path.join(dir, '1.root.json'),
    env,
    s3: place,
    run: (args, opts = {}) => tufpipRepo(args, { ...opts, env: { ...env, ...(opts.env ?? {}) } }),
    read: async (rel) => {
      const { client } = await s3Gateway();
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: place.bucket, Key: place.prefix + rel }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
    },
    list: async (relPrefix) => (await listKeys(place.bucket, place.prefix + relPrefix)).sort().map((k) => k.slice(place.prefix.length)),
  };
}

export interface BackendRepoOptions {
  bins?: number;
  wheels?: WheelSpec[];
  initArgs?: string[];
}

async function newPublicBucket(): Promise<S3Place> {
  const { client } = await s3Gateway();
  const bucket = `tufpip-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await makePublic(bucket, 'index/');
  return { bucket, prefix: 'index/' };
}

/**
 * `tufpip-repo init` of a repository of KIND (local: DIR/site; S3: a new bucket, public prefix
 * `index/` readable anonymously, private `index-private/`), then one `add` of the wheels.
 */
export async function makeBackendRepo(kind: BackendKind, opts: BackendRepoOptions = {}): Promise<BackendRepo> {
  const base = tmpDir(`tufpip-${kind}-repo-`);
  const dir = path.join(base, 'repo');
  const wheelsDir = path.join(base, 'wheels');
  let repo: BackendRepo;
  const init = ['init', dir, '--bins', String(opts.bins ?? 16), ...(opts.initArgs ?? [])];
  if (kind === 'local') {
    repo = localRepo(dir, wheelsDir);
    expectOk(await repo.run([...init, '--url', 'http://127.0.0.1:8080/']), 'init');
  } else {
    const place = await newPublicBucket();
    repo = s3Repo(dir, wheelsDir, place, await s3Env());
    expectOk(await repo.run([...init, ...(await s3InitArgs(place.bucket, place.prefix))]), 'init (S3)');
  }
  const files: string[] = [];
  for (const w of opts.wheels ?? []) files.push(await writeWheel(wheelsDir, w));
  if (files.length) expectOk(await repo.run(['add', dir, ...files]), 'add');
  return repo;
}

/**
 * A copy of a repository (a template built once per describe) for one test that changes it.
 * S3: every object of the public and private prefixes copied server-side (metadata and
 * Cache-Control kept) into a new bucket, and the local folder with config.json naming it.
 */
export async function copyBackendRepo(repo: BackendRepo): Promise<BackendRepo> {
  const base = tmpDir(`tufpip-${repo.kind}-copy-`);
  const dir = path.join(base, 'repo');
  fs.cpSync(repo.dir, dir, { recursive: true, verbatimSymlinks: true });
  if (repo.kind === 'local') return localRepo(dir, repo.wheelsDir);
  const from = repo.s3!;
  const to = await newPublicBucket();
  const { client, endpoint } = await s3Gateway();
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { url: string; storage: { bucket: string; privateBucket: string } };
  if (config.storage.privateBucket !== from.bucket) throw new Error('copyBackendRepo copies one-bucket repositories only');
  const keys = (await listKeys(from.bucket, '')).sort();
  // A few at a time: the gateway shares two cores with the tests.
  for (let i = 0; i < keys.length; i += 8) {
    await Promise.all(keys.slice(i, i + 8).map((k) => client.send(new CopyObjectCommand({ Bucket: to.bucket, Key: k, CopySource: `${from.bucket}/${encodeURIComponent(k).replace(/%2F/g, '/')}` }))));
  }
  config.storage.bucket = to.bucket;
  config.storage.privateBucket = to.bucket;
  config.url = `${endpoint}/${to.bucket}/${to.prefix}`;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return s3Repo(dir, repo.wheelsDir, to, repo.env);
}

interface Envelope<T> {
  signed: T;
  signatures: { keyid: string; sig: string }[];
}
type Meta = Record<string, { version: number }>;

async function readJson<T>(repo: BackendRepo, rel: string): Promise<Envelope<T>> {
  const bytes = await repo.read(rel);
  if (!bytes) throw new Error(`${repo.kind}: ${rel} is not published`);
  return JSON.parse(bytes.toString('utf8')) as Envelope<T>;
}

/** The published timestamp.json, as bytes (to compare before/after a refused command). */
export async function publishedTimestamp(repo: BackendRepo): Promise<Buffer> {
  const b = await repo.read('metadata/timestamp.json');
  if (!b) throw new Error(`${repo.kind}: no timestamp.json`);
  return b;
}

/** The snapshot timestamp.json names. */
export async function publishedSnapshot(repo: BackendRepo): Promise<Envelope<{ version: number; meta: Meta }>> {
  const ts = await readJson<{ meta: Meta }>(repo, 'metadata/timestamp.json');
  return readJson(repo, `metadata/${ts.signed.meta['snapshot.json'].version}.snapshot.json`);
}

export interface RoleSigned {
  version: number;
  expires: string;
  targets?: Record<string, { length: number; hashes: { sha256: string } }>;
  delegations?: { keys: Record<string, unknown>; roles: { name: string; keyids: string[]; threshold: number; terminating: boolean; paths: string[] }[] };
}

/** The version of ROLE the published snapshot names. */
export async function publishedRole(repo: BackendRepo, role: string): Promise<Envelope<RoleSigned>> {
  const snap = await publishedSnapshot(repo);
  const entry = snap.signed.meta[`${role}.json`];
  if (!entry) throw new Error(`${repo.kind}: the snapshot names no ${role}`);
  return readJson(repo, `metadata/${entry.version}.${role}.json`);
}

/** Targets of every targets-type role the published snapshot names (path -> sha256). */
export async function publishedTargets(repo: BackendRepo): Promise<Map<string, string>> {
  const snap = await publishedSnapshot(repo);
  const out = new Map<string, string>();
  for (const [file, { version }] of Object.entries(snap.signed.meta)) {
    const role = await readJson<RoleSigned>(repo, `metadata/${version}.${file}`);
    for (const [p, info] of Object.entries(role.signed.targets ?? {})) out.set(p, info.hashes.sha256);
  }
  return out;
}

/**
 * The published bytes of TARGET ('simple/dev/index.html'): its hash-named copy
 * (`simple/dev/SHA256.index.html`, TUF consistent snapshots), checked against the sha256 the
 * published metadata lists. Undefined when no published role lists it.
 */
export async function publishedTarget(repo: BackendRepo, target: string): Promise<Buffer | undefined> {
  const hash = (await publishedTargets(repo)).get(target);
  if (hash === undefined) return undefined;
  const slash = target.lastIndexOf('/');
  const rel = `${target.slice(0, slash + 1)}${hash}.${target.slice(slash + 1)}`;
  const bytes = await repo.read(rel);
  if (!bytes) throw new Error(`${repo.kind}: ${target} is listed but ${rel} is not published`);
  if (sha256(bytes) !== hash) throw new Error(`${repo.kind}: ${rel} does not have the listed sha256`);
  return bytes;
}

export interface IndexReader {
  /** Base URL clients read (trust add, release sign --index). */
  url: string;
  /** Every request line ('GET /simple/dev/ 200'), in `serve`'s log format. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * What clients read. Local: `tufpip-repo serve` on loopback. S3: the bucket's anonymous public
 * URL behind a loopback tap that only forwards (every request to the bucket, status and bytes back
 * unchanged) and logs each request line as `serve` does, so both backends have the same log.
 */
export async function startIndexReader(repo: BackendRepo): Promise<IndexReader> {
  if (repo.kind === 'local') {
    const s = await startServeCli(repo.dir);
    return {
      url: s.url,
      requests: s.requests,
      stop: async () => {
        const code = await s.stop();
        if (code !== 0) throw new Error(`tufpip-repo serve exited ${code}`);
      },
    };
  }
  const { endpoint } = await s3Gateway();
  const origin = `${endpoint}/${repo.s3!.bucket}/${repo.s3!.prefix}`;
  const requests: string[] = [];
  const front = await startHttp((req, res) => {
    void (async () => {
      const url = req.url ?? '/';
      try {
        const r = await fetch(origin + url.slice(1), { method: req.method === 'HEAD' ? 'HEAD' : 'GET' });
        const body = Buffer.from(await r.arrayBuffer());
        requests.push(`${req.method} ${url} ${r.status}`);
        const headers: Record<string, string> = { 'content-length': String(body.length) };
        for (const h of ['content-type', 'cache-control', 'etag', 'last-modified']) {
          const v = r.headers.get(h);
          if (v !== null) headers[h] = v;
        }
        res.writeHead(r.status, headers);
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch (err) {
        requests.push(`${req.method} ${url} 502`);
        res.writeHead(502).end(String(err));
      }
    })();
  });
  return { url: front.url, requests, stop: () => front.close() };
}
