// PEP 480 on the operator's side. `claim` delegates `packages/<project>/*` (terminating) from the
// offline `claimed` role — or, with --recent, from the online `recently-claimed` role (PEP 480's
// online path) — to `project-<name>` with the maintainers' keys and threshold. `promote` moves
// every recently-claimed project into `claimed` in one step. Claiming again with another key set
// replaces it: the old keys stop counting as soon as the new version is published.
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { keyIdOf, parsePublicKeyJson, shortKeyId, type PublicKeyJson } from '../../metadata/keys.js';
import { normalizeProject, verifyProjectName } from '../../metadata/pep503.js';
import { expiresAt } from '../../metadata/profile.js';
import { CLAIMED, RECENTLY_CLAIMED, TARGETS, projectRole } from '../../metadata/roles.js';
import { projectNameOf } from '../../metadata/role-graph.js';
import { isTakedownDelegation, projectDelegation } from '../../metadata/releases.js';
import { buildTargets, type DelegatedRoleJson, type Envelope, type TargetsSigned } from '../../metadata/builders.js';
import { checkThreshold } from '../../metadata/threshold.js';
import { canonicalize } from '../../metadata/canonical.js';
import { loadSigner, passphraseFromEnv, type Signer } from '../keys/signer.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import type { RepoContext } from '../txn/context.js';
import { projectFiles } from '../index/simple-pages.js';

export interface ClaimOptions extends OpenOptions {
  keyFiles: string[];
  threshold: number;
  /** Offline key of `claimed` (file path or signer URI); absent with `recent`. */
  offlineKey?: string;
  passphraseEnv?: string;
  recent?: boolean;
}

export interface ClaimResult {
  project: string;
  role: string;
  delegatedBy: string;
  keyids: string[];
  threshold: number;
  /** Files published before the claim: no longer served to TUF clients until maintainers sign them. */
  unsignedFiles: string[];
  /**
   * Roles a takedown left in the snapshot, undelegated, that the new keys verify: the claim puts
   * them (and the releases they list) back in force until the maintainers publish a fresh release.
   */
  revived: string[];
  /** The project was taken down (its delegation was the operator's key): this claim re-establishes it. */
  afterTakedown: boolean;
  commit: CommitResult;
}

/** Loads and checks the offline signer of `role` against the delegation in `targets`. */
export async function offlineSigner(ctx: RepoContext, role: string, uri: string | undefined, passphraseEnv?: string): Promise<Signer> {
  if (!uri) throw new TufpipError('USAGE', `signing ${role} needs its offline key: --offline-key FILE`);
  const signer = await loadSigner(uri, { passphrase: passphraseFromEnv(passphraseEnv) });
  const targets = await ctx.published.role(TARGETS);
  const d = targets.signed.delegations?.roles?.find((r) => r.name === role);
  if (!d?.keyids.includes(signer.keyid)) {
    throw new TufpipError('BAD_KEY', `${uri} (key ${shortKeyId(signer.keyid)}) is not a key of the ${role} role (${(d?.keyids ?? []).map(shortKeyId).join(', ')})`);
  }
  return signer;
}

async function readPublicKeys(files: string[]): Promise<Record<string, PublicKeyJson>> {
  const keys: Record<string, PublicKeyJson> = {};
  for (const f of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await fsp.readFile(f, 'utf8'));
    } catch (err) {
      throw new TufpipError('BAD_KEY', `cannot read public key ${f} (a NAME.pub.json from 'tufpip-repo keygen')`, { cause: err });
    }
    const k = parsePublicKeyJson(raw, f);
    const id = keyIdOf(k);
    if (keys[id]) throw new TufpipError('USAGE', `key ${shortKeyId(id)} is given twice`);
    keys[id] = k;
  }
  return keys;
}

/** A delegating role's next version with `project`'s delegation set (or removed when keys is undefined). */
export function withDelegation(cur: TargetsSigned, version: number, expires: string, project: string, d?: { keys: Record<string, PublicKeyJson>; role: DelegatedRoleJson }): TargetsSigned {
  const name = projectRole(project);
  const roles = (cur.delegations?.roles ?? []).filter((r) => r.name !== name);
  if (d) roles.push(d.role);
  roles.sort((a, b) => (a.name < b.name ? -1 : 1));
  // Keep only keys some delegation still uses (a removed maintainer's key leaves the role).
  const used = new Set(roles.flatMap((r) => r.keyids));
  const keys: Record<string, PublicKeyJson> = {};
  for (const [id, k] of Object.entries({ ...(cur.delegations?.keys ?? {}), ...(d?.keys ?? {}) })) if (used.has(id)) keys[id] = k;
  return buildTargets(version, expires, cur.targets, { keys, roles });
}

export async function claimProject(repoDir: string, projectName: string, o: ClaimOptions): Promise<ClaimResult> {
  verifyProjectName(projectName);
  const project = normalizeProject(projectName);
  if (o.keyFiles.length === 0) throw new TufpipError('USAGE', 'claim needs the maintainers\' public keys: --key A.pub.json [--key B.pub.json ...]');
  const keys = await readPublicKeys(o.keyFiles);
  const n = Object.keys(keys).length;
  if (!Number.isInteger(o.threshold) || o.threshold < 1 || o.threshold > n) throw new TufpipError('USAGE', `--threshold must be 1 to ${n} (the number of keys), got ${o.threshold}`);
  return withRepo(repoDir, o, async (ctx) => {
    const tx = new Transaction(ctx, 'claim');
    const { config, now } = ctx;
    const claimed = await ctx.published.role(CLAIMED);
    const recent = await ctx.published.role(RECENTLY_CLAIMED);
    const inClaimed = claimed.signed.delegations?.roles?.some((r) => r.name === projectRole(project));
    const topDelegations = (await ctx.published.role(TARGETS)).signed.delegations?.roles ?? [];
    const afterTakedown = [claimed, recent].some((role, i) => {
      const d = role.signed.delegations?.roles?.find((r) => r.name === projectRole(project));
      return d !== undefined && isTakedownDelegation(d, topDelegations.find((t) => t.name === (i === 0 ? CLAIMED : RECENTLY_CLAIMED))?.keyids ?? []);
    });
    const role = projectDelegation(project, Object.keys(keys), o.threshold);
    let delegatedBy: string;
    if (o.recent) {
      if (inClaimed) throw new TufpipError('REFUSED', `project ${project} is already in claimed (offline): changing its keys needs the claimed key (--offline-key), not --recent`);
      const online = await ctx.onlineSigner();
      tx.updateRole(RECENTLY_CLAIMED, withDelegation(recent.signed, recent.version + 1, expiresAt(now, config.expires['recently-claimed']), project, { keys, role }), [online]);
      delegatedBy = RECENTLY_CLAIMED;
    } else {
      const signer = await offlineSigner(ctx, CLAIMED, o.offlineKey, o.passphraseEnv);
      tx.updateRole(CLAIMED, withDelegation(claimed.signed, claimed.version + 1, expiresAt(now, config.expires.claimed), project, { keys, role }), [signer]);
      if (recent.signed.delegations?.roles?.some((r) => r.name === projectRole(project))) {
        tx.updateRole(RECENTLY_CLAIMED, withDelegation(recent.signed, recent.version + 1, expiresAt(now, config.expires['recently-claimed']), project), [await ctx.onlineSigner()]);
      }
      delegatedBy = CLAIMED;
    }
    tx.projectDelegators.set(projectRole(project), delegatedBy);
    const unsigned = (await projectFiles(tx, project)).map((f) => f.filename);
    const wasDelegated = inClaimed || recent.signed.delegations?.roles?.some((r) => r.name === projectRole(project));
    const revived = wasDelegated ? [] : await revivedRoles(ctx, project, keys, o.threshold);
    const commit = await tx.commit();
    return { project, role: projectRole(project), delegatedBy, keyids: role.keyids, threshold: o.threshold, unsignedFiles: unsigned, revived, afterTakedown, commit };
  });
}

/** The project role left in the snapshot by a takedown, and its releases, when `keys` verify it. */
async function revivedRoles(ctx: RepoContext, project: string, keys: Record<string, PublicKeyJson>, threshold: number): Promise<string[]> {
  const pRole = projectRole(project);
  if (ctx.published.versionOf(pRole) === undefined) return [];
  const old = await ctx.published.role(pRole);
  const env = { signed: old.signed, signatures: old.signatures };
  if (!checkThreshold(Buffer.from(canonicalize(env.signed), 'utf8'), env.signatures, keys, { keyids: Object.keys(keys), threshold }).met) return [];
  return [pRole, ...(old.signed.delegations?.roles ?? []).map((r) => r.name).filter((n) => ctx.published.versionOf(n) !== undefined)];
}

export interface PromoteResult {
  promoted: string[];
  commit: CommitResult;
}

/** PEP 480: moves every recently-claimed project into the offline `claimed` role at once. */
export async function promoteProjects(repoDir: string, o: OpenOptions & { offlineKey?: string; passphraseEnv?: string }): Promise<PromoteResult> {
  return withRepo(repoDir, o, async (ctx) => {
    const tx = new Transaction(ctx, 'promote');
    const { config, now } = ctx;
    const claimed = await ctx.published.role(CLAIMED);
    const recent = await ctx.published.role(RECENTLY_CLAIMED);
    const moving = recent.signed.delegations?.roles ?? [];
    if (moving.length === 0) return { promoted: [], commit: await tx.commit() };
    const signer = await offlineSigner(ctx, CLAIMED, o.offlineKey, o.passphraseEnv);
    let next = claimed.signed;
    const exp = expiresAt(now, config.expires.claimed);
    const onlineIds = (await ctx.published.role(TARGETS)).signed.delegations?.roles?.find((t) => t.name === RECENTLY_CLAIMED)?.keyids ?? [];
    for (const r of moving) {
      const project = projectNameOf(r.name);
      tx.projectDelegators.set(r.name, CLAIMED);
      if (isTakedownDelegation(r, onlineIds)) {
        // Taken down while recently claimed: the online key must not end up trusted by claimed.
        // The takedown moves to the claimed key: same empty project role, next version, re-signed.
        next = withDelegation(next, claimed.version + 1, exp, project, { keys: { [signer.keyid]: signer.publicKey }, role: projectDelegation(project, [signer.keyid], 1) });
        if (ctx.published.versionOf(r.name) !== undefined) {
          tx.updateRole(r.name, buildTargets(ctx.published.versionOf(r.name)! + 1, expiresAt(now, config.expires.project), {}), [signer]);
        }
        continue;
      }
      const keys: Record<string, PublicKeyJson> = {};
      for (const id of r.keyids) keys[id] = recent.signed.delegations!.keys[id];
      next = withDelegation(next, claimed.version + 1, exp, project, { keys, role: r });
    }
    tx.updateRole(CLAIMED, next, [signer]);
    tx.updateRole(RECENTLY_CLAIMED, buildTargets(recent.version + 1, expiresAt(now, config.expires['recently-claimed']), recent.signed.targets, { keys: {}, roles: [] }), [await ctx.onlineSigner()]);
    return { promoted: moving.map((r) => r.name), commit: await tx.commit() };
  });
}
