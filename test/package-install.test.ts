// The package works on its own, as users install it (README "Install the commands"): nothing the
// package ships imports test code (a static scan of import specifiers), and a tarball made by
// `npm pack` and installed with `npm install -g --prefix` answers `--version` from both CLIs and
// runs the demo end to end (real index on loopback, real pip in a fresh venv).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string; files: string[] };

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Every module specifier of an ES module: static imports and re-exports, and import('...'). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  for (const re of [/\b(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of source.matchAll(re)) out.push(m[1]);
  }
  return out;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}

describe('package: installed on its own, without the tests', function () {
  it('no module the package ships (bin/, dist/metadata, dist/io, dist/tuf, dist/repo-tools, dist/client, dist/demo) imports outside them', () => {
    const shipped = ['bin', 'dist/metadata', 'dist/io', 'dist/tuf', 'dist/repo-tools', 'dist/client', 'dist/demo'].map((d) => path.join(PROJECT_ROOT, d));
    const files = shipped.flatMap(walk).filter((f) => f.endsWith('.js'));
    expect(files.length, 'modules scanned').to.be.greaterThan(50);
    const bad: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        const inside = shipped.some((d) => target.startsWith(d + path.sep));
        if (!inside || !fs.existsSync(target)) bad.push(`${path.relative(PROJECT_ROOT, file)} imports ${spec}${inside ? ' (missing)' : ' (not shipped)'}`);
      }
    }
    expect(bad).to.deep.equal([]);
  });

  it('the scan sees an import of test code (control: a module importing dist/test is caught)', () => {
    const source = "import { writeWheel } from '../test/helpers/wheels.js';\nconst m = await import('../test/x.js');\nexport { y } from './y.js';\n";
    expect(specifiers(source)).to.deep.equal(['../test/helpers/wheels.js', './y.js', '../test/x.js']);
  });

  it('npm pack + npm install -g --prefix: both CLIs answer --version, the packaged demo installs a verified package', function () {
    this.timeout(600_000);
    const tmp = tmpDir('tufpip-pack-');
    // The build is fresh (the suite runs from dist/): pack it as it is, without the prepack rebuild.
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], PROJECT_ROOT);
    expect(pack.code, pack.out).to.equal(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const packed = info.files.map((f) => f.path);
    expect(packed.filter((p) => p.startsWith('dist/test/') || p.startsWith('dist/bench/') || p.endsWith('.pem')), 'tests, benchmarks or private keys in the package').to.deep.equal([]);
    expect(packed).to.include.members(['bin/tufpip.js', 'bin/tufpip-repo.js', 'dist/demo/demo.js', 'dist/demo/demo-wheels.js']);

    const prefix = path.join(tmp, 'prefix');
    const install = run('npm', ['install', '-g', '--prefix', prefix, path.join(tmp, info.filename), '--prefer-offline', '--no-audit', '--no-fund'], tmp);
    expect(install.code, install.out).to.equal(0);
    for (const bin of ['tufpip', 'tufpip-repo']) {
      const v = run(path.join(prefix, 'bin', bin), ['--version'], tmp);
      expect(v.code, v.out).to.equal(0);
      expect(v.stdout).to.equal(`${pkg.version}\n`);
    }
    const installed = path.join(prefix, 'lib', 'node_modules', 'tufpip');
    expect(fs.existsSync(path.join(installed, 'dist', 'test')), 'dist/test installed').to.equal(false);
    const demo = run(process.execPath, [path.join(installed, 'dist', 'demo', 'demo.js')], tmp);
    expect(demo.out).not.to.contain('ERR_MODULE_NOT_FOUND');
    expect(demo.code, demo.out).to.equal(0);
    expect(demo.stdout).to.contain('*** hello from a package verified with TUF ***');
  });
});
