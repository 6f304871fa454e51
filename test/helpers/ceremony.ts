// Offline-key ceremonies for tests (issue 5): a pool of real key files (keygen's own writer: PEM
// 0600 + .pub.json), repositories initialised with chosen root keys from the pool, the real CLI
// for propose / sign / publish, and tuf-js clients that keep a metadata cache between refreshes
// (a client that trusted an old root). Roots can also be crafted straight into site/metadata,
// bypassing `publish`, to check that clients refuse invalid chains on their own.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { Updater, type BaseFetcher } from 'tuf-js';
import '../setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { buildRoot, serializeEnvelope, type RootSigned } from '../../metadata/builders.js';
import { canonicalize } from '../../metadata/canonical.js';
import type { PublicKeyJson } from '../../metadata/keys.js';
import { writeNewKey } from '../../repo-tools/keys/keygen.js';
import { privateKeyFromPem, type LocalSigner } from '../../repo-tools/keys/signer.js';
import { FileFetcher } from '../../tuf/file-fetcher.js';
import { tufpipRepo, type RunResult } from './cli.js';
import { expectOk, makeRepo } from './repo.js';
import { tmpDir } from './tmp.js';

export interface PoolKey {
  name: string;
  pem: string;
  pub: string;
  keyid: string;
  publicKey: PublicKeyJson;
  signer: LocalSigner;
}

/** `n` key pairs written by keygen's writer (PEM 0600, .pub.json), named `<prefix><i>`. */
export async function keyPool(n: number, prefix = 'k'): Promise<PoolKey[]> {
  const dir = path.join(tmpDir('tufpip-keys-'), 'keys');
  const out: PoolKey[] = [];
  for (let i = 0; i < n; i++) {
    const k = await writeNewKey(dir, `${prefix}${i}`);
    out.push({ name: `${prefix}${i}`, pem: k.privatePath, pub: k.publicPath, keyid: k.keyid, publicKey: k.publicKey, signer: privateKeyFromPem(fs.readFileSync(k.privatePath, 'utf8'), k.privatePath) });
  }
  return out;
}

export interface CeremonyRepo {
  dir: string;
  keysDir: string;
  site: string;
  metadataDir: string;
  root1: string;
  /** Key files init generated (targets, claimed, bins, online) or was given (root-N). */
  key(name: string): string;
}

/** `tufpip-repo init` whose root keys are the given pool keys (root-1..root-n), threshold t. */
export async function initWithRootKeys(rootKeys: PoolKey[], threshold: number, extraArgs: string[] = []): Promise<CeremonyRepo> {
  const base = tmpDir('tufpip-ceremony-');
  const dir = path.join(base, 'repo');
  const keysDir = path.join(base, 'offline-keys');
  fs.mkdirSync(keysDir, { mode: 0o700 });
  rootKeys.forEach((k, i) => fs.copyFileSync(k.pem, path.join(keysDir, `root-${i + 1}.pem`)));
  const args = ['--keys-dir', keysDir, '--root-keys', String(rootKeys.length), '--root-threshold', String(threshold)];
  if (threshold === 1) args.push('--allow-single-root-key');
  await makeRepo({ dir, bins: 2, initArgs: [...args, ...extraArgs] });
  const site = path.join(dir, 'site');
  return { dir, keysDir, site, metadataDir: path.join(site, 'metadata'), root1: path.join(site, 'metadata', '1.root.json'), key: (name) => path.join(keysDir, `${name}.pem`) };
}

export const repoCli = (args: string[]): Promise<RunResult> => tufpipRepo(args);

export function pendingFile(repo: CeremonyRepo, role: string): string {
  return path.join(repo.dir, 'pending', `${role}.json`);
}

/** propose + one `sign` per key + publish, all through the CLI; returns publish's result. */
export async function ceremony(repo: CeremonyRepo, proposals: Array<{ role: string; args: string[]; signers: string[] }>, publishArgs: string[] = []): Promise<RunResult> {
  for (const p of proposals) {
    expectOk(await tufpipRepo(['propose', repo.dir, '--role', p.role, ...p.args]), `propose ${p.role}`);
    for (const k of p.signers) expectOk(await tufpipRepo(['sign', pendingFile(repo, p.role), '--key', k]), `sign ${p.role} with ${k}`);
  }
  return tufpipRepo(['publish', repo.dir, ...publishArgs]);
}

export function readRoot(repo: CeremonyRepo, version: number): RootSigned {
  return (JSON.parse(fs.readFileSync(path.join(repo.metadataDir, `${version}.root.json`), 'utf8')) as { signed: RootSigned }).signed;
}

export function latestRootVersion(repo: CeremonyRepo): number {
  let n = 1;
  while (fs.existsSync(path.join(repo.metadataDir, `${n + 1}.root.json`))) n++;
  return n;
}

/**
 * Writes `<version>.root.json` straight into site/metadata (no publish, no checks): the next root
 * after `prev` with root keys/threshold replaced, signed by exactly `signers`.
 */
export function craftRoot(repo: CeremonyRepo, prev: RootSigned, o: { version?: number; fileVersion?: number; rootKeys: PoolKey[]; threshold: number; signers: PoolKey[] }): Buffer {
  const keys: Record<string, PublicKeyJson> = {};
  for (const name of ['targets', 'snapshot', 'timestamp'] as const) for (const id of prev.roles[name].keyids) keys[id] = prev.keys[id];
  for (const k of o.rootKeys) keys[k.keyid] = k.publicKey;
  const signed = buildRoot({
    version: o.version ?? prev.version + 1,
    expires: prev.expires,
    keys,
    roles: { ...prev.roles, root: { keyids: o.rootKeys.map((k) => k.keyid), threshold: o.threshold } },
  });
  const text = canonicalize(signed);
  const sigs = o.signers.map((k) => ({ keyid: k.keyid, sig: k.signer.signSync(Buffer.from(text, 'utf8')) }));
  const bytes = Buffer.from(serializeEnvelope(text, sigs), 'utf8');
  fs.writeFileSync(path.join(repo.metadataDir, `${o.fileVersion ?? signed.version}.root.json`), bytes);
  return bytes;
}

/**
 * A tuf-js client over the repository's files (FileFetcher: what a web server would serve), with
 * its own metadata cache that persists between refreshes, starting from the root it was given.
 */
export class CachedClient {
  readonly metadataDir: string;
  readonly targetDir: string;
  constructor(readonly repo: CeremonyRepo, trustedRoot: string) {
    const dir = tmpDir('tufpip-keys-client-');
    this.metadataDir = path.join(dir, 'metadata');
    this.targetDir = path.join(dir, 'targets');
    fs.mkdirSync(this.metadataDir);
    fs.mkdirSync(this.targetDir);
    fs.copyFileSync(trustedRoot, path.join(this.metadataDir, 'root.json'));
  }

  updater(): Updater {
    return new Updater({
      metadataDir: this.metadataDir,
      metadataBaseUrl: pathToFileURL(this.repo.metadataDir).href + '/',
      targetBaseUrl: pathToFileURL(this.repo.site).href + '/',
      targetDir: this.targetDir,
      fetcher: new FileFetcher() as BaseFetcher,
    });
  }

  /** Refreshes; resolves to the error tuf-js threw, or undefined. */
  async refresh(): Promise<Error | undefined> {
    try {
      await this.updater().refresh();
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** Refresh, then find and download (length and hash checked by tuf-js) one target. */
  async download(targetPath: string): Promise<Buffer> {
    const u = this.updater();
    await u.refresh();
    const info = await u.getTargetInfo(targetPath);
    expect(info, `${targetPath} is found by the client`).to.not.equal(undefined);
    const dest = path.join(this.targetDir, 'download');
    await u.downloadTarget(info!, dest);
    return fs.readFileSync(dest);
  }

  trustedRootBytes(): Buffer {
    return fs.readFileSync(path.join(this.metadataDir, 'root.json'));
  }

  trustedRootVersion(): number {
    return (JSON.parse(this.trustedRootBytes().toString('utf8')) as { signed: { version: number } }).signed.version;
  }

  trustedTimestampVersion(): number {
    return (JSON.parse(fs.readFileSync(path.join(this.metadataDir, 'timestamp.json'), 'utf8')) as { signed: { version: number } }).signed.version;
  }
}

/** Name of the error class tuf-js threw (its classes are not exported from the package index). */
export function errorName(err: unknown): string {
  return (err as Error | undefined)?.constructor?.name ?? String(err);
}
