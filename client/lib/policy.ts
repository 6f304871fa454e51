// The installer's signing policy (PEP 480 "Minimum security model": an installer may insist that
// chosen projects are signed end to end by their developers, not only by the index's online key).
// From `--require-developer-signed` or a `tufpip.toml` (in the working directory, or --policy):
//
//   [policy]
//   require-developer-signed = ["alpha", "beta"]   # or: true (every project)
//
// A security policy with a typo must not pass silently: unknown keys and wrong types are errors.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject } from '../../metadata/pep503.js';
import type { VerifiedTarget } from './api.js';
import type { Refusal } from './refusal.js';

export const POLICY_FILE = 'tufpip.toml';

export interface Policy {
  /** Every project, or the PEP 503-normalised names listed. */
  requireDeveloperSigned: true | ReadonlySet<string>;
  /** Where the policy came from (for messages), e.g. `./tufpip.toml` or `--require-developer-signed`. */
  source: string;
}

// smol-toml is loaded only when there is a policy file to read (most runs have none, and every
// module loaded before pip starts delays it: issue 3 "Speed"). Its CommonJS build, synchronously.
const parseToml = (text: string): unknown => (createRequire(import.meta.url)('smol-toml') as typeof import('smol-toml')).parse(text);

export const NO_POLICY: Policy = { requireDeveloperSigned: new Set(), source: 'default' };

/** Parses tufpip.toml text (`where` names the file in errors). */
export function parsePolicy(text: string, where: string): Policy {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${where} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'policy') throw new TufpipError('BAD_INPUT', `${where}: unknown table [${key}] (expected [policy])`);
  }
  const table = (doc.policy ?? {}) as Record<string, unknown>;
  if (typeof table !== 'object' || Array.isArray(table)) throw new TufpipError('BAD_INPUT', `${where}: [policy] must be a table`);
  for (const key of Object.keys(table)) {
    if (key !== 'require-developer-signed') throw new TufpipError('BAD_INPUT', `${where}: unknown key policy.${key} (expected require-developer-signed)`);
  }
  const v = table['require-developer-signed'];
  if (v === undefined || v === false) return { requireDeveloperSigned: new Set(), source: where };
  if (v === true) return { requireDeveloperSigned: true, source: where };
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim() !== '')) {
    return { requireDeveloperSigned: new Set(v.map((x: string) => normalizeProject(x.trim()))), source: where };
  }
  throw new TufpipError('BAD_INPUT', `${where}: policy.require-developer-signed must be true, false or a list of project names`);
}

/**
 * The policy in force: `--policy FILE` (must exist), else `tufpip.toml` in `cwd` if present;
 * `--require-developer-signed` makes every project require it, whatever the file says.
 */
export async function loadPolicy(opts: { policyFile?: string; requireDeveloperSigned?: boolean; cwd?: string }): Promise<Policy> {
  let policy = NO_POLICY;
  const explicit = opts.policyFile !== undefined;
  const file = path.resolve(opts.cwd ?? process.cwd(), opts.policyFile ?? POLICY_FILE);
  let text: string | undefined;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (explicit || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TufpipError('NOT_FOUND', `cannot read policy file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
  }
  if (text !== undefined) policy = parsePolicy(text, file);
  if (opts.requireDeveloperSigned) policy = { requireDeveloperSigned: true, source: '--require-developer-signed' };
  return policy;
}

export function requiresDeveloperSignature(policy: Policy, project: string): boolean {
  const r = policy.requireDeveloperSigned;
  return r === true || r.has(normalizeProject(project));
}

/** PEP 480: refuses a file the policy wants developer-signed when only the index vouched for it. */
export function checkPolicy(policy: Policy, project: string, target: VerifiedTarget): Refusal | undefined {
  if (!requiresDeveloperSignature(policy, project) || target.vouchedBy.kind === 'developer') return undefined;
  return {
    target: target.path,
    kind: 'missing-developer-signature',
    message:
      `refused (missing-developer-signature) [${target.path}]: policy (${policy.source}) requires project ${normalizeProject(project)} ` +
      `to be signed by its developers (PEP 480), but only the index's online key vouches for it (role ${target.vouchedBy.role})`,
  };
}
