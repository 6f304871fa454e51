// `tufpip-repo add DIR --signed P.release.json FILE...`: publishes a maintainer-signed release
// (PEP 480). Upload checks, all or nothing (PEP 480 "Publishing" and the list): a
// threshold of the project's registered keys signed it; every signature is valid; nothing is
// expired; it lists only paths under packages/<project>/; every listed file exists with that
// length and hash; every role's version is the published version + 1 (no rollback, no replay).
import fsp from 'node:fs/promises';
import path from 'node:path';
import fse from 'fs-extra';
import { Metadata, MetadataKind } from '../../tuf/models.js';
import { canonicalize } from '../../metadata/canonical.js';
import { serializeEnvelope, type Envelope, type TargetsSigned } from '../../metadata/builders.js';
import { TufpipError } from '../../metadata/errors.js';
import { parseEnvelope } from '../../metadata/envelope.js';
import { parseDistFilename } from '../../metadata/pep503.js';
import { CLAIMED, RECENTLY_CLAIMED, projectRole } from '../../metadata/roles.js';
import { PROJECT_DELEGATORS } from '../../metadata/role-graph.js';
import { isReleaseRoleOf } from '../../metadata/releases.js';
import { hashedPath, packagePath, projectOfTarget } from '../../metadata/target-paths.js';
import type { PageFile } from '../../metadata/simple-html.js';
import { checkDistribution, type CheckedDist } from '../dist-check.js';
import { sha256Stream } from '../../io/hash.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { RepoLayout } from '../storage/layout.js';
import { verifyModelDelegate } from '../storage/published.js';
import { projectFiles, projectList, writeProjectList, writeProjectPage } from '../index/simple-pages.js';
import { loadBundle } from './release.js';
import { verifyOneSpelling } from './add.js';
import { describeTufError } from '../../tuf/error-classifier.js';

export interface AddSignedResult {
  project: string;
  roles: { role: string; version: number; signedBy: number; threshold: number }[];
  added: string[];
  commit: CommitResult;
}

const refuse = (msg: string) => new TufpipError('REFUSED', `signed release refused: ${msg}; nothing was published`);

function toMetadata(env: Envelope<TargetsSigned>, role: string) {
  try {
    return Metadata.fromJSON(MetadataKind.Targets, JSON.parse(JSON.stringify(env)));
  } catch (err) {
    throw refuse(`${role} is not valid targets metadata (${describeTufError(err)})`);
  }
}

export async function addSigned(repoDir: string, bundleFile: string, files: string[], opts: OpenOptions = {}): Promise<AddSignedResult> {
  const bundle = await loadBundle(bundleFile);
  const project = bundle.project;
  const pRole = projectRole(project);
  const layout = new RepoLayout(repoDir);
  await layout.loadConfig();

  // Stage and check the given files outside site/ (same as `add`).
  const staging = path.join(layout.dir, 'staging', `${process.pid}-${Date.now()}`);
  await fse.ensureDir(staging);
  try {
    const given = new Map<string, CheckedDist>();
    for (const f of files) {
      parseDistFilename(path.basename(f));
      const st = await fsp.lstat(f).catch((err) => {
        throw new TufpipError('NOT_FOUND', `${f}: no such file`, { cause: err });
      });
      if (st.isSymbolicLink()) throw new TufpipError('BAD_INPUT', `${f} is a symbolic link: give the file itself`);
      const staged = path.join(staging, path.basename(f));
      await fsp.copyFile(f, staged);
      const c = await checkDistribution(staged);
      if (c.dist.project !== project) throw refuse(`${c.dist.filename} belongs to project ${c.dist.project}, the release is for ${project}`);
      given.set(packagePath(project, c.dist.filename), c);
    }

    return await withRepo(repoDir, opts, async (ctx) => {
      const { published: pub, now } = ctx;
      // The project must be developer-signed (claimed), and we verify against that delegation.
      let delegatorName: string | undefined;
      let delegatorBytes: Buffer | undefined;
      for (const r of PROJECT_DELEGATORS) {
        const loaded = await pub.role(r);
        if (loaded.signed.delegations?.roles?.some((d) => d.name === pRole)) {
          delegatorName = r;
          delegatorBytes = loaded.bytes;
          break;
        }
      }
      if (!delegatorName || !delegatorBytes) throw refuse(`project ${project} is not claimed (tufpip-repo claim) on this index`);
      const delegator = Metadata.fromJSON(MetadataKind.Targets, parseEnvelope(delegatorBytes, delegatorName) as unknown as Parameters<typeof Metadata.fromJSON>[1]);

      const projEnv = bundle.roles[pRole];
      if (!projEnv) throw refuse(`the bundle has no ${pRole} metadata`);
      const report: AddSignedResult['roles'] = [];
      const checkCommon = (role: string, env: Envelope<TargetsSigned>, md: ReturnType<typeof toMetadata>, parent: ReturnType<typeof toMetadata>) => {
        // TUF spec 5.6.3 / PEP 480: a threshold of valid signatures by the delegated keys.
        try {
          verifyModelDelegate(parent, role, md);
        } catch (err) {
          throw refuse(`${role}: ${(err as Error).message} (threshold of the project's registered keys not met, or a bad signature)`);
        }
        // TUF spec 5.6.5: not expired.
        if (Date.parse(env.signed.expires) <= now.getTime()) throw refuse(`${role} expired at ${env.signed.expires}`);
        // TUF spec 5.6.4 / rollback and replay: exactly the published version + 1.
        const expected = (pub.versionOf(role) ?? 0) + 1;
        if (env.signed.version !== expected) throw refuse(`${role} has version ${env.signed.version}, expected ${expected} (the published version + 1): a replayed or stale release`);
        const sigs = new Set(env.signatures.map((s) => s.keyid));
        const roleDef = parent.signed.delegations?.roles?.[role];
        report.push({ role, version: env.signed.version, signedBy: roleDef ? roleDef.keyIDs.filter((k) => sigs.has(k)).length : 0, threshold: roleDef?.threshold ?? 0 });
      };
      const projMd = toMetadata(projEnv, pRole);
      checkCommon(pRole, projEnv, projMd, delegator);
      const releaseDefs = projMd.signed.delegations?.roles ?? {};
      for (const [name, d] of Object.entries(releaseDefs)) {
        if (!isReleaseRoleOf(name, project)) throw refuse(`${pRole} delegates to ${name}, which is not a release of ${project}`);
        for (const p of d.paths ?? []) {
          if (projectOfTarget(p) !== project || !p.startsWith('packages/') || /[*?[\]]/.test(p)) throw refuse(`${name} claims path ${p}, outside packages/${project}/ or not an exact file`);
        }
        if (!d.terminating) throw refuse(`${name} must be a terminating delegation`);
      }
      // Each release role in the bundle: delegated by the new project role, exact files only.
      const pages = new Map<string, PageFile>();
      for (const [role, env] of Object.entries(bundle.roles)) {
        if (role === pRole) continue;
        if (!releaseDefs[role]) throw refuse(`the bundle carries ${role}, which ${pRole} does not delegate to`);
        const md = toMetadata(env, role);
        checkCommon(role, env, md, projMd);
        const allowed = new Set(releaseDefs[role].paths ?? []);
        for (const p of Object.keys(env.signed.targets)) {
          if (!allowed.has(p)) throw refuse(`${role} lists ${p}, which its delegation does not cover (only packages/${project}/ files it names)`);
        }
      }
      // Every file of every delegated release must exist with the signed length and hash: given
      // now, or already on the index. Roles not in the bundle stay as published.
      const releaseTargets = new Map<string, TargetsSigned['targets']>();
      for (const name of Object.keys(releaseDefs)) {
        const env = bundle.roles[name];
        if (env) releaseTargets.set(name, env.signed.targets);
        else if (pub.versionOf(name) !== undefined) releaseTargets.set(name, (await pub.role(name)).signed.targets);
        else throw refuse(`${pRole} delegates to ${name}, which is neither in the bundle nor published`);
      }
      const tx = new Transaction(ctx, 'add --signed');
      const previousPage = new Map((await projectFiles(tx, project)).map((f) => [f.filename, f]));
      tx.projectDelegators.set(pRole, delegatorName);
      const added: string[] = [];
      const listed = new Set<string>();
      for (const [, targets] of releaseTargets) {
        for (const [p, info] of Object.entries(targets)) {
          listed.add(p);
          const filename = p.slice(p.lastIndexOf('/') + 1);
          const g = given.get(p);
          if (g) {
            if (g.length !== info.length || g.sha256 !== info.hashes.sha256) throw refuse(`${filename} does not match the signed length and sha256 (given ${g.length} bytes, sha256 ${g.sha256.slice(0, 12)}…)`);
            tx.addContent({ targetPath: p, sha256: g.sha256, source: { file: g.file }, plainBeforePublish: true });
            added.push(filename);
          } else {
            // Hashed as published (read through the storage seam), not trusted by its name.
            const published = await ctx.storage.stream('targets', hashedPath(p, info.hashes.sha256));
            const h = published && (await sha256Stream(published).catch(() => undefined));
            if (!h || h.sha256 !== info.hashes.sha256 || h.length !== info.length) throw refuse(`${filename} is listed by the release but was not given and is not on the index`);
          }
          const requiresPython = g ? g.requiresPython : previousPage.get(filename)?.requiresPython;
          const page: PageFile = { filename, sha256: info.hashes.sha256, requiresPython };
          // PEP 592: a yank (operator's, on the page) outlives the maintainers' next release.
          const prev = previousPage.get(filename);
          if (prev?.yanked !== undefined && prev.sha256 === info.hashes.sha256) page.yanked = prev.yanked;
          pages.set(filename, page);
        }
      }
      for (const p of given.keys()) if (!listed.has(p)) throw refuse(`${p.slice(p.lastIndexOf('/') + 1)} is not listed by any signed release of ${project}`);
      for (const [role, env] of Object.entries(bundle.roles)) {
        tx.putSignedRole(role, Buffer.from(serializeEnvelope(canonicalize(env.signed), env.signatures), 'utf8'), env.signed.version);
      }
      // One distribution, one filename, among every file the page will list.
      verifyOneSpelling(project, [], [...pages.keys()]);
      // The simple page lists exactly the files the maintainers signed (kept in the bins).
      writeProjectPage(tx, project, [...pages.values()]);
      const projects = new Set(await projectList(tx));
      if (!projects.has(project)) writeProjectList(tx, [...projects, project]);
      const commit = await tx.commit();
      return { project, roles: report, added, commit };
    });
  } finally {
    await fse.remove(staging).catch(() => undefined);
    await fsp.rmdir(path.join(layout.dir, 'staging')).catch(() => undefined);
  }
}
