// PEP 480 on the maintainer's side: `release sign` builds the next version of the project's
// signed metadata (metadata/releases.ts) and signs it; further maintainers add signatures to the
// same bundle (the signed content never changes); `release status` shows signatures against the
// threshold. Nothing here needs the index's keys: only the maintainer's own.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { canonicalize } from '../../metadata/canonical.js';
import { TufpipError } from '../../metadata/errors.js';
import { keyIdOf, parsePublicKeyJson, shortKeyId, type PublicKeyJson } from '../../metadata/keys.js';
import { normalizeProject, parseDistFilename } from '../../metadata/pep503.js';
import { defaultExpiryDays } from '../../metadata/profile.js';
import { projectRole } from '../../metadata/roles.js';
import { RELEASE_BUNDLE_FORMAT, isReleaseRoleOf, planRelease, releaseRoleName, type ReleaseFile } from '../../metadata/releases.js';
import type { Envelope, SignatureJson, TargetInfo, TargetsSigned } from '../../metadata/builders.js';
import { sha256Hex } from '../../metadata/hash.js';
import { checkTransition, parseTransition, transitionPath, type KeyTransition } from '../../metadata/key-transition.js';
import { checkSignatures } from '../../metadata/threshold.js';
import { loadSigner, passphraseFromEnv, type Signer } from '../keys/signer.js';
import { checkDistribution } from '../dist-check.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { registeredMaintainers, type RegisteredMaintainers } from './registered-maintainers.js';

export interface ReleaseBundle {
  format: typeof RELEASE_BUNDLE_FORMAT;
  project: string;
  version: string;
  roles: Record<string, Envelope<TargetsSigned>>;
  /**
   * The keys and threshold the index registered for the project role (claim), when `release sign`
   * read them (--index / --from DIR): `release status` counts the project role's signatures
   * against them, as `add --signed` will. Not signed: the index checks its own delegation.
   */
  registered?: RegisteredMaintainers;
}

/**
 * A key transition file of `project` signed by a threshold of its old and of its new keys
 * (metadata/key-transition.ts); anything else is refused: only complete transitions are published.
 */
export async function loadCompleteTransition(file: string, project: string): Promise<KeyTransition> {
  let t: KeyTransition;
  try {
    t = parseTransition(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `key transition ${file}: ${(err as Error).message}`, { cause: err });
  }
  const c = checkTransition(t, project);
  if (!c.ok) throw new TufpipError('REFUSED', `key transition ${file} does not count: ${c.reason} (collect signatures with 'tufpip-repo release rotate-keys --out ${file} --key ...')`);
  return t;
}

export function parseBundle(text: string, where: string): ReleaseBundle {
  let b: ReleaseBundle;
  try {
    b = JSON.parse(text) as ReleaseBundle;
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${where} is not valid JSON`, { cause: err });
  }
  if (!b || b.format !== RELEASE_BUNDLE_FORMAT || typeof b.project !== 'string' || !b.roles || typeof b.roles !== 'object') {
    throw new TufpipError('BAD_INPUT', `${where} is not a tufpip release bundle (format ${RELEASE_BUNDLE_FORMAT})`);
  }
  for (const [name, env] of Object.entries(b.roles)) {
    if (!env || !Array.isArray(env.signatures) || !env.signed || env.signed._type !== 'targets') {
      throw new TufpipError('BAD_INPUT', `${where}: role ${name} is not targets metadata`);
    }
  }
  return b;
}

export async function loadBundle(file: string): Promise<ReleaseBundle> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read release bundle ${file}`, { cause: err });
  }
  return parseBundle(text, file);
}

function signRoleInto(env: Envelope<TargetsSigned>, signer: Signer): void {
  const bytes = Buffer.from(canonicalize(env.signed), 'utf8');
  const sig: SignatureJson = { keyid: signer.keyid, sig: signer.signSync!(bytes) };
  env.signatures = env.signatures.filter((s) => s.keyid !== signer.keyid);
  env.signatures.push(sig);
}

/**
 * Key IDs whose signature on `env` verifies, among `keys`: @tufjs/models checks the shape, the one
 * verifier (metadata/threshold.ts) the signatures over the canonical form of what it parsed.
 */
export function validSigners(env: Envelope<TargetsSigned>, keys: Record<string, PublicKeyJson>): string[] {
  const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(JSON.stringify(env)));
  const signed = Buffer.from(canonicalize(md.signed.toJSON()), 'utf8');
  const valid = new Set(checkSignatures(signed, Object.values(md.signatures).map((s) => ({ keyid: s.keyID, sig: s.sig })), keys).valid);
  return Object.keys(keys).filter((id) => valid.has(id));
}

/** Current project metadata: a previous bundle, or a directory of published metadata files. */
async function loadCurrent(from: string, project: string): Promise<Map<string, Envelope<TargetsSigned>>> {
  const out = new Map<string, Envelope<TargetsSigned>>();
  const st = await fsp.stat(from).catch((err) => {
    throw new TufpipError('NOT_FOUND', `--from ${from}: no such file or directory`, { cause: err });
  });
  if (st.isFile()) {
    const b = parseBundle(await fsp.readFile(from, 'utf8'), from);
    if (b.project !== project) throw new TufpipError('BAD_INPUT', `--from ${from} is for project ${b.project}, not ${project}`);
    for (const [n, e] of Object.entries(b.roles)) out.set(n, e);
    return out;
  }
  // A metadata directory (a copy of site/metadata): highest version of each project role.
  const best = new Map<string, number>();
  const re = new RegExp(`^(\\d+)\\.(${projectRole(project).replace(/[-]/g, '\\-')}(?:--[a-z0-9._]+)?)\\.json$`);
  for (const name of fs.readdirSync(from)) {
    const m = re.exec(name);
    if (m && Number(m[1]) > (best.get(m[2]) ?? 0)) best.set(m[2], Number(m[1]));
  }
  for (const [role, v] of best) {
    out.set(role, JSON.parse(await fsp.readFile(path.join(from, `${v}.${role}.json`), 'utf8')) as Envelope<TargetsSigned>);
  }
  return out;
}

/** Current project metadata from a served index (raw; checked below with the maintainers' keys). */
async function fetchCurrent(indexUrl: string, project: string): Promise<Map<string, Envelope<TargetsSigned>>> {
  const base = indexUrl.endsWith('/') ? indexUrl : `${indexUrl}/`;
  const get = async (name: string) => {
    const r = await fetch(`${base}metadata/${encodeURIComponent(name)}`);
    if (!r.ok) throw new TufpipError('NOT_FOUND', `${base}metadata/${name}: HTTP ${r.status}`);
    return JSON.parse(await r.text());
  };
  const ts = await get('timestamp.json');
  const snap = await get(`${ts.signed.meta['snapshot.json'].version}.snapshot.json`);
  const out = new Map<string, Envelope<TargetsSigned>>();
  for (const [file, info] of Object.entries(snap.signed.meta as Record<string, { version: number }>)) {
    const role = file.slice(0, -5);
    if (role === projectRole(project) || isReleaseRoleOf(role, project)) out.set(role, await get(`${info.version}.${file}`));
  }
  return out;
}

export interface ReleaseSignOptions {
  project: string;
  key: string;
  passphraseEnv?: string;
  files: string[];
  out: string;
  from?: string;
  index?: string;
  /** The index's root the maintainer trusts, to verify the registered keys from (else its 1.root.json). */
  root?: string;
  /** The project's maintainer keys and threshold (first release, or a key change). */
  maintainerKeys?: string[];
  threshold?: number;
  expiresDays?: number;
  now?: Date;
  /**
   * Start the project over (after an emergency takedown, or when the old keys cannot be trusted):
   * build on nothing published (no earlier release is carried over) but continue the version
   * numbers of the project's roles read from --index/--from, which clients require to grow
   * (TUF spec 5.5.5, 5.6.4). Versions carry no trust: a wrong one only makes `add --signed` refuse.
   */
  fresh?: boolean;
  /** Key transition files (release rotate-keys) the project role lists, so installers' locks follow the rotation. */
  transitions?: string[];
}

export interface RoleSignatureStatus {
  role: string;
  version: number;
  expires: string;
  threshold: number;
  keyids: string[];
  signedBy: string[];
  complete: boolean;
}

export async function releaseSign(o: ReleaseSignOptions): Promise<{ out: string; status: RoleSignatureStatus[] }> {
  const project = normalizeProject(o.project);
  const signer = await loadSigner(o.key, { passphrase: passphraseFromEnv(o.passphraseEnv) });
  if (o.files.length === 0) throw new TufpipError('USAGE', 'give the release files to sign');
  const files: ReleaseFile[] = [];
  let version: string | undefined;
  for (const f of o.files) {
    const c = await checkDistribution(f);
    if (c.dist.project !== project) throw new TufpipError('REFUSED', `${c.dist.filename} belongs to project ${c.dist.project}, not ${project}`);
    if (version !== undefined && version !== c.dist.version) throw new TufpipError('USAGE', `one release at a time: ${c.dist.filename} is version ${c.dist.version}, not ${version}`);
    version = c.dist.version;
    files.push({ filename: c.dist.filename, length: c.length, sha256: c.sha256 });
  }
  if (o.fresh && !o.from && !o.index) throw new TufpipError('USAGE', '--fresh needs --index URL (or --from a copy of its metadata folder): the new roles continue the published version numbers');
  const loaded = o.from ? await loadCurrent(o.from, project) : o.index ? await fetchCurrent(o.index, project) : new Map<string, Envelope<TargetsSigned>>();
  const publishedVersions = new Map([...loaded].map(([role, env]) => [role, env.signed.version]));
  const current = o.fresh ? new Map<string, Envelope<TargetsSigned>>() : loaded;
  const curProject = current.get(projectRole(project));
  // PEP 480: the keys and threshold the index registered (claim), verified from its metadata.
  const registered = await registeredMaintainers({ index: o.index, from: o.from }, project, o.root);
  const expected = (r: RegisteredMaintainers) => `${r.threshold} of ${Object.keys(r.keys).map(shortKeyId).join(', ')}`;

  // Keys: given explicitly, those the current project role delegates its releases to, or (first
  // release) those the index registered.
  let keys: Record<string, PublicKeyJson> = {};
  let threshold = o.threshold;
  if (o.maintainerKeys?.length) {
    for (const f of o.maintainerKeys) {
      const k = parsePublicKeyJson(JSON.parse(await fsp.readFile(f, 'utf8')), f);
      keys[keyIdOf(k)] = k;
    }
  } else if (curProject?.signed.delegations) {
    keys = curProject.signed.delegations.keys;
    threshold ??= curProject.signed.delegations.roles?.[0]?.threshold;
  } else if (registered) {
    keys = registered.keys;
    threshold ??= registered.threshold;
  } else {
    keys = { [signer.keyid]: signer.publicKey };
  }
  threshold ??= 1;
  if (registered) {
    // The index verifies the project role against its delegation: signing anything else would
    // give a bundle that can never be published.
    if (!registered.keys[signer.keyid]) {
      throw new TufpipError('BAD_KEY', `your key ${shortKeyId(signer.keyid)} is not one of the maintainer keys the index registered for ${project} (${registered.delegator}: ${expected(registered)}); ask the index operator to claim the project with your key`);
    }
    const same = Object.keys(keys).sort().join() === Object.keys(registered.keys).sort().join() && threshold === registered.threshold;
    if (!same && !curProject) {
      throw new TufpipError('USAGE', `the index registered ${expected(registered)} for ${project}; this release would declare ${threshold} of ${Object.keys(keys).map(shortKeyId).join(', ')}: give the registered keys and threshold (or none: they are taken from the index)`);
    }
  }
  if (!keys[signer.keyid]) throw new TufpipError('BAD_KEY', `your key ${shortKeyId(signer.keyid)} is not one of the project's maintainer keys (${Object.keys(keys).map(shortKeyId).join(', ')})`);
  if (threshold < 1 || threshold > Object.keys(keys).length) throw new TufpipError('USAGE', `--threshold must be 1 to ${Object.keys(keys).length}`);

  // What we build on must itself be maintainer-signed: a compromised index must not be able to
  // slip a release into what we sign (the trust anchor is the maintainers' keys, PEP 480).
  if (curProject) {
    const anchor = o.maintainerKeys?.length ? keys : { [signer.keyid]: signer.publicKey };
    const need = o.maintainerKeys?.length ? threshold : 1;
    const prevKeys = curProject.signed.delegations?.keys ?? {};
    const good = validSigners(curProject, { ...prevKeys, ...anchor }).filter((id) => anchor[id]);
    if (good.length < need) {
      throw new TufpipError('REFUSED', `the current ${projectRole(project)} metadata is not signed by ${o.maintainerKeys?.length ? `${need} of the given maintainer keys` : `your key ${shortKeyId(signer.keyid)}`}: refusing to build on it (give --maintainer-key for every maintainer and --threshold)`);
    }
  }
  const transitions = new Map<string, TargetInfo>();
  for (const f of o.transitions ?? []) {
    const t = await loadCompleteTransition(f, project);
    const bytes = await fsp.readFile(f);
    transitions.set(transitionPath(project, t.signed.sequence), { length: bytes.length, hashes: { sha256: sha256Hex(bytes) } });
  }
  const releases = new Map<string, TargetsSigned>();
  for (const [n, e] of current) if (n !== projectRole(project)) releases.set(n, e.signed);
  let plan;
  try {
    plan = planRelease({
      project,
      version: version!,
      files,
      current: curProject ? { project: curProject.signed, releases } : undefined,
      keys,
      threshold,
      now: o.now ?? new Date(),
      expiresDays: o.expiresDays ?? defaultExpiryDays.project,
      transitions,
    });
  } catch (err) {
    throw new TufpipError('CONFLICT', (err as Error).message, { cause: err });
  }
  const bundle: ReleaseBundle = { format: RELEASE_BUNDLE_FORMAT, project, version: version!, roles: {}, ...(registered ? { registered } : {}) };
  if (o.fresh) for (const [role, signed] of plan.roles) signed.version = (publishedVersions.get(role) ?? 0) + 1;
  for (const [role, signed] of plan.roles) {
    const env: Envelope<TargetsSigned> = { signatures: [], signed };
    signRoleInto(env, signer);
    bundle.roles[role] = env;
  }
  await writeFileAtomic(o.out, JSON.stringify(bundle, null, 1) + '\n');
  return { out: o.out, status: bundleStatus(bundle) };
}

/** Adds this maintainer's signature to every role of a bundle; the signed content is unchanged. */
export async function releaseAddSignature(file: string, key: string, passphraseEnv?: string): Promise<RoleSignatureStatus[]> {
  const bundle = await loadBundle(file);
  const signer = await loadSigner(key, { passphrase: passphraseFromEnv(passphraseEnv) });
  const pr = bundle.roles[projectRole(bundle.project)];
  const keys = pr?.signed.delegations?.keys ?? {};
  if (!keys[signer.keyid]) throw new TufpipError('BAD_KEY', `key ${shortKeyId(signer.keyid)} is not one of this release's maintainer keys (${Object.keys(keys).map(shortKeyId).join(', ')})`);
  // Existing signatures must still verify: the content must not have changed since they signed.
  for (const [role, env] of Object.entries(bundle.roles)) {
    const valid = new Set(validSigners(env, keys));
    const bad = env.signatures.filter((s) => !valid.has(s.keyid));
    if (bad.length) throw new TufpipError('REFUSED', `${role}: signature of ${bad.map((s) => shortKeyId(s.keyid)).join(', ')} does not verify: the bundle was changed after it was signed`);
  }
  for (const env of Object.values(bundle.roles)) signRoleInto(env, signer);
  await writeFileAtomic(file, JSON.stringify(bundle, null, 1) + '\n');
  return bundleStatus(bundle);
}

export function bundleStatus(bundle: ReleaseBundle): RoleSignatureStatus[] {
  const pRole = projectRole(bundle.project);
  const pr = bundle.roles[pRole];
  const keys = pr?.signed.delegations?.keys ?? {};
  const threshold = pr?.signed.delegations?.roles?.[0]?.threshold ?? 1;
  return Object.entries(bundle.roles).map(([role, env]) => {
    // The project role counts against what the index registered (when known), like add --signed;
    // release roles against the project role's delegation.
    const reg = role === pRole ? bundle.registered : undefined;
    const k = reg?.keys ?? keys;
    const t = reg?.threshold ?? threshold;
    const signedBy = validSigners(env, k);
    return { role, version: env.signed.version, expires: env.signed.expires, threshold: t, keyids: Object.keys(k), signedBy, complete: signedBy.length >= t };
  });
}

