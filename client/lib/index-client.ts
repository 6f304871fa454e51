// IndexClient: one TUF-protected index, as the library API (client/lib/api.ts) promises. Verification is
// tuf-js's Updater (DESIGN.md "Client": never re-implement the client workflow); this class adds
// the trust store, the hardened fetcher and persistence, who-vouched reports, the PEP 480
// signature-gap tripwire, atomic downloads and error classification.
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Updater, type TargetFile } from '../../tuf/updater.js';
import { MetadataKind, type Metadata, type Root, type Snapshot, type Targets, type Timestamp } from '../../tuf/models.js';
import { BINS, TARGETS, projectRole, isProjectRole } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS } from '../../metadata/role-graph.js';
import { shortKeyId } from '../../metadata/keys.js';
import { TufpipError } from '../../metadata/errors.js';
import type { DownloadOptions, IndexFetcher, OpenIndexOptions, VerifiedTarget, Vouch } from './api.js';
import { ClientError, SignatureGapError, classifyTufError, meaningOf } from '../errors.js';
import { HttpFetcher, type FetchRecord, type OriginAuth } from '../../tuf/fetcher.js';
import { authorizationHeader, credentialsHint, describeSource, resolveCredentials, type Credential } from './index-credentials.js';
import { hardenUpdater, internals } from '../../tuf/updater-hardening.js';
import { withMetadataLock } from '../../io/metadata-lock.js';
import { commitTempFile, tempNameFor, writeFileAtomicSync } from '../../io/atomic-file.js';
import { defaultIndexName, parseIndexUrl, verifyTransport } from './index-url.js';
import { TrustStore, keepRootVersion, type TrustedIndex } from './trust-store.js';
import { checkRootBytes } from './root-check.js';
import { defaultDataDir } from './data-dir.js';
import { delegationOf, vouchFor } from './vouch.js';
import { sha256Hex } from '../../metadata/hash.js';

/** Opening a bare TUF metadata directory (the `tufpip tuf` conformance commands). */
export interface OpenMetadataDirOptions extends Omit<OpenIndexOptions, 'indexUrl' | 'dataDir' | 'trustedRoot'> {
  /** Directory holding root.json (and whatever tuf-js persisted since). */
  metadataDir: string;
  metadataBaseUrl: string;
  targetBaseUrl?: string;
}

interface ClientConfig extends Omit<OpenMetadataDirOptions, 'metadataDir' | 'metadataBaseUrl' | 'targetBaseUrl'> {
  /** What messages call the index (credential-free). */
  displayUrl: string;
  name?: string;
  metadataDir: string;
  metadataBaseUrl: string;
  targetBaseUrl?: string;
  /** Root history directory (trust store and embedded roots), if any. */
  rootsDir?: string;
  /** Index credentials per origin (client/lib/index-credentials.ts). */
  auth: OriginAuth[];
}

interface Found {
  /** The Updater that verified it (downloads use the same trusted set). */
  updater: Updater;
  info: TargetFile;
  target: VerifiedTarget;
}

export class IndexClient {
  /** The index URL, normal form without credentials. */
  readonly url: string;
  /** Trust-store name of the index, when opened from the trust store. */
  readonly name?: string;
  readonly metadataDir: string;
  private readonly cfg: ClientConfig;
  private readonly fetcher: IndexFetcher;
  private readonly progressPath = new AsyncLocalStorage<string>();
  private updater?: Updater;
  private readonly vouches = new Map<string, Vouch>();
  private visited?: { role: string; parent: string };
  private loading?: string;
  private closed = false;
  private pendingRefresh?: Promise<void>;

  private constructor(cfg: ClientConfig) {
    this.cfg = cfg;
    this.url = cfg.displayUrl;
    this.name = cfg.name;
    this.metadataDir = cfg.metadataDir;
    this.fetcher =
      cfg.fetcher ??
      new HttpFetcher({
        idleTimeoutMs: cfg.idleTimeoutMs,
        userAgent: cfg.userAgent ? `${cfg.userAgent} tufpip` : 'tufpip',
        auth: cfg.auth,
        onProgress: (_url, received, total) => {
          const p = this.progressPath.getStore();
          if (p) cfg.onProgress?.(p, received, total);
        },
      });
  }

  /**
   * Opens an index: its trusted root from the trust store (`tufpip trust add`) or `trustedRoot`,
   * metadata cached per index under the data directory. Makes no request; call refresh().
   */
  static async open(opts: OpenIndexOptions): Promise<IndexClient> {
    const { url } = parseIndexUrl(opts.indexUrl);
    verifyTransport(url, opts.allowHttp);
    const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
    if (!opts.trustedRoot) {
      const index = await new TrustStore(dataDir).find(url);
      if (!index) {
        throw new ClientError(
          'untrusted-index',
          `no trusted root for index ${url}: get its root.json out of band and run 'tufpip trust add ${url} --root ROOT.json'`,
          { index: url },
        );
      }
      return IndexClient.openTrusted(index, opts);
    }
    const trustedRoot = opts.trustedRoot;
    const root = checkRootBytes(trustedRoot, 'trustedRoot');
    // Cached per (index, trusted root): a cached newer root was reached from exactly this root.
    const id = sha256Hex(`${url}\n${root.sha256}`).slice(0, 16);
    const dir = path.join(dataDir, 'embedded', id);
    const metadataDir = path.join(dir, 'metadata');
    const rootsDir = path.join(dir, 'roots');
    await fsp.mkdir(metadataDir, { recursive: true });
    await fsp.mkdir(rootsDir, { recursive: true });
    await withMetadataLock(metadataDir, async () => {
      if (!fs.existsSync(path.join(metadataDir, 'root.json'))) {
        keepRootVersion(rootsDir, root.version, trustedRoot);
        writeFileAtomicSync(path.join(metadataDir, 'root.json'), trustedRoot);
      }
    });
    return IndexClient.located(url, { metadataDir, rootsDir }, opts);
  }

  /**
   * Opens an index the caller already found in the trust store (TrustStore.find) and whose
   * transport it already checked (verifyTransport): the index URL is not resolved again.
   * `opts.indexUrl` may carry the credentials; `opts.trustedRoot` and `opts.dataDir` are unused.
   */
  static openTrusted(index: TrustedIndex, opts: OpenIndexOptions): IndexClient {
    return IndexClient.located(index.url, { metadataDir: index.metadataDir, rootsDir: index.rootsDir, name: index.name, indexDir: index.dir }, opts);
  }

  private static located(url: string, where: { metadataDir: string; rootsDir: string; name?: string; indexDir?: string }, opts: OpenIndexOptions): IndexClient {
    const { metadataDir, rootsDir, name, indexDir } = where;
    return new IndexClient({
      ...opts,
      displayUrl: url,
      name,
      metadataDir,
      rootsDir,
      // Credentials travel in the Authorization header only, never in a URL tuf-js sees.
      metadataBaseUrl: `${url}metadata/`,
      targetBaseUrl: url,
      auth: [originAuth(opts.indexUrl, name ?? defaultIndexName(url), indexDir, opts.credential && { credential: opts.credential, source: opts.credentialSource ?? 'given to the client' })],
    });
  }

  /** Opens a bare tuf-js metadata directory (root.json already in it) with explicit URLs. */
  static async openMetadataDir(opts: OpenMetadataDirOptions): Promise<IndexClient> {
    verifyTransport(opts.metadataBaseUrl, opts.allowHttp);
    if (opts.targetBaseUrl) verifyTransport(opts.targetBaseUrl, opts.allowHttp);
    const slash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
    const given = [opts.metadataBaseUrl, ...(opts.targetBaseUrl ? [opts.targetBaseUrl] : [])];
    // One credential per origin: the first URL given for it (the metadata URL first).
    const auth: OriginAuth[] = [];
    for (const u of given) {
      const origin = new URL(u).origin;
      if (!auth.some((a) => a.origin === origin)) auth.push(originAuth(u, defaultIndexName(u)));
    }
    return new IndexClient({
      ...opts,
      displayUrl: slash(withoutCredentials(opts.metadataBaseUrl)),
      metadataDir: path.resolve(opts.metadataDir),
      metadataBaseUrl: slash(withoutCredentials(opts.metadataBaseUrl)),
      targetBaseUrl: opts.targetBaseUrl ? slash(withoutCredentials(opts.targetBaseUrl)) : undefined,
      auth,
    });
  }

  /** Every HTTP request this client made (URL without credentials, status, bytes), in order. */
  get requests(): readonly FetchRecord[] {
    return this.fetcher.log ?? [];
  }

  /**
   * TUF spec 5.1-5.6: root chain, timestamp, snapshot, top-level targets (tuf-js refresh) on a
   * fresh Updater (one Updater serves one refresh). Metadata that did not change is loaded from
   * the local cache: with nothing new on the server only timestamp.json is downloaded (plus the
   * probe for the next root version, which answers 404).
   */
  async refresh(): Promise<void> {
    this.assertOpen();
    await withMetadataLock(this.metadataDir, async () => {
      this.loading = undefined;
      let u: Updater;
      try {
        u = this.newUpdater();
      } catch (err) {
        throw new ClientError('metadata', `cannot load the trusted metadata in ${this.metadataDir}: ${(err as Error).message}`, { cause: err, index: this.url });
      }
      try {
        await u.refresh();
      } catch (err) {
        // Never keep answering from metadata that a refresh could not confirm.
        this.updater = undefined;
        throw classifyTufError(err, { index: this.url, role: this.loading });
      }
      this.updater = u;
      this.vouches.clear();
    });
  }

  /**
   * TUF spec 5.6.7: finds a target through the delegation graph (tuf-js's preorder walk) and
   * reports who vouched for it. Refreshes first if refresh() was not called yet.
   */
  async lookup(targetPath: string): Promise<VerifiedTarget> {
    return (await this.find(targetPath)).target;
  }

  /**
   * TUF spec 5.7: downloads a target (hash-prefixed URL under consistent snapshots), verifies its
   * length and hashes, and only then moves it to `destFile` atomically. A valid file already at
   * `destFile` is reused without downloading.
   */
  async download(targetPath: string, destFile: string, opts: DownloadOptions = {}): Promise<VerifiedTarget> {
    return (await this.ensureDownloaded(targetPath, destFile, opts)).target;
  }

  /** download(), also telling whether bytes were downloaded (false: a valid copy was kept). */
  async ensureDownloaded(targetPath: string, destFile: string, opts: DownloadOptions = {}): Promise<{ target: VerifiedTarget; downloaded: boolean }> {
    const { updater, info, target } = await this.find(targetPath);
    if (await this.isValidCopy(info, destFile)) return { target, downloaded: false };
    await fsp.mkdir(path.dirname(path.resolve(destFile)), { recursive: true });
    const tmp = tempNameFor(path.resolve(destFile));
    let sha256 = target.sha256;
    try {
      await this.downloadVerified(updater, info, tmp);
      // A repository that signs no sha256 (other TUF repositories) still gets one reported.
      if (!sha256) sha256 = sha256Hex(await fsp.readFile(tmp));
      await commitTempFile(tmp, destFile, opts.durable ?? true);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    return { target: { ...target, sha256 }, downloaded: true };
  }

  /** Downloads and verifies a target into memory (simple pages). */
  async fetchBytes(targetPath: string): Promise<{ bytes: Buffer; target: VerifiedTarget }> {
    const { updater, info, target } = await this.find(targetPath);
    const own = this.fetcher.scratchFile ? undefined : await fsp.mkdtemp(path.join(await fsp.realpath(os.tmpdir()), 'tufpip-dl-'));
    const file = own ? path.join(own, 'target') : await this.fetcher.scratchFile!();
    try {
      await this.downloadVerified(updater, info, file);
      const bytes = await fsp.readFile(file);
      return { bytes, target: { ...target, sha256: target.sha256 || sha256Hex(bytes) } };
    } finally {
      await fsp.rm(own ?? file, { recursive: true, force: true });
    }
  }

  /** TUF spec 5.7.3: checks a local file's length and hashes against the target's signed metadata. */
  async verifyLocalFile(targetPath: string, file: string): Promise<VerifiedTarget> {
    const { info, target } = await this.find(targetPath);
    try {
      await info.verify(fs.createReadStream(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TufpipError('NOT_FOUND', `${file} does not exist`, { cause: err });
      throw classifyTufError(err, { index: this.url, path: targetPath, role: target.vouchedBy.role });
    }
    return target;
  }

  /**
   * The top-level metadata tuf-js verified in the last refresh() (TUF spec 5.3-5.6), for readers
   * of the index's state (`tufpip watch`); undefined before a successful refresh.
   */
  verifiedTopLevel(): { root: Metadata<Root>; timestamp: Metadata<Timestamp>; snapshot: Metadata<Snapshot>; targets: Metadata<Targets> } | undefined {
    const ts = this.updater && internals(this.updater).trustedSet;
    if (!ts?.timestamp || !ts.snapshot || !ts.targets) return undefined;
    return { root: ts.root, timestamp: ts.timestamp, snapshot: ts.snapshot, targets: ts.targets };
  }

  /**
   * Downloads a metadata file by name (`7.snapshot.json`, `timestamp.json`), at most `maxLength`
   * bytes, through this client's fetcher (credentials, idle timeout, request log). Not verified:
   * the caller verifies it (tuf/history-verify.ts). A missing file is tuf-js's DownloadHTTPError 404.
   */
  async fetchMetadataFile(fileName: string, maxLength: number): Promise<Buffer> {
    this.assertOpen();
    return this.fetcher.downloadBytes(`${this.cfg.metadataBaseUrl}${fileName}`, maxLength);
  }

  /** Closes network connections. The client cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.fetcher.close?.();
  }

  // --- internals -------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new TufpipError('USAGE', `IndexClient for ${this.url} is closed`);
  }

  private newUpdater(): Updater {
    const u = new Updater({
      metadataDir: this.metadataDir,
      metadataBaseUrl: this.cfg.metadataBaseUrl,
      targetBaseUrl: this.cfg.targetBaseUrl,
      fetcher: this.fetcher,
    });
    return hardenUpdater(u, {
      onRootPersisted: (version, bytes) => {
        // TUF spec 5.3.8: the new root is persisted; keep every version (root history).
        if (this.cfg.rootsDir) keepRootVersion(this.cfg.rootsDir, version, bytes);
      },
      onRoleLoading: (role) => {
        this.loading = role;
      },
      onRoleVisited: (role, parent) => {
        this.visited = { role, parent };
      },
    });
  }

  private async find(targetPath: string): Promise<Found> {
    this.assertOpen();
    if (!this.updater || this.isStale(this.updater)) await this.implicitRefresh();
    return withMetadataLock(this.metadataDir, async () => {
      const u = this.updater;
      if (!u) throw new ClientError('metadata', `no verified metadata for index ${this.url}: refresh failed`, { index: this.url });
      this.visited = undefined;
      this.loading = undefined;
      let info: TargetFile | undefined;
      try {
        info = await u.getTargetInfo(targetPath);
      } catch (err) {
        // A claimed project with no signed release yet has no project role in the snapshot, so
        // the walk fails while loading it: that is the PEP 480 signature gap, not a broken index.
        if (this.loading && isProjectRole(this.loading) && !internals(u).trustedSet.snapshot?.signed.meta[`${this.loading}.json`]) {
          await this.checkSignatureGap(u, targetPath);
        }
        throw classifyTufError(err, { index: this.url, path: targetPath, role: this.loading });
      }
      if (!info) {
        await this.checkSignatureGap(u, targetPath);
        throw new ClientError('not-signed', `refused (not-signed) [${targetPath}, index ${this.url}]: ${meaningOf('not-signed')}`, {
          index: this.url,
          path: targetPath,
        });
      }
      // tuf-js's walk returns right after loading the role that lists the target.
      const { role, parent } = this.visited!;
      const sha256 = info.hashes.sha256 ?? '';
      return {
        updater: u,
        info,
        target: { path: targetPath, length: info.length, sha256, hashes: { ...info.hashes }, vouchedBy: this.vouchOf(u, role, parent) },
      };
    });
  }

  /** One refresh for concurrent callers that all found no (or stale) trusted metadata. */
  private implicitRefresh(): Promise<void> {
    this.pendingRefresh ??= this.refresh().finally(() => {
      this.pendingRefresh = undefined;
    });
    return this.pendingRefresh;
  }

  /**
   * TUF spec 5.4.4 / 5.5.6 (freeze): a long-lived client (the proxy) must not keep using a
   * timestamp or snapshot that has expired since its refresh; it refreshes first.
   */
  private isStale(u: Updater): boolean {
    const ts = internals(u).trustedSet;
    const now = new Date();
    return !!(ts.timestamp?.signed.isExpired(now) || ts.snapshot?.signed.isExpired(now));
  }

  private vouchOf(u: Updater, role: string, parent: string): Vouch {
    const key = `${parent}\u0000${role}`;
    let v = this.vouches.get(key);
    if (!v) {
      const ts = internals(u).trustedSet;
      const md = role === TARGETS ? ts.targets! : ts.getRole(role)!;
      v = vouchFor(role, md, parent === MetadataKind.Root ? ts.root : ts.getRole(parent)!);
      this.vouches.set(key, v);
    }
    return { ...v, keyids: [...v.keyids], signedBy: [...v.signedBy] };
  }

  /**
   * PEP 480 signature-gap tripwire: a `packages/<p>/<f>` target that no role lists, while
   * `project-<p>` is delegated (terminating) by claimed or recently-claimed, means the
   * maintainers did not sign a file someone asked for: never "not found", always a loud refusal.
   */
  private async checkSignatureGap(u: Updater, targetPath: string): Promise<void> {
    const m = /^packages\/([^/]+)\/[^/]+$/.exec(targetPath);
    if (!m) return;
    const ui = internals(u);
    const top = ui.trustedSet.targets;
    if (!top) return;
    const role = projectRole(m[1]);
    for (const delegatorName of PROJECT_DELEGATORS) {
      if (!delegationOf(top, delegatorName)) continue;
      const delegator = await this.loadRole(u, delegatorName, TARGETS, targetPath);
      const d = delegator?.signed.delegations?.roles?.[role];
      if (!d || !d.terminating || !d.isDelegatedPath(targetPath)) continue;
      const listedBy = await this.binListing(u, targetPath);
      const keys = `${d.threshold} of ${d.keyIDs.length} keys: ${d.keyIDs.map(shortKeyId).join(', ')}`;
      const listed = listedBy
        ? `yet the index's ${listedBy} lists it`
        : 'and no role of the index lists it either';
      throw new SignatureGapError(
        `refused (missing-developer-signature) [${targetPath}, index ${this.url}]: project ${m[1]} is developer-signed (${role}, delegated by ${delegatorName}, ${keys}) and its maintainers did not sign this file, ${listed}: ${meaningOf('missing-developer-signature')}`,
        { index: this.url, path: targetPath, role, listedBy },
      );
    }
  }

  /** Which hash bin lists a target, if any (for the signature-gap message only). */
  private async binListing(u: Updater, targetPath: string): Promise<string | undefined> {
    const top = internals(u).trustedSet.targets;
    if (!top || !delegationOf(top, BINS)) return undefined;
    const bins = await this.loadRole(u, BINS, TARGETS, targetPath);
    const bin = bins?.signed.delegations?.succinctRoles?.getRoleForTarget(targetPath);
    if (!bin) return undefined;
    const md = await this.loadRole(u, bin, BINS, targetPath);
    return md?.signed.targets[targetPath] ? bin : undefined;
  }

  private async loadRole(u: Updater, role: string, parent: string, targetPath: string): Promise<Metadata<Targets> | undefined> {
    try {
      return await internals(u).loadTargets(role, parent);
    } catch (err) {
      throw classifyTufError(err, { index: this.url, path: targetPath, role });
    }
  }

  private async isValidCopy(info: TargetFile, file: string): Promise<boolean> {
    try {
      const st = await fsp.stat(file);
      if (!st.isFile() || st.size !== info.length) return false;
      await info.verify(fs.createReadStream(file));
      return true;
    } catch {
      // Missing, unreadable or different: download it again (the download is verified).
      return false;
    }
  }

  private async downloadVerified(u: Updater, info: TargetFile, file: string): Promise<void> {
    try {
      // TUF spec 5.7.3: tuf-js verifies length and hashes before copying to `file`.
      await this.progressPath.run(info.path, () => u.downloadTarget(info, file));
    } catch (err) {
      throw classifyTufError(err, { index: this.url, path: info.path });
    }
  }
}

/** A URL without its user:password. */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.href;
}

/** The credentials for the origin of `url` (client/lib/index-credentials.ts precedence) and the 401/403 hint. */
function originAuth(url: string, name: string, indexDir?: string, given?: { credential: Credential; source: string }): OriginAuth {
  const { credential, source } = given ?? resolveCredentials({ url, name, indexDir });
  const clean = withoutCredentials(url);
  return {
    origin: new URL(clean).origin,
    authorization: credential ? authorizationHeader(credential) : undefined,
    source: typeof source === 'string' ? source : source ? describeSource(source) : undefined,
    hint: credentialsHint(name, clean, indexDir !== undefined),
  };
}
