// What tufpip lets the user tell pip (DESIGN.md "Client": pip's requests are answered only with
// verified bytes, and install uses only the verified files). pip has other ways to get files:
// index and find-links options (on the command line or inside requirements files), direct URL
// or path requirements, editable installs. Each would give pip bytes that no signed metadata
// covers, so they are refused up front with a message saying why. The check after `pip download`
// (every saved file must be one the proxy verified) is the real guarantee; this gives a clear
// message before anything runs.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { normalizeProject } from '../../metadata/pep503.js';
import { redactUrls } from '../lib/client-error.js';

/** pip options that add a source of files or change where pip looks (refused). */
const SOURCE_OPTIONS = ['--index-url', '--extra-index-url', '--no-index', '--find-links', '--editable', '--requirement', '--trusted-host', '--proxy', '--isolated'];
/** Short forms of the refused options; and short options that take a value (the rest of a cluster is the value). */
const SOURCE_SHORT = new Set(['i', 'f', 'e', 'r']);
const VALUE_SHORT = new Set(['c', 't', 'd', 'C', 'b', 'e', 'f', 'i', 'r']);

/** Options that shape resolution and are passed to `pip download` as well as `pip install`. */
const RESOLUTION_OPTIONS: Record<string, 0 | 1> = {
  '--pre': 0,
  '--no-deps': 0,
  '--prefer-binary': 0,
  '--only-binary': 1,
  '--no-binary': 1,
  '--constraint': 1,
  '-c': 1,
  '--platform': 1,
  '--python-version': 1,
  '--implementation': 1,
  '--abi': 1,
};

const WHY = 'tufpip gives pip only files verified against the index\'s signed metadata';

/** pip (optparse) accepts any unambiguous prefix of a long option: `--extra-index` works. */
function matchesLong(arg: string, option: string): boolean {
  const name = arg.split('=')[0];
  return name.length > 3 && option.startsWith(name);
}

/** Throws if PIP_ARGS would give pip another source of files. */
export function verifyPipArgs(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--' || !arg.startsWith('-')) continue;
    if (arg.startsWith('--')) {
      const hit = SOURCE_OPTIONS.find((o) => matchesLong(arg, o));
      if (hit) throw new TufpipError('USAGE', `pip option ${hit} is not allowed after --: ${WHY} (use tufpip's --index and -r)`);
      continue;
    }
    for (const ch of arg.slice(1)) {
      if (SOURCE_SHORT.has(ch)) throw new TufpipError('USAGE', `pip option -${ch} is not allowed after --: ${WHY} (use tufpip's --index and -r)`);
      if (VALUE_SHORT.has(ch)) break;
    }
  }
}

/** The PIP_ARGS that also apply to `pip download` (resolution options), in order. */
export function downloadArgsFrom(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const name = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
    const arity = RESOLUTION_OPTIONS[name];
    if (arity === undefined) continue;
    const inline = arg.includes('=') || (!arg.startsWith('--') && arg.length > 2);
    out.push(arg);
    if (arity === 1 && !inline && i + 1 < args.length) out.push(args[++i]);
  }
  return out;
}

/** Constraint files named in PIP_ARGS (`-c FILE`, `--constraint FILE`), to be checked too. */
export function constraintFilesIn(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-c' || a === '--constraint') out.push(args[++i]);
    else if (a.startsWith('--constraint=')) out.push(a.slice('--constraint='.length));
    else if (a.startsWith('-c') && a.length > 2) out.push(a.slice(2));
  }
  return out.filter((f): f is string => typeof f === 'string');
}

/**
 * Throws if a requirement is a direct reference (PEP 508 `name @ URL`), a URL, or a local path or
 * archive: pip would take those bytes from outside the index.
 */
export function verifyRequirement(req: string, where = 'requirement'): void {
  const spec = req.split(';')[0].trim();
  const direct = /^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@/.test(spec);
  const urlOrPath = /^[a-z][a-z0-9+.-]*:/i.test(spec) || /^[./~\\]/.test(spec) || /\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar)$/i.test(spec) || spec.includes('/');
  if (direct || urlOrPath) {
    throw new TufpipError('USAGE', `${where} ${redactUrls(JSON.stringify(req))} is a URL or a path, not a project from the index: ${WHY}`);
  }
  if (spec === '') throw new TufpipError('USAGE', `${where} is empty`);
}

/** The PEP 503-normalised project name a requirement specifier starts with (PEP 508). */
export function requirementName(req: string): string | undefined {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(req);
  return m ? normalizeProject(m[1]) : undefined;
}

/** Logical lines of a requirements file: comments stripped, `\` continuations joined. */
export function requirementLines(text: string): string[] {
  const out: string[] = [];
  let acc = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    if (line.endsWith('\\')) {
      acc += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (acc + line).trim();
    acc = '';
    if (full) out.push(full);
  }
  if (acc.trim()) out.push(acc.trim());
  return out;
}

/** Options allowed inside requirements files (pip's per-file options that add no source). */
const FILE_OPTION_OK = /^(--pre|--prefer-binary|--only-binary|--no-binary|--use-feature|--hash|--require-hashes|--config-settings|-C)\b/;

/**
 * Checks a requirements (or constraints) file and every file it includes (`-r`, `-c`), as pip
 * reads them: paths relative to the including file. Returns the project names it requires
 * (constraint files add none).
 */
export async function verifyRequirementsFile(file: string, seen = new Set<string>(), constraints = false): Promise<string[]> {
  const abs = path.resolve(file);
  const names: string[] = [];
  if (seen.has(abs)) return names;
  seen.add(abs);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw new TufpipError('USAGE', `requirements file ${redactUrls(file)} is a URL: ${WHY}`);
  let text: string;
  try {
    text = await fsp.readFile(abs, 'utf8');
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read requirements file ${abs}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  for (const line of requirementLines(text)) {
    const where = `${abs}: requirement`;
    const include = /^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)$/.exec(line);
    if (include) {
      const isConstraint = constraints || include[1] === '-c' || include[1] === '--constraint';
      names.push(...(await verifyRequirementsFile(path.resolve(path.dirname(abs), include[2]), seen, isConstraint)));
      continue;
    }
    if (line.startsWith('-')) {
      if (FILE_OPTION_OK.test(line)) continue;
      throw new TufpipError('USAGE', `${abs}: option ${JSON.stringify(line.split(/[\s=]/)[0])} is not allowed in a requirements file used with tufpip: ${WHY}`);
    }
    // A requirement may carry per-requirement options (`--hash=...`) after it.
    const req = line.split(/\s+--/)[0];
    verifyRequirement(req, where);
    const name = requirementName(req);
    if (name && !constraints) names.push(name);
  }
  return names;
}
