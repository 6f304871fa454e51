// PEP 480 repositories for end-to-end and attack tests, built with the real `tufpip-repo` commands
// a maintainer and an operator run (keygen, claim, release sign, release sign --add-signature,
// add --signed), plus the one thing no command does on purpose: a compromised index using its
// online key to publish a file of a developer-signed project (indexOnlyAdd).
import fs from 'node:fs';
import path from 'node:path';
import { parseDistFilename } from '../../metadata/pep503.js';
import { packagePath } from '../../metadata/target-paths.js';
import { writeNewKey } from '../../repo-tools/keys/keygen.js';
import { projectFiles, writeProjectPage } from '../../repo-tools/index/simple-pages.js';
import { withRepo } from '../../repo-tools/txn/open-repo.js';
import { Transaction, type CommitResult } from '../../repo-tools/txn/transaction.js';
import { sha256Hex } from '../../metadata/hash.js';
import { tufpipRepo, type RunResult } from './cli.js';
import { expectOk } from './repo.js';
import { tmpDir } from './tmp.js';

export interface Maintainer {
  name: string;
  /** Private key (PEM) and public key (TUF key JSON) files. */
  pem: string;
  pub: string;
  keyid: string;
}

/** Maintainer key pairs, written as `tufpip-repo keygen` writes them. */
export async function maintainers(names: string[]): Promise<Maintainer[]> {
  const dir = path.join(tmpDir('tufpip-maintainers-'), 'keys');
  const out: Maintainer[] = [];
  for (const name of names) {
    const k = await writeNewKey(dir, name);
    out.push({ name, pem: k.privatePath, pub: k.publicPath, keyid: k.keyid });
  }
  return out;
}

/** `tufpip-repo claim DIR PROJECT --key ... --threshold T --offline-key DIR/keys/claimed.pem` (`env`: the backend's, test/helpers/backends.ts). */
export function claim(repoDir: string, project: string, keys: Maintainer[], threshold: number, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return tufpipRepo(['claim', repoDir, project, '--threshold', String(threshold), '--offline-key', path.join(repoDir, 'keys', 'claimed.pem'), ...keys.flatMap((k) => ['--key', k.pub])], { env });
}

export interface ReleaseSigning {
  project: string;
  files: string[];
  /** Who signs, in order: the first runs `release sign`, the others `release sign --add-signature`. */
  signers: Maintainer[];
  /** The maintainer key set and threshold the release declares (`--maintainer-key`, `--threshold`). */
  keys: Maintainer[];
  threshold: number;
  /** Current project metadata (`--from`: a previous bundle or a copy of the index's metadata folder). */
  from?: string;
  out: string;
}

/** Signs a release bundle with the real maintainer commands; returns the bundle file. */
export async function signRelease(r: ReleaseSigning): Promise<string> {
  const [first, ...others] = r.signers;
  expectOk(
    await tufpipRepo([
      'release', 'sign', ...r.files, '--project', r.project, '--key', first.pem, '--out', r.out,
      ...r.keys.flatMap((k) => ['--maintainer-key', k.pub]), '--threshold', String(r.threshold),
      ...(r.from ? ['--from', r.from] : []),
    ]),
    `release sign (${first.name})`,
  );
  for (const m of others) expectOk(await tufpipRepo(['release', 'sign', '--add-signature', r.out, '--key', m.pem]), `release sign --add-signature (${m.name})`);
  return r.out;
}

/**
 * A simulated index compromise: what `add` does, minus its PEP 480 check, with the repository's
 * online key: the file goes into its hash bin and onto the project's simple page, and a new
 * snapshot and timestamp are published. The repository's own self-check accepts it (it is valid
 * PEP 458 metadata); only a PEP 480 client notices that the maintainers never signed it.
 */
export async function indexOnlyAdd(repoDir: string, file: string): Promise<CommitResult> {
  const bytes = fs.readFileSync(file);
  const sha256 = sha256Hex(bytes);
  const dist = parseDistFilename(path.basename(file));
  return withRepo(repoDir, {}, async (ctx) => {
    const tx = new Transaction(ctx, 'compromised-index add');
    const target = packagePath(dist.project, dist.filename);
    tx.setTarget(target, { length: bytes.length, hashes: { sha256 } });
    tx.addContent({ targetPath: target, sha256, source: { bytes }, plainBeforePublish: true });
    const files = (await projectFiles(tx, dist.project)).filter((f) => f.filename !== dist.filename);
    writeProjectPage(tx, dist.project, [...files, { filename: dist.filename, sha256 }]);
    return tx.commit();
  });
}
