// `tufpip lock` round trip with real pip on a real `tufpip-repo` index: the lock validates with
// packaging.pylock (PEP 751), records the index's own URLs, TUF-verified sizes and hashes and the
// signer pins; `install --locked` installs exactly those files into a fresh venv, the same that
// pip's own `--no-deps --require-hashes` route installs from the same server.
import './setup.js';
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { freshVenv, pipEnv } from './helpers/python.js';
import { expectOk } from './helpers/repo.js';
import { runCommand } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { readLock, validatePylock } from './helpers/pylock.js';
import { trustedIndex, jsonOf, type TrustedIndex } from './helpers/trusted-index.js';
import { sha256Hex } from '../metadata/hash.js';

describe('tufpip lock: PEP 751 round trip', function () {
  let ix: TrustedIndex;
  before(async () => {
    ix = await trustedIndex();
  });
  after(async () => ix?.close());

  it('locks alpha (and beta 1.1) with URLs, sizes, hashes and index signer pins; packaging.pylock validates it', async () => {
    const dir = tmpDir('tufpip-lock-');
    const lockFile = path.join(dir, 'pylock.toml');
    expectOk(await ix.run(['lock', 'alpha', '-o', lockFile]), 'lock');
    expect(validatePylock(lockFile)).to.equal(2);
    const doc = readLock(lockFile);
    expect(doc['lock-version']).to.equal('1.0');
    expect(doc['created-by']).to.equal('tufpip');
    expect(doc['requires-python']).to.match(/^>=3\.\d+$/);
    expect(doc.packages.map((p) => `${p.name}==${p.version}`)).to.deep.equal(['alpha==1.0', 'beta==1.1']);
    const root = JSON.parse(fs.readFileSync(ix.repo.root1, 'utf8')).signed.roles.root;
    for (const p of doc.packages) {
      expect(p.index).to.equal(`${ix.url}simple/`);
      const w = p.wheels![0];
      const bytes = fs.readFileSync(path.join(ix.site, 'packages', p.name, w.name));
      expect(w.url).to.equal(`${ix.url}packages/${p.name}/${w.name}`);
      expect(w.size).to.equal(bytes.length);
      expect(w.hashes.sha256).to.equal(sha256Hex(bytes));
      const pin = p.tool.tufpip;
      expect(pin.index).to.equal(ix.url);
      expect(pin['vouched-by']).to.equal('index');
      expect(pin.keyids).to.deep.equal([ix.onlineKeyId]);
      expect(pin['root-keyids']).to.deep.equal([...root.keyids].sort());
      expect(pin['root-threshold']).to.equal(root.threshold);
    }
  });

  it('install --locked installs exactly the locked files, the same as pip --no-deps --require-hashes from the same server', async () => {
    const dir = tmpDir('tufpip-lock-');
    const lockFile = path.join(dir, 'pylock.toml');
    expectOk(await ix.run(['lock', 'alpha', '-o', lockFile]), 'lock');
    validatePylock(lockFile);
    const venv = freshVenv();
    const r = expectOk(await ix.run(['install', '--locked', lockFile, '--python', venv.python, '--json']), 'install --locked');
    const report = jsonOf<{ ok: boolean; files: { file: string; sha256: string }[] }>(r);
    expect(report.ok).to.equal(true);
    const doc = readLock(lockFile);
    const locked = doc.packages.map((p) => ({ file: p.wheels![0].name, sha256: p.wheels![0].hashes.sha256 }));
    expect(report.files.map((f) => ({ file: f.file, sha256: f.sha256 }))).to.deep.equal(locked);
    // pip's own route, from the same server, with the lock's pins as a hash-checked requirements file.
    const reqs = path.join(dir, 'requirements.txt');
    fs.writeFileSync(reqs, doc.packages.map((p) => `${p.name}==${p.version} --hash=sha256:${p.wheels![0].hashes.sha256}\n`).join(''));
    const plain = freshVenv();
    // Asynchronously: the index is served by this process.
    expectOk(await runCommand(plain.python, ['-m', 'pip', 'install', '--no-deps', '--require-hashes', '--index-url', `${ix.url}simple/`, '-r', reqs], { env: pipEnv() }), 'pip --require-hashes');
    const versions = (v: typeof venv) => v.run('import importlib.metadata as m; print(sorted((d.metadata["Name"], d.version) for d in m.distributions() if d.metadata["Name"] in ("alpha", "beta")))');
    expect(versions(venv)).to.equal(versions(plain));
    expect(versions(venv)).to.contain("('alpha', '1.0')").and.contain("('beta', '1.1')");
  });

  it('fetch --locked saves the locked files with a report; a malformed lock is refused naming the package, nothing saved', async () => {
    const dir = tmpDir('tufpip-lock-');
    const lockFile = path.join(dir, 'pylock.toml');
    expectOk(await ix.run(['lock', 'alpha', '-o', lockFile]), 'lock');
    const dest = path.join(dir, 'dest');
    expectOk(await ix.run(['fetch', '--locked', lockFile, '-d', dest]), 'fetch --locked');
    expect(fs.readdirSync(dest).sort()).to.deep.equal(['alpha-1.0-py3-none-any.whl', 'beta-1.1-py3-none-any.whl', 'tufpip-report.json']);

    const bad = path.join(dir, 'bad.toml');
    fs.writeFileSync(bad, fs.readFileSync(lockFile, 'utf8').replace(/\[packages\.tool\.tufpip\]\n(?:.+\n)*?keyids = .+\n/, (m) => m.replace(/keyids = .+\n/, 'keyids = [ "nothex" ]\n')));
    const dest2 = path.join(dir, 'dest2');
    const r = await ix.run(['fetch', '--locked', bad, '-d', dest2]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/malformed lock .*bad\.toml: package alpha: \[packages\.tool\.tufpip\]: key ID "nothex" is not 64 hex digits/);
    expect(fs.existsSync(dest2)).to.equal(false);

    const moved = path.join(dir, 'moved.toml');
    fs.writeFileSync(moved, fs.readFileSync(lockFile, 'utf8').replace(`${ix.url}packages/beta/`, 'http://127.0.0.1:9/elsewhere/'));
    const r2 = await ix.run(['fetch', '--locked', moved, '-d', dest2]);
    expect(r2.code).to.equal(1);
    expect(r2.stderr).to.match(/malformed lock .*moved\.toml: package beta: url http:\/\/127\.0\.0\.1:9\/elsewhere\/beta-1\.1-py3-none-any\.whl is not the index's URL/);
    expect(fs.existsSync(dest2)).to.equal(false);
  });

  it('bad input: one clear line, the right exit code, nothing written', async () => {
    const dir = tmpDir('tufpip-lock-');
    const notToml = path.join(dir, 'broken.toml');
    fs.writeFileSync(notToml, 'lock-version = [\n');
    const cases: Array<[string[], number, RegExp]> = [
      [['install', '--locked', notToml, 'alpha'], 2, /--locked installs exactly the lock: give no requirements or -r/],
      [['install', '--locked', notToml, '--index', ix.url], 2, /--locked uses the index the lock pins/],
      [['fetch', '--locked', notToml, '-d', path.join(dir, 'd')], 1, /malformed lock .*broken\.toml: not valid TOML/],
      [['lock', '--check', '-o', path.join(dir, 'missing.toml')], 1, /cannot read lock .*missing\.toml: ENOENT/],
      [['lock', '--check', '--upgrade', '-o', notToml], 2, /give --check or --upgrade, not both/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await ix.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(code);
      // One line (a usage error adds the pointer to --help).
      const lines = r.stderr.trim().split('\n');
      expect(lines[0], args.join(' ')).to.match(msg);
      expect(lines.slice(1), args.join(' ')).to.deep.equal(code === 2 ? ["run 'tufpip --help' for usage"] : []);
    }
    expect(fs.readdirSync(dir)).to.deep.equal(['broken.toml']);
  });

  it('lock --check passes when nothing changed; --json says so', async () => {
    const dir = tmpDir('tufpip-lock-');
    const lockFile = path.join(dir, 'pylock.toml');
    expectOk(await ix.run(['lock', 'alpha', '-o', lockFile]), 'lock');
    const r = expectOk(await ix.run(['lock', '--check', '-o', lockFile, '--json']), 'lock --check');
    expect(jsonOf(r)).to.include({ ok: true });
    expect(jsonOf<{ changes: unknown[] }>(r).changes).to.deep.equal([]);
  });
});
