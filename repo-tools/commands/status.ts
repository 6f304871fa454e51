// `tufpip-repo status`: per role: version, expiry, keys, threshold, valid signatures, file size
// against the clients' limits (tuf-js config.ts), and warnings. The 2^n bins are summarised.
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { CLIENT_LIMITS, OFFLINE_WARNING_DAYS, expiryKeyForRole, isDue } from '../../metadata/profile.js';
import { BINS, CLAIMED, RECENTLY_CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP, isBinRole, isOnlineRole } from '../../metadata/roles.js';
import { projectDelegatorIn } from '../../metadata/role-graph.js';
import { shortKeyId } from '../../metadata/keys.js';
import { RepoLayout } from '../storage/layout.js';
import { Published } from '../storage/published.js';
import { openStorage } from '../storage/open-storage.js';
import { onlineRoleExpiries } from '../storage/expiry-cache.js';
import { scanBins, type BinScanJob } from '../storage/bin-scan.js';

export interface RoleStatus {
  role: string;
  version: number;
  expires: string;
  daysLeft: number;
  online: boolean;
  keyids: string[];
  threshold: number;
  validSignatures: number;
  bytes: number;
  limit?: number;
  warnings: string[];
}

export interface StatusReport {
  dir: string;
  url: string;
  /** Where the tree is published (`DIR/site` or `s3://BUCKET/PREFIX`) and whether it has plain names (storage.ts plainNames). */
  storage: { where: string; plainNames: boolean };
  bins: number;
  projects: { developerSigned: string[] };
  roles: RoleStatus[];
  binsSummary: { count: number; earliestExpiry: string; largestBytes: number; targets: number };
  /**
   * The history clients and watchers can still read (consistent snapshots: every N.snapshot.json
   * stays published until `gc --keep` removes it): oldest and newest snapshot version, and when
   * the oldest was written. `tufpip watch run` must run more often than `gc --keep`.
   */
  history: { oldestSnapshot: number; newestSnapshot: number; oldestWritten?: string; versions: number };
  warnings: string[];
}

type AnyMd = Metadata<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function validCount(delegator: AnyMd, role: string, md: AnyMd): { keyids: string[]; threshold: number; valid: number } {
  const signed = delegator.signed as { type: string; keys?: Record<string, { verifySignature(m: AnyMd): void }>; roles?: Record<string, { keyIDs: string[]; threshold: number }>; delegations?: { keys: Record<string, { verifySignature(m: AnyMd): void }>; roles?: Record<string, { keyIDs: string[]; threshold: number }>; succinctRoles?: { keyIDs: string[]; threshold: number } } };
  const keys = signed.type === 'root' ? signed.keys! : signed.delegations?.keys ?? {};
  const r = signed.type === 'root' ? signed.roles![role] : signed.delegations?.roles?.[role] ?? signed.delegations?.succinctRoles;
  if (!r) return { keyids: [], threshold: 0, valid: 0 };
  let valid = 0;
  for (const id of r.keyIDs) {
    try {
      keys[id]?.verifySignature(md);
      if (keys[id]) valid++;
    } catch {
      // not signed by this key
    }
  }
  return { keyids: r.keyIDs, threshold: r.threshold, valid };
}

export async function repoStatus(repoDir: string, now = new Date()): Promise<StatusReport> {
  const layout = new RepoLayout(repoDir);
  const config = await layout.loadConfig();
  const storage = await openStorage(layout, undefined, config);
  const pub = await Published.load(layout, storage);
  pub.versions; // the snapshot's own checks (roles, versions) first, naming the file
  const warnings: string[] = [];
  const parse = (kind: MetadataKind, bytes: Buffer): AnyMd => Metadata.fromJSON(kind as MetadataKind.Targets, JSON.parse(bytes.toString('utf8')));
  const root = parse(MetadataKind.Root, pub.rootBytes);
  const roles: RoleStatus[] = [];
  const add = (role: string, md: AnyMd, delegator: AnyMd, bytes: number, limit?: number) => {
    const { keyids, threshold, valid } = validCount(delegator, role, md);
    const expires = (md.signed as { expires: string }).expires;
    const daysLeft = Math.floor(((Date.parse(expires) - now.getTime()) / 86400_000) * 10) / 10;
    const online = isOnlineRole(role);
    const w: string[] = [];
    if (valid < threshold) w.push(`only ${valid} of ${threshold} required signatures are valid`);
    if (daysLeft <= 0) w.push('EXPIRED: clients refuse this repository');
    else if (!online && daysLeft < OFFLINE_WARNING_DAYS) w.push(`offline role expires in ${daysLeft} days: sign a new version`);
    else if (online && isDue(expires, config.expires[expiryKeyForRole(role)], now)) w.push('due for re-signing: is the bump cron job running?');
    if (limit && bytes > limit) w.push(`${bytes} bytes is over the clients' limit of ${limit}`);
    else if (limit && bytes > limit * 0.8) w.push(`${bytes} bytes is close to the clients' limit of ${limit}`);
    roles.push({ role, version: (md.signed as { version: number }).version, expires, daysLeft, online, keyids: keyids.map(shortKeyId), threshold, validSignatures: valid, bytes, limit, warnings: w });
    warnings.push(...w.map((x) => `${role}: ${x}`));
  };
  add(ROOT, root, root, pub.rootBytes.length, CLIENT_LIMITS.root);
  add(TIMESTAMP, parse(MetadataKind.Timestamp, pub.timestampBytes), root, pub.timestampBytes.length, CLIENT_LIMITS.timestamp);
  add(SNAPSHOT, parse(MetadataKind.Snapshot, pub.snapshotBytes), root, pub.snapshotBytes.length, CLIENT_LIMITS.snapshot);
  const targets = parse(MetadataKind.Targets, (await pub.role(TARGETS)).bytes);
  add(TARGETS, targets, root, (await pub.role(TARGETS)).bytes.length, CLIENT_LIMITS.targets);
  const developerSigned: string[] = [];
  const mds = new Map<string, AnyMd>();
  for (const r of [CLAIMED, RECENTLY_CLAIMED, BINS]) {
    const loaded = await pub.role(r);
    const md = parse(MetadataKind.Targets, loaded.bytes);
    mds.set(r, md);
    add(r, md, targets, loaded.bytes.length, CLIENT_LIMITS.targets);
    if (r !== BINS) for (const d of loaded.signed.delegations?.roles ?? []) developerSigned.push(d.name);
  }
  const delegated = async (r: string) => ((await pub.role(r)).signed.delegations?.roles ?? []).map((d) => d.name);
  const projectDelegator = projectDelegatorIn({ [CLAIMED]: await delegated(CLAIMED), [RECENTLY_CLAIMED]: await delegated(RECENTLY_CLAIMED) });
  for (const name of developerSigned) {
    if (pub.versionOf(name) === undefined) continue;
    const loaded = await pub.role(name);
    const parent = projectDelegator(name) ?? RECENTLY_CLAIMED;
    add(name, parse(MetadataKind.Targets, loaded.bytes), mds.get(parent)!, loaded.bytes.length, CLIENT_LIMITS.targets);
  }
  // Bins: expiry from the cache hint (validated by version), sizes from the files' stat.
  const exp = await onlineRoleExpiries(pub, storage.state);
  let earliest = '';
  let count = 0;
  let largest = 0;
  let targetCount = 0;
  const binJobs: BinScanJob[] = [];
  for (const [role, e] of exp) {
    if (!isBinRole(role)) continue;
    count++;
    if (!earliest || e < earliest) earliest = e;
    binJobs.push({ name: role, version: pub.versionOf(role)! });
  }
  const facts = await scanBins({ reader: storage.readerForWorkers(), publishedBinsBytes: (await pub.role(BINS)).bytes }, binJobs);
  for (const f of facts.values()) {
    largest = Math.max(largest, f.bytes);
    targetCount += f.targets;
  }
  if (earliest && isDue(earliest, config.expires.bin, now)) warnings.push(`bins: some bins are due for re-signing (earliest expiry ${earliest}): is the bump cron job running?`);
  if (largest > CLIENT_LIMITS.targets * 0.8) warnings.push(`bins: the largest bin is ${largest} bytes, close to the clients' limit; use more bins`);
  const snapshots = (await storage.list('metadata', ''))
    .map((o) => ({ version: Number(/^(\d+)\.snapshot\.json$/.exec(o.name)?.[1]), modified: o.modified }))
    .filter((o) => Number.isInteger(o.version))
    .sort((a, b) => a.version - b.version);
  const history = {
    oldestSnapshot: snapshots[0]?.version ?? pub.snapshot.version,
    newestSnapshot: pub.snapshot.version,
    ...(snapshots[0] ? { oldestWritten: snapshots[0].modified.toISOString() } : {}),
    versions: snapshots.length,
  };
  return {
    dir: layout.dir,
    url: config.url,
    storage: { where: storage.where('targets', '').replace(/\/$/, ''), plainNames: storage.plainNames },
    history,
    bins: config.bins,
    projects: { developerSigned: developerSigned.map((d) => d.replace(/^project-/, '')) },
    roles,
    binsSummary: { count, earliestExpiry: earliest, largestBytes: largest, targets: targetCount },
    warnings,
  };
}
