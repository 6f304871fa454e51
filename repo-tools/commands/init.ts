// `tufpip-repo init`: creates a repository directory with the first signed version of every
// role (DESIGN.md role graph), an empty simple index and the config: the publication pipeline
// (txn/pipeline.ts) run from an empty published state. Built in a temporary directory next to
// the target and renamed into place, so a failed init leaves nothing behind.
import path from 'node:path';
import fsp from 'node:fs/promises';
import fse from 'fs-extra';
import { canonicalize } from '../../metadata/canonical.js';
import { binDelegations, buildRoot, buildTargets, emptyDelegations, topDelegations, type TargetInfo, type TargetsSigned } from '../../metadata/builders.js';
import { planPublication } from '../../metadata/publication-plan.js';
import { TufpipError } from '../../metadata/errors.js';
import { binForPath } from '../../metadata/hash-bins.js';
import { keyIdOf, type PublicKeyJson } from '../../metadata/keys.js';
import { DEFAULT_BINS, defaultExpiryDays, expiresAt, verifyBinCount, type ExpiryKey } from '../../metadata/profile.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, TARGETS, binName, versionedFileName } from '../../metadata/roles.js';
import { projectListHtml } from '../../metadata/simple-html.js';
import { SIMPLE_INDEX } from '../../metadata/target-paths.js';
import { privateKeyFromPem, type LocalSigner } from '../keys/signer.js';
import { writeNewKey } from '../keys/keygen.js';
import { CONFIG_FORMAT, RepoLayout, type RepoConfig } from '../storage/layout.js';
import { fsyncDir } from '../../io/atomic-file.js';
import { LocalDiskStorage } from '../storage/local-disk.js';
import { describeS3, type S3Location } from '../storage/s3-location.js';
import type { Storage } from '../storage/storage.js';
import { selfCheck } from '../txn/self-check.js';
import { persistPublication, signPayloads, signRole } from '../txn/pipeline.js';
import { sha256Hex } from '../../metadata/hash.js';

export interface InitOptions {
  dir: string;
  url: string;
  bins?: number;
  rootKeys?: number;
  rootThreshold?: number;
  /** DESIGN.md: 1-of-1 root only with an explicit flag. */
  allowSingleRootKey?: boolean;
  keysDir?: string;
  expires?: Partial<Record<ExpiryKey, number>>;
  passphrase?: string;
  passphraseEnv?: string;
  now?: Date;
  onProgress?: (msg: string) => void;
  /** Publish to object storage (storage/s3-location.ts); DIR keeps the config and keys. */
  storage?: S3Location;
}

export interface InitResult {
  dir: string;
  url: string;
  bins: number;
  root: string;
  rootSha256: string;
  keysDir: string;
  generatedKeys: string[];
  keyids: Record<string, string[]>;
  rootThreshold: number;
  /** Where the tree was published, when not DIR/site (s3://BUCKET/PREFIX). */
  storage?: string;
}

export function verifyBaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TufpipError('USAGE', `--url must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TufpipError('USAGE', `--url must be http or https, got ${u.protocol}`);
  if (u.username || u.password) throw new TufpipError('USAGE', '--url must not contain credentials');
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

async function loadOrCreateKey(keysDir: string, name: string, passphrase: string | undefined, generated: string[]): Promise<LocalSigner> {
  const pemPath = path.join(keysDir, `${name}.pem`);
  if (!(await fse.pathExists(pemPath))) {
    await writeNewKey(keysDir, name, passphrase);
    generated.push(name);
  }
  return privateKeyFromPem(await fsp.readFile(pemPath, 'utf8'), pemPath, passphrase);
}

export async function initRepo(o: InitOptions): Promise<InitResult> {
  const layout = new RepoLayout(o.dir);
  const url = verifyBaseUrl(o.url);
  const bins = o.bins ?? DEFAULT_BINS;
  try {
    verifyBinCount(bins);
  } catch (err) {
    // A bad --bins is a usage error (exit 2, like the other bad flag values here), not exit 1:
    // metadata/ throws a plain RangeError, so it is mapped at this boundary (found by
    // test/repo-bad-input.test.ts).
    throw new TufpipError('USAGE', `--bins: ${(err as Error).message}`, { cause: err });
  }
  const n = o.rootKeys ?? 3;
  const t = o.rootThreshold ?? Math.min(2, n);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new TufpipError('USAGE', `--root-keys must be 1 to 32, got ${n}`);
  if (!Number.isInteger(t) || t < 1 || t > n) throw new TufpipError('USAGE', `--root-threshold must be 1 to ${n}, got ${t}`);
  if (t === 1 && !o.allowSingleRootKey) {
    throw new TufpipError('USAGE', 'a root threshold of 1 lets one stolen key replace all trust: pass --allow-single-root-key to accept that (demo only)');
  }
  const expires = { ...defaultExpiryDays, ...o.expires };
  for (const [k, v] of Object.entries(expires)) {
    if (!(typeof v === 'number' && v > 0 && v <= 3650)) throw new TufpipError('USAGE', `--expires ${k}=${v}: days must be > 0 and at most 3650`);
  }
  if (await fse.pathExists(layout.dir)) {
    const entries = await fsp.readdir(layout.dir).catch(() => ['(not a directory)']);
    if (entries.length > 0) {
      throw new TufpipError('EXISTS', `${layout.dir} already exists and is not empty${entries.includes('config.json') ? ' (it is a tufpip repository)' : ''}: refusing to overwrite it`);
    }
  }
  const now = o.now ?? new Date();
  const tmpDir = path.join(path.dirname(layout.dir), `.${path.basename(layout.dir)}.init-${process.pid}`);
  const tmp = new RepoLayout(tmpDir);
  const keysDir = o.keysDir ? path.resolve(o.keysDir) : path.join(layout.dir, 'keys');
  if (layout.isUnderSite(keysDir)) throw new TufpipError('REFUSED', `--keys-dir ${keysDir} is under site/: private keys must never be served`);
  const keysInside = !o.keysDir;
  const keysWork = keysInside ? path.join(tmpDir, 'keys') : keysDir;

  await fse.remove(tmpDir);
  try {
    await fse.ensureDir(tmpDir);
    if (keysInside) await fse.ensureDir(keysWork, { mode: 0o700 });
    const generated: string[] = [];
    o.onProgress?.('keys');
    const rootSigners: LocalSigner[] = [];
    for (let i = 1; i <= n; i++) rootSigners.push(await loadOrCreateKey(keysWork, `root-${i}`, o.passphrase, generated));
    const targetsSigner = await loadOrCreateKey(keysWork, 'targets', o.passphrase, generated);
    const claimedSigner = await loadOrCreateKey(keysWork, 'claimed', o.passphrase, generated);
    const binsSigner = await loadOrCreateKey(keysWork, 'bins', o.passphrase, generated);
    const online = await loadOrCreateKey(keysWork, 'online', o.passphrase, generated);
    const rootIds = [...new Set(rootSigners.map((s) => s.keyid))];
    if (rootIds.length !== n) throw new TufpipError('BAD_KEY', 'two root key files hold the same key');

    const keys: Record<string, PublicKeyJson> = {};
    for (const s of [...rootSigners, targetsSigner, online]) keys[s.keyid] = s.publicKey;
    const exp = (k: ExpiryKey) => expiresAt(now, expires[k]);

    // TUF spec 4.3: root v1, self-signed by the threshold (all generated root keys sign).
    const root = buildRoot({
      version: 1,
      expires: exp('root'),
      keys,
      roles: {
        root: { keyids: rootIds, threshold: t },
        targets: { keyids: [targetsSigner.keyid], threshold: 1 },
        snapshot: { keyids: [online.keyid], threshold: 1 },
        timestamp: { keyids: [online.keyid], threshold: 1 },
      },
    });
    const rootBytes = await signRole(canonicalize(root), rootSigners);

    // The first version of every targets role, planned from an empty published state by the one
    // publication pipeline (repo-tools/txn/pipeline.ts): plan, sign, self-check, persist.
    const replaced = new Map<string, TargetsSigned>();
    const signersOf = new Map<string, LocalSigner[]>();
    const put = (role: string, signed: TargetsSigned, signer: LocalSigner) => {
      replaced.set(role, signed);
      signersOf.set(role, [signer]);
    };
    put(TARGETS, buildTargets(1, exp('targets'), {}, topDelegations({
      claimed: { key: claimedSigner.publicKey, keyid: claimedSigner.keyid },
      recentlyClaimed: { key: online.publicKey, keyid: online.keyid },
      bins: { key: binsSigner.publicKey, keyid: binsSigner.keyid },
    })), targetsSigner);
    put(CLAIMED, buildTargets(1, exp('claimed'), {}, emptyDelegations()), claimedSigner);
    put(RECENTLY_CLAIMED, buildTargets(1, exp('recently-claimed'), {}, emptyDelegations()), online);
    put(BINS, buildTargets(1, exp('bins'), {}, binDelegations(online.publicKey, online.keyid, bins)), binsSigner);

    // An empty project list, so `/simple/` answers from the first moment.
    const listHtml = Buffer.from(projectListHtml([]), 'utf8');
    const listInfo: TargetInfo = { length: listHtml.length, hashes: { sha256: sha256Hex(listHtml) } };
    const listBin = binForPath(SIMPLE_INDEX, bins);
    for (let i = 0; i < bins; i++) {
      const name = binName(i, bins);
      put(name, buildTargets(1, exp('bin'), name === listBin ? { [SIMPLE_INDEX]: listInfo } : {}), online);
    }
    const plan = planPublication(
      { timestampVersion: 0, snapshotVersion: 0, snapshotText: () => undefined, versionOf: () => undefined, versions: () => new Map(), current: new Map() },
      { targetEdits: new Map(), resign: new Set(), replaced, presigned: new Map(), bulk: new Set(), forceSnapshot: false, newRoot: false },
      now,
      expires,
    );
    o.onProgress?.(`signing ${bins} bins`);
    const roleBytes = await signPayloads(plan, { online, given: (r) => signersOf.get(r)! });
    const snapshotBytes = await signRole(plan.snapshot!.signedText, [online]);
    const timestampBytes = await signRole(plan.timestamp(snapshotBytes).signedText, [online]);

    o.onProgress?.('self-check');
    await selfCheck({
      rootBytes,
      newTimestampBytes: timestampBytes,
      snapshotBytes,
      snapshotChanged: true,
      snapshot: { oldVersions: new Map(), newVersions: plan.snapshot!.newVersions! },
      changedRoles: roleBytes,
      roleBytes: async (r) => roleBytes.get(r)!,
    });

    // Persisted into the temporary directory (nobody sees it: no lock, no prepared journal
    // entry); the rename into place below is this publication's commit point.
    o.onProgress?.('writing');
    let storage: Storage;
    if (o.storage) {
      // On object storage the commit (timestamp.json with If-None-Match: *) is the commit point:
      // a second init of the same prefix loses it (storage/s3.ts).
      storage = await new (await import('../storage/s3.js')).S3Storage(o.storage).open();
      if ((await storage.read('metadata', 'timestamp.json')) !== undefined) {
        throw new TufpipError('EXISTS', `${describeS3(o.storage)} already holds a repository (metadata/timestamp.json): refusing to overwrite it`);
      }
      // Clients bootstrap from this copy (out of band); the published 1.root.json is the same bytes.
      await fsp.writeFile(path.join(tmpDir, versionedFileName('root', 1)), rootBytes);
    } else {
      await fse.ensureDir(tmp.metadataDir);
      await fse.ensureDir(path.join(tmp.site, 'packages'));
      await fse.ensureDir(path.join(tmp.site, 'simple'));
      storage = new LocalDiskStorage(tmp);
    }
    await persistPublication(storage, undefined, {
      command: 'init',
      content: [{ targetPath: SIMPLE_INDEX, sha256: listInfo.hashes.sha256, source: { bytes: listHtml }, plainBeforePublish: storage.plainNames }],
      roles: plan.payloads.map((p) => [versionedFileName(p.role, p.version), roleBytes.get(p.role)!]),
      snapshot: [versionedFileName('snapshot', plan.snapshot!.version), snapshotBytes],
      root: [versionedFileName('root', 1), rootBytes],
      withdrawn: [],
      time: now.toISOString(),
      timestamp: timestampBytes,
    });
    const onlineRel = path.relative(layout.dir, path.join(keysDir, 'online.pem'));
    const config: RepoConfig = {
      format: CONFIG_FORMAT,
      url,
      bins,
      expires,
      onlineSigner: `file:${keysInside ? onlineRel : path.join(keysDir, 'online.pem')}`,
      onlinePassphraseEnv: o.passphrase ? o.passphraseEnv : undefined,
      keysDir: keysInside ? 'keys' : keysDir,
      storage: o.storage,
    };
    await storage.state.saveConfig(config);
    if (o.storage) await tmp.saveConfig(config);
    await storage.state.appendJournal({ txn: `1-${process.pid}`, state: 'done', command: 'init', timestampVersion: 1, time: now.toISOString() });
    await fsp.rename(tmpDir, layout.dir);
    await fsyncDir(path.dirname(layout.dir));
    const rootFile = o.storage ? path.join(layout.dir, versionedFileName('root', 1)) : layout.metadataFile(versionedFileName('root', 1));
    return {
      storage: o.storage && describeS3(o.storage),
      dir: layout.dir,
      url,
      bins,
      root: rootFile,
      rootSha256: sha256Hex(rootBytes),
      keysDir,
      generatedKeys: generated,
      rootThreshold: t,
      keyids: {
        root: rootIds,
        targets: [targetsSigner.keyid],
        claimed: [claimedSigner.keyid],
        bins: [binsSigner.keyid],
        online: [online.keyid],
      },
    };
  } catch (err) {
    await fse.remove(tmpDir).catch(() => undefined);
    throw err;
  }
}

export { keyIdOf };
