// The PEP 751 lock file (`pylock.toml`) as tufpip writes and reads it: the standard fields other
// installers use (`lock-version`, `created-by`, `requires-python`, per package `name`, `version`,
// `index`, `marker`, `requires-python`, `sdist` / `wheels` with `name`, `url`, `size`,
// `upload-time`, `hashes`), and tufpip's signer pin under `[packages.tool.tufpip]` (signer-pin.ts).
// Pure: the TOML text is parsed and written by the client (smol-toml); this module turns the
// document into checked values and back. A malformed lock is refused naming the package and field.
import { TufpipError } from './errors.js';
import { normalizeProject, parseDistFilename } from './pep503.js';
import type { RootPin, SignerPin } from './signer-pin.js';

/** PEP 751 "lock-version": the version of the format this module writes and reads. */
export const LOCK_VERSION = '1.0';
export const CREATED_BY = 'tufpip';

export interface LockedFile {
  /** Distribution file name (PEP 751 `name`). */
  name: string;
  /** The index's own URL of the file (`<index>packages/<p>/<name>`), usable by other installers. */
  url: string;
  size: number;
  /** RFC 3339, when the index reported one (PEP 700). */
  uploadTime?: string;
  sha256: string;
}

export interface LockedPackage {
  /** PEP 503-normalised name (PEP 751 requires it). */
  name: string;
  version: string;
  /** PEP 503 simple index base URL of the package's index (`<index>simple/`). */
  index: string;
  marker?: string;
  requiresPython?: string;
  sdist?: LockedFile;
  wheels: LockedFile[];
  pin: SignerPin;
}

export interface Pylock {
  requiresPython?: string;
  packages: LockedPackage[];
  /** What was resolved (`[tool.tufpip]`): `lock --check` re-resolves the same requirements. */
  requirements: string[];
  requirementFiles: string[];
}

/** The files of a package, wheels first. */
export function filesOf(p: LockedPackage): LockedFile[] {
  return [...p.wheels, ...(p.sdist ? [p.sdist] : [])];
}

const fileDoc = (f: LockedFile) => ({
  name: f.name,
  url: f.url,
  size: f.size,
  ...(f.uploadTime ? { 'upload-time': f.uploadTime } : {}),
  hashes: { sha256: f.sha256 },
});

const pinDoc = (p: SignerPin) => ({
  index: p.index,
  'root-keyids': p.root.keyids,
  'root-threshold': p.root.threshold,
  'vouched-by': p.vouchedBy,
  role: p.role,
  keyids: p.keyids,
  threshold: p.threshold,
  'key-names': p.keyNames,
  'attestation-identities': p.attestationIdentities,
});

/** The TOML document of a lock (PEP 751 key names and order). */
export function pylockDocument(lock: Pylock): Record<string, unknown> {
  return {
    'lock-version': LOCK_VERSION,
    'created-by': CREATED_BY,
    ...(lock.requiresPython ? { 'requires-python': lock.requiresPython } : {}),
    packages: [...lock.packages]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => ({
        name: p.name,
        version: p.version,
        ...(p.marker ? { marker: p.marker } : {}),
        ...(p.requiresPython ? { 'requires-python': p.requiresPython } : {}),
        index: p.index,
        ...(p.sdist ? { sdist: fileDoc(p.sdist) } : {}),
        ...(p.wheels.length ? { wheels: p.wheels.map(fileDoc) } : {}),
        tool: { tufpip: pinDoc(p.pin) },
      })),
    tool: { tufpip: { requirements: lock.requirements, 'requirement-files': lock.requirementFiles } },
  };
}

type Doc = Record<string, unknown>;

class Reader {
  constructor(readonly where: string) {}
  fail(what: string): never {
    throw new TufpipError('BAD_INPUT', `malformed lock ${this.where}: ${what}`);
  }
  table(v: unknown, what: string): Doc {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) this.fail(`${what} must be a table`);
    return v as Doc;
  }
  str(t: Doc, key: string, what: string, optional = false): string | undefined {
    const v = t[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(`${what}.${key} must be a non-empty string`);
    return v;
  }
  strs(t: Doc, key: string, what: string): string[] {
    const v = t[key] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(`${what}.${key} must be a list of strings`);
    return v as string[];
  }
  int(t: Doc, key: string, what: string, min: number): number {
    const v = t[key];
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) this.fail(`${what}.${key} must be an integer >= ${min}`);
    return n;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function readFile(r: Reader, v: unknown, what: string, pkg: string): LockedFile {
  const t = r.table(v, what);
  const name = r.str(t, 'name', what)!;
  let project: string;
  try {
    project = parseDistFilename(name).project;
  } catch (err) {
    r.fail(`${what}.name: ${(err as Error).message}`);
  }
  if (project !== pkg) r.fail(`${what}.name ${name} is not a file of package ${pkg}`);
  const url = r.str(t, 'url', what)!;
  if (!/^https?:\/\//.test(url)) r.fail(`${what}.url must be an http(s) URL`);
  const hashes = r.table(t.hashes, `${what}.hashes`);
  const sha256 = r.str(hashes, 'sha256', `${what}.hashes`)!;
  if (!HEX64.test(sha256)) r.fail(`${what}.hashes.sha256 must be 64 lower-case hex digits`);
  const up = t['upload-time'];
  const uploadTime = up instanceof Date ? up.toISOString() : typeof up === 'string' ? up : undefined;
  return { name, url, size: r.int(t, 'size', what, 0), sha256, ...(uploadTime ? { uploadTime } : {}) };
}

function readPin(r: Reader, v: unknown, what: string): SignerPin {
  if (v === undefined) r.fail(`${what} is missing (a lock tufpip did not write has no signer pins: lock it again with 'tufpip lock')`);
  const t = r.table(v, what);
  const vouchedBy = r.str(t, 'vouched-by', what);
  if (vouchedBy !== 'developer' && vouchedBy !== 'index') r.fail(`${what}.vouched-by must be "developer" or "index"`);
  const keyids = r.strs(t, 'keyids', what);
  const rootKeyids = r.strs(t, 'root-keyids', what);
  for (const k of [...keyids, ...rootKeyids]) if (!HEX64.test(k)) r.fail(`${what}: key ID ${JSON.stringify(k)} is not 64 hex digits`);
  if (!keyids.length || !rootKeyids.length) r.fail(`${what}.keyids and root-keyids must not be empty`);
  const root: RootPin = { keyids: rootKeyids, threshold: r.int(t, 'root-threshold', what, 1) };
  const ai = t['attestation-identities'] ?? [];
  if (!Array.isArray(ai)) r.fail(`${what}.attestation-identities must be a list`);
  return {
    index: r.str(t, 'index', what)!,
    root,
    vouchedBy,
    role: r.str(t, 'role', what)!,
    keyids: [...keyids].sort(),
    threshold: r.int(t, 'threshold', what, 1),
    keyNames: r.strs(t, 'key-names', what),
    attestationIdentities: ai as unknown[],
  };
}

/** Checks a parsed `pylock.toml` document; `where` names the file in errors. */
export function parsePylock(doc: unknown, where: string): Pylock {
  const r = new Reader(where);
  const top = r.table(doc, 'the document');
  if (top['lock-version'] !== LOCK_VERSION) r.fail(`lock-version must be "${LOCK_VERSION}" (got ${JSON.stringify(top['lock-version'])})`);
  r.str(top, 'created-by', 'the document');
  if (!Array.isArray(top.packages)) r.fail('packages must be an array of tables');
  const seen = new Set<string>();
  const packages = (top.packages as unknown[]).map((v, i) => {
    const t = r.table(v, `packages[${i}]`);
    const raw = r.str(t, 'name', `packages[${i}]`)!;
    const name = normalizeProject(raw);
    const what = `package ${name}`;
    if (seen.has(name)) r.fail(`${what} is locked twice`);
    seen.add(name);
    const version = r.str(t, 'version', what)!;
    const index = r.str(t, 'index', what)!;
    const wheels = t.wheels === undefined ? [] : Array.isArray(t.wheels) ? t.wheels.map((w, j) => readFile(r, w, `${what}: wheels[${j}]`, name)) : r.fail(`${what}: wheels must be an array of tables`);
    const sdist = t.sdist === undefined ? undefined : readFile(r, t.sdist, `${what}: sdist`, name);
    if (!wheels.length && !sdist) r.fail(`${what} has neither wheels nor an sdist (tufpip locks only index files)`);
    const tool = t.tool === undefined ? undefined : r.table(t.tool, `${what}: tool`);
    const pin = readPin(r, tool?.tufpip, `${what}: [packages.tool.tufpip]`);
    const marker = r.str(t, 'marker', what, true);
    const requiresPython = r.str(t, 'requires-python', what, true);
    return {
      name,
      version,
      index,
      ...(marker ? { marker } : {}),
      ...(requiresPython ? { requiresPython } : {}),
      wheels,
      ...(sdist ? { sdist } : {}),
      pin,
    } satisfies LockedPackage;
  });
  const tool = top.tool === undefined ? {} : r.table(top.tool, 'tool');
  const ours = tool.tufpip === undefined ? {} : r.table(tool.tufpip, '[tool.tufpip]');
  return {
    requiresPython: r.str(top, 'requires-python', 'the document', true),
    packages,
    requirements: r.strs(ours, 'requirements', '[tool.tufpip]'),
    requirementFiles: r.strs(ours, 'requirement-files', '[tool.tufpip]'),
  };
}
