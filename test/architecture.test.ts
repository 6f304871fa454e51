// The import rules of docs/architecture.md, read from the .ts sources (and bin/*.js):
//   - floors: metadata (0) < io (1) < tuf (2) < client | repo-tools (3) < demo (4); a module imports
//     only from its own floor or lower ones, and client/ and repo-tools/ never import each other;
//     bench/, test/ and bin/ may import anything;
//   - tuf-js and @tufjs/models are imported only under tuf/ (sources and bench); @tufjs/canonical-json
//     only by metadata/canonical.ts and tuf/;
//   - metadata/ is pure: no file system, network, child process, environment or clock;
//   - no module-level side effects outside the entry points: importing every other module leaves
//     the @tufjs/models classes and @tufjs/canonical-json exactly as they were (checked in a fresh
//     process, which then shows that installLinearModels() does change them).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './helpers/python.js';

const run = promisify(execFile);

/**
 * Known violations, each "importer -> imported" (project-relative .ts paths, or a package name),
 * left by work in progress on other branches. To be removed by the merge of issue 12: the lead
 * empties this list once the io/ floor, the fetcher adapters and the demo move have landed.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

/** Modules allowed module-level side effects (CONTEXT: entry points); bench/, test/, bin/ too. */
const ENTRY_POINTS: readonly string[] = ['client/index.ts'];
const isEntryPoint = (file: string): boolean =>
  ENTRY_POINTS.includes(file) || /-worker\.ts$/.test(file) || file.startsWith('demo/');

const FLOORS: Record<string, number> = { metadata: 0, io: 1, tuf: 2, client: 3, 'repo-tools': 3, demo: 4 };
const FREE = new Set(['bench', 'test', 'bin']);
const TUF_PACKAGES = /^(tuf-js|@tufjs\/models)(\/|$)/;
const CANONICAL_JSON = /^@tufjs\/canonical-json(\/|$)/;

/** Node modules and packages metadata/ may not import (I/O, processes, network). */
const IMPURE_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|http2|tls|dgram|dns|child_process|worker_threads|cluster|readline)$|^(fs-extra|proper-lockfile|http-proxy-agent|https-proxy-agent|tar|yauzl|yazl|undici)(\/|$)/;
/** Environment and clock reads metadata/ may not make (the clock is an argument: `now`). */
const IMPURE_CODE: ReadonlyArray<[RegExp, string]> = [
  [/\bprocess\.env\b/, 'process.env'],
  [/\bDate\.now\(\)/, 'Date.now()'],
  [/\bnew Date\(\s*\)/, 'new Date()'],
  [/\bperformance\.now\(\)/, 'performance.now()'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
];
/** Real exceptions to the purity rule, each with its reason ("file: what"). */
const PURITY_EXCEPTIONS: readonly string[] = [];

interface Source {
  /** Project-relative path, e.g. "client/lib/index-client.ts". */
  file: string;
  folder: string;
  text: string;
  /** Every module specifier: static, side-effect, re-export, type-only, dynamic, require. */
  specifiers: string[];
}

function walk(dir: string, out: string[]): void {
  if (!fs.existsSync(dir)) return; // a floor that does not exist yet is simply empty
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'fixtures') walk(p, out);
    } else if ((e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) || (dir.endsWith('bin') && e.name.endsWith('.js'))) {
      out.push(p);
    }
  }
}

/**
 * Comments removed (a specifier or `process.env` in prose is not code): block comments that start
 * a line, line comments, and trailing comments after a statement. Strings are kept as they are
 * (a glob such as 'packages/*' in a string is not the start of a comment).
 */
function stripComments(text: string): string {
  return text
    .replace(/^\s*\/\*[\s\S]*?\*\//gm, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/([;,{}()\]]\s+)\/\/ .*$/gm, '$1');
}

const SPECIFIER_PATTERNS = [
  /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm, // import/export ... from '...'
  /^\s*import\s*['"]([^'"]+)['"]/gm, // import '...'
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('...'), typeof import('...')
  /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g, // require('...'), require.resolve('...')
];

/** Specifiers loaded when the module loads: static and side-effect imports, re-exports (not `import()`). */
function staticSpecifiersOf(text: string): string[] {
  const code = stripComments(text);
  const out = new Set<string>();
  for (const re of SPECIFIER_PATTERNS.slice(0, 2)) for (const m of code.matchAll(re)) if (!/^\s*import\s+type\b|^\s*export\s+type\b/.test(m[0])) out.add(m[1]);
  return [...out];
}

function specifiersOf(text: string): string[] {
  const code = stripComments(text);
  const out = new Set<string>();
  for (const re of SPECIFIER_PATTERNS) for (const m of code.matchAll(re)) out.add(m[1]);
  return [...out];
}

function readSources(): Source[] {
  const files: string[] = [];
  for (const d of [...Object.keys(FLOORS), ...FREE]) walk(path.join(PROJECT_ROOT, d), files);
  return files.map((abs) => {
    const file = path.relative(PROJECT_ROOT, abs).split(path.sep).join('/');
    const text = fs.readFileSync(abs, 'utf8');
    return { file, folder: file.split('/')[0], text, specifiers: specifiersOf(text) };
  });
}

/** A relative specifier as a project-relative .ts path (".js" in ESM specifiers names the .ts). */
function resolveLocal(from: string, spec: string): string {
  const p = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  return p.startsWith('dist/') ? p.slice('dist/'.length).replace(/\.js$/, '.ts') : p.replace(/\.js$/, '.ts');
}

const known = (v: string): boolean => KNOWN_VIOLATIONS.includes(v);

describe('architecture: import rules (docs/architecture.md)', () => {
  const sources = readSources();
  const modules = sources.filter((s) => s.folder in FLOORS);

  it('reads the sources of every floor', () => {
    for (const floor of ['metadata', 'tuf', 'client', 'repo-tools']) {
      expect(modules.some((s) => s.folder === floor), floor).to.equal(true);
    }
    expect(modules.find((s) => s.file === 'tuf/linear-models.ts')?.specifiers).to.include('@tufjs/models');
  });

  it('no upward arrow: a module imports from its own floor or lower ones; client/ and repo-tools/ never import each other', () => {
    const violations: string[] = [];
    for (const s of modules) {
      for (const spec of s.specifiers) {
        if (!spec.startsWith('.')) continue;
        const target = resolveLocal(s.file, spec);
        const folder = target.split('/')[0];
        if (FREE.has(folder) || !(folder in FLOORS)) {
          violations.push(`${s.file} -> ${target}`); // library code never imports tests, bench or bin
          continue;
        }
        const sideways = folder !== s.folder && FLOORS[folder] === FLOORS[s.folder];
        if (FLOORS[folder] > FLOORS[s.folder] || sideways) violations.push(`${s.file} -> ${target}`);
      }
    }
    expect(violations.filter((v) => !known(v))).to.deep.equal([]);
  });

  it('client/ by concern: lib/ (the library) imports no proxy/, pip/, cli/ or commands/; proxy/ and pip/ not each other', () => {
    const part = (file: string) => /^client\/(lib|proxy|pip|cli|commands)\//.exec(file)?.[1];
    const may: Record<string, string[]> = { lib: ['lib'], proxy: ['lib', 'proxy'], pip: ['lib', 'pip'] };
    const violations: string[] = [];
    for (const s of modules.filter((m) => m.folder === 'client')) {
      const from = part(s.file);
      if (!from || !may[from]) continue;
      for (const spec of s.specifiers) {
        if (!spec.startsWith('.')) continue;
        const to = part(resolveLocal(s.file, spec));
        if (to && !may[from].includes(to)) violations.push(`${s.file} -> ${resolveLocal(s.file, spec)}`);
      }
    }
    expect(modules.some((m) => m.file === 'client/lib/index-client.ts'), 'client/lib/ scanned').to.equal(true);
    expect(violations).to.deep.equal([]);
  });

  it('tuf-js and @tufjs/models are imported only under tuf/ (sources and bench)', () => {
    const violations: string[] = [];
    for (const s of sources) {
      if (s.folder === 'tuf' || s.folder === 'test' || s.folder === 'bin') continue;
      for (const spec of s.specifiers) if (TUF_PACKAGES.test(spec)) violations.push(`${s.file} -> ${spec}`);
    }
    expect(violations.filter((v) => !known(v))).to.deep.equal([]);
  });

  it('@tufjs/canonical-json is imported only by metadata/canonical.ts and tuf/', () => {
    const violations: string[] = [];
    for (const s of sources) {
      if (s.folder === 'tuf' || s.folder === 'test' || s.folder === 'bin' || s.file === 'metadata/canonical.ts') continue;
      for (const spec of s.specifiers) if (CANONICAL_JSON.test(spec)) violations.push(`${s.file} -> ${spec}`);
    }
    expect(violations.filter((v) => !known(v))).to.deep.equal([]);
  });

  it('metadata/ is pure: no file system, network, child process, environment or clock', () => {
    const violations: string[] = [];
    for (const s of modules.filter((m) => m.folder === 'metadata')) {
      for (const spec of s.specifiers) if (IMPURE_MODULES.test(spec)) violations.push(`${s.file}: ${spec}`);
      const code = stripComments(s.text);
      for (const [re, what] of IMPURE_CODE) if (re.test(code)) violations.push(`${s.file}: ${what}`);
    }
    expect(violations.filter((v) => !PURITY_EXCEPTIONS.includes(v))).to.deep.equal([]);
  });

  it('the object-store client (@aws-sdk) loads only for a repository on object storage: modules that load it are the S3 backend\'s, reached by import()', () => {
    const byFile = new Map(modules.map((m) => [m.file, m]));
    const loadsSdk = new Map<string, boolean>();
    const loads = (file: string, seen = new Set<string>()): boolean => {
      if (loadsSdk.has(file)) return loadsSdk.get(file)!;
      if (seen.has(file)) return false;
      seen.add(file);
      const src = byFile.get(file);
      const specs = src ? staticSpecifiersOf(src.text) : [];
      const r = specs.some((spec) => (spec.startsWith('.') ? loads(resolveLocal(file, spec), seen) : /^@aws-sdk\//.test(spec)));
      loadsSdk.set(file, r);
      return r;
    };
    const loaders = modules.filter((m) => loads(m.file)).map((m) => m.file);
    expect(loaders, 'the S3 backend itself is found').to.include('repo-tools/storage/s3-client.ts');
    expect(loaders.filter((f) => !/^repo-tools\/storage\/s3[a-z-]*\.ts$/.test(f))).to.deep.equal([]);
    // The checker sees a static import and not a dynamic or type-only one.
    expect(staticSpecifiersOf("import { S3Storage } from './s3.js';\nconst m = await import('./s3.js');\nimport type { S3Location } from './s3-location.js';")).to.deep.equal(['./s3.js']);
  });

  it('the rule checker itself sees a bad import (so the rules above can fail)', () => {
    expect(specifiersOf("import { Updater } from 'tuf-js';\nimport type { X } from '../client/api.js';")).to.deep.equal(['tuf-js', '../client/api.js']);
    expect(specifiersOf("const m = require('@tufjs/models/dist/role.js');")).to.deep.equal(['@tufjs/models/dist/role.js']);
    expect(specifiersOf("// import x from 'tuf-js'")).to.deep.equal([]);
    expect(resolveLocal('tuf/a.ts', '../client/b.js')).to.equal('client/b.ts');
    expect(IMPURE_CODE.some(([re]) => re.test('const t = new Date();'))).to.equal(true);
    expect(IMPURE_CODE.some(([re]) => re.test('const t = new Date(now);'))).to.equal(false);
  });

  it('no module-level side effects outside entry points: importing every module patches nothing; installLinearModels() does', async () => {
    const nonEntry = modules.filter((s) => !isEntryPoint(s.file)).map((s) => path.join(PROJECT_ROOT, 'dist', s.file.replace(/\.ts$/, '.js')));
    expect(nonEntry.length).to.be.greaterThan(50);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SIDE_EFFECT_PROBE, JSON.stringify(nonEntry)], {
      cwd: PROJECT_ROOT,
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const report = JSON.parse(stdout) as { imported: number; changedByImports: string[]; changedByInstall: string[] };
    expect(report.imported).to.equal(nonEntry.length);
    expect(report.changedByImports, 'changed by importing a non-entry module').to.deep.equal([]);
    // The probe is able to see a patch: installLinearModels() changes the recorded slots.
    expect(report.changedByInstall).to.include.members(['Snapshot.fromJSON', 'Targets.prototype.toJSON', 'canonical-json.canonicalize', 'DelegatedRole.prototype.isDelegatedPath', 'key.getPublicKey']);
  });
});

/**
 * Run in a fresh process with the list of dist modules as argv[1]: records every own property of
 * the @tufjs/models classes (static and prototype) and of @tufjs/canonical-json's and the key
 * helpers' exports, imports the modules one by one, records again, then installs the linear
 * models and records a third time. Prints which slots changed at each step.
 */
const SIDE_EFFECT_PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/package.json');
const models = require('@tufjs/models');
const owners = {
  Signed: require('@tufjs/models/dist/base.js').Signed,
  Delegations: require('@tufjs/models/dist/delegations.js').Delegations,
  Role: require('@tufjs/models/dist/role.js').Role,
  DelegatedRole: require('@tufjs/models/dist/role.js').DelegatedRole,
  SuccinctRoles: require('@tufjs/models/dist/role.js').SuccinctRoles,
  Metadata: models.Metadata, Root: models.Root, Timestamp: models.Timestamp, Snapshot: models.Snapshot,
  Targets: models.Targets, Key: models.Key, MetaFile: models.MetaFile, TargetFile: models.TargetFile,
};
const record = () => {
  const slots = new Map();
  for (const [name, cls] of Object.entries(owners)) {
    for (const k of Object.getOwnPropertyNames(cls)) slots.set(name + '.' + k, cls[k]);
    for (const k of Object.getOwnPropertyNames(cls.prototype)) slots.set(name + '.prototype.' + k, Object.getOwnPropertyDescriptor(cls.prototype, k).value);
  }
  const modules = { 'canonical-json': require('@tufjs/canonical-json'), key: require('@tufjs/models/dist/utils/key.js'), models };
  for (const [name, m] of Object.entries(modules)) for (const k of Object.keys(m)) slots.set(name + '.' + k, m[k]);
  return slots;
};
const changed = (a, b) => [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
const before = record();
let imported = 0;
for (const file of JSON.parse(process.argv[1])) {
  await import(file);
  imported++;
}
const afterImports = record();
const { installLinearModels } = await import(process.cwd() + '/dist/tuf/linear-models.js');
installLinearModels();
const afterInstall = record();
process.stdout.write(JSON.stringify({ imported, changedByImports: changed(before, afterImports), changedByInstall: changed(afterImports, afterInstall) }));
process.exit(0);
`;
