// Bad input to `tufpip-repo`, one table (python-tuf style scenario rows; every row runs the real
// CLI as a child process). Issue 2, "What must hold": bad input gets a clear one-line error and
// changes nothing; private keys are never under site/ and never printed. Each row must exit
// non-zero with ONE line on stderr that names the problem (usage errors: exit 2, plus one line
// pointing at --help; test/helpers/refusal.ts), print nothing on stdout, and leave the repository
// byte-for-byte as it was (every file's path, size, mtime and sha256, plus timestamp.json's exact
// bytes).
// Issue 6, "Faults and load on the repository side": a repository whose metadata or config.json
// was damaged (the rows of test/helpers/damaged-repo.ts): `tufpip-repo add`, `bump --force`,
// `status` and `verify` each exit 1 with one line naming the file and the problem (verify: its
// summary line, then the problems), and the repository directory is byte for byte as it was.
// Huge files, non-UTF-8 names, symbolic links: a clear error, nothing changed; a symbolic link
// under site/ that points outside it is reported by verify, blocks publishing, and is never
// followed by `tufpip-repo serve`. (The same damage served to the client, and the client's own
// bad input: test/client-bad-input.test.ts.)
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { REPO_BIN, tufpipRepo, type RunOptions, type RunResult } from './helpers/cli.js';
import { goldRepo, repoDamages } from './helpers/damaged-repo.js';
import { expectRefused } from './helpers/refusal.js';
import { expectOk, serve } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';
import { gzipOf, wheelMembers, writeBytes, writeSdistAs, writeZip } from './helpers/bad-dists.js';
import { wheelBytes, writeSdist, writeWheel } from './helpers/wheels.js';

/** Refused runs this file saw (its figure, printed at the end). */
let refused = 0;
const refuse = (...args: Parameters<typeof expectRefused>): void => {
  expectRefused(...args);
  refused++;
};

/** Every output of every command this file runs, to check that no private key is ever printed. */
const outputs: { args: string[]; text: string }[] = [];

async function cli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await tufpipRepo(args, opts);
  outputs.push({ args, text: r.stdout + r.stderr });
  return r;
}

/**
 * The whole repository directory (site/, config, journal, keys...) except an empty `staging/`
 * folder, which a refused add currently leaves behind: that is checked on its own below, so the
 * table tests what matters (nothing published, nothing written) independently of it.
 */
function snap(dir: string) {
  const s = snapshotTree(dir, ['site/metadata/timestamp.json', 'journal']);
  s.entries = s.entries.filter((e) => e !== 'd staging');
  return s;
}

interface Case {
  args: () => string[];
  /** Repository the case must leave unchanged (default: the shared one). */
  repo?: () => string;
  env?: () => Record<string, string | undefined>;
  cwd?: () => string;
  setup?: () => void | Promise<void>;
  cleanup?: () => void;
  code: 1 | 2;
  /** The one error line must match (after "tufpip-repo: error: "). */
  error: RegExp;
}

describe('repo: bad input is refused with one clear line and changes nothing', function () {
  this.timeout(120_000);
  let base: string;
  let repo: string; // a repository with alpha 1.0 published
  let pass: string; // a repository whose keys are encrypted with a passphrase
  let inputs: string;
  let otherKey: string;
  let alpha: string;

  before(async () => {
    base = tmpDir('tufpip-bad-');
    repo = path.join(base, 'repo');
    pass = path.join(base, 'pass-repo');
    inputs = path.join(base, 'in');
    expectOk(await cli(['init', repo, '--url', 'http://127.0.0.1:8080/', '--bins', '8']), 'init');
    alpha = await writeWheel(path.join(base, 'good'), { name: 'alpha', version: '1.0' });
    expectOk(await cli(['add', repo, alpha]), 'add');
    expectOk(await cli(['init', pass, '--url', 'http://127.0.0.1:8080/', '--bins', '4', '--passphrase-env', 'TUFPIP_TEST_PASS'], { env: { ...process.env, TUFPIP_TEST_PASS: 'correct horse' } }), 'init --passphrase-env');
    expectOk(await cli(['keygen', 'other', '--out-dir', path.join(base, 'other-keys')]), 'keygen');
    otherKey = path.join(base, 'other-keys', 'other.pem');
  });

  // A fresh, valid wheel for cases that must fail for another reason than the file.
  const fresh = async (name = 'fresh') => writeWheel(path.join(inputs, `ok-${name}`), { name, version: '1.0' });

  const cases: Record<string, Case> = {
    'a file that is not a distribution (README.txt)': {
      args: () => ['add', repo, writeBytes(inputs, 'README.txt', 'hello\n')],
      code: 1,
      error: /not a wheel or sdist.*"README\.txt"/,
    },
    'a name with ".." inside the base name': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'dots'), 'evil..-1.0-py3-none-any.whl', 'x')],
      code: 1,
      error: /'\.\.'.*"evil\.\.-1\.0-py3-none-any\.whl"/,
    },
    'a name with a control character': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'ctl'), 'ev\x01il-1.0-py3-none-any.whl', 'x')],
      code: 1,
      error: /control characters.*"ev\\u0001il-1\.0-py3-none-any\.whl"/,
    },
    'a name with a newline': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'nl'), 'ev\nil-1.0.tar.gz', 'x')],
      code: 1,
      error: /control characters.*"ev\\nil-1\.0\.tar\.gz"/,
    },
    'a name with a backslash (a path separator elsewhere)': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'bs'), 'ev\\il-1.0-py3-none-any.whl', 'x')],
      code: 1,
      error: /path separator/,
    },
    'a name that starts with a dot': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'dot'), '.hidden-1.0-py3-none-any.whl', 'x')],
      code: 1,
      error: /starts with '\.'/,
    },
    'a wheel name with too few parts': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'parts'), 'alpha-1.0.whl', 'x')],
      code: 1,
      error: /not a wheel name.*"alpha-1\.0\.whl"/,
    },
    'a truncated wheel': {
      setup: async () => void writeBytes(path.join(inputs, 'trunc'), 'trunc-1.0-py3-none-any.whl', (await wheelBytes({ name: 'trunc', version: '1.0' })).subarray(0, 300)),
      args: () => ['add', repo, path.join(inputs, 'trunc', 'trunc-1.0-py3-none-any.whl')],
      code: 1,
      error: /trunc-1\.0-py3-none-any\.whl is not a valid wheel: .*(truncated|central directory)/i,
    },
    'a wheel with no .dist-info directory': {
      setup: async () => void (await writeZip(path.join(inputs, 'nodi'), 'nodi-1.0-py3-none-any.whl', { 'nodi/__init__.py': 'X = 1\n' })),
      args: () => ['add', repo, path.join(inputs, 'nodi', 'nodi-1.0-py3-none-any.whl')],
      code: 1,
      error: /nodi-1\.0-py3-none-any\.whl is not a valid wheel: .*\.dist-info/,
    },
    'a wheel whose METADATA names another project': {
      setup: async () => void (await writeZip(path.join(inputs, 'meta'), 'mallory-1.0-py3-none-any.whl', wheelMembers('mallory', '1.0', 'alpha'))),
      args: () => ['add', repo, path.join(inputs, 'meta', 'mallory-1.0-py3-none-any.whl')],
      code: 1,
      error: /mallory-1\.0-py3-none-any\.whl is not a valid wheel: METADATA names project "alpha"/,
    },
    'a wheel whose .dist-info belongs to another project (renamed file)': {
      setup: () => void fs.copyFileSync(alpha, writeBytes(path.join(inputs, 'renamed'), 'beta-1.0-py3-none-any.whl', '')),
      args: () => ['add', repo, path.join(inputs, 'renamed', 'beta-1.0-py3-none-any.whl')],
      code: 1,
      error: /beta-1\.0-py3-none-any\.whl is not a valid wheel: .*alpha-1\.0\.dist-info/,
    },
    'a wheel with a member path that climbs out (zip slip)': {
      setup: async () => void (await writeZip(path.join(inputs, 'slip'), 'slip-1.0-py3-none-any.whl', { ...wheelMembers('slip', '1.0'), '../evil.py': 'pwned\n' })),
      args: () => ['add', repo, path.join(inputs, 'slip', 'slip-1.0-py3-none-any.whl')],
      code: 1,
      error: /slip-1\.0-py3-none-any\.whl is not a valid wheel: .*(\.\.|relative path|unsafe)/,
    },
    'an sdist that is not gzip': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'notgz'), 'notgz-1.0.tar.gz', 'plain text, not gzip\n')],
      code: 1,
      error: /notgz-1\.0\.tar\.gz is not a valid sdist/,
    },
    'an sdist that is gzip but not a tar': {
      args: () => ['add', repo, writeBytes(path.join(inputs, 'notar'), 'notar-1.0.tar.gz', gzipOf('not a tar archive'.repeat(100)))],
      code: 1,
      error: /notar-1\.0\.tar\.gz is not a valid sdist: .*tar/,
    },
    // Core metadata against the filename (PyPI's upload checks): both values named.
    'a wheel whose METADATA says another version than its filename': {
      setup: async () => void (await writeZip(path.join(inputs, 'wv'), 'wv-1.0-py3-none-any.whl', wheelMembers('wv', '1.0', 'wv', '1.1'))),
      args: () => ['add', repo, path.join(inputs, 'wv', 'wv-1.0-py3-none-any.whl')],
      code: 1,
      error: /wv-1\.0-py3-none-any\.whl is not a valid wheel: METADATA says version "1\.1", the file name says "1\.0"/,
    },
    'an sdist whose PKG-INFO names another project': {
      args: () => ['add', repo, writeSdistAs(path.join(inputs, 'sn'), 'sn-1.0.tar.gz', { top: 'sn-1.0', name: 'alpha', version: '1.0' })],
      code: 1,
      error: /sn-1\.0\.tar\.gz is not a valid sdist: PKG-INFO names project "alpha", the file name says sn/,
    },
    'an sdist whose PKG-INFO says another version than its filename': {
      args: () => ['add', repo, writeSdistAs(path.join(inputs, 'sv'), 'sv-1.0.tar.gz', { top: 'sv-1.0', name: 'sv', version: '1.0.1' })],
      code: 1,
      error: /sv-1\.0\.tar\.gz is not a valid sdist: PKG-INFO says version "1\.0\.1", the file name says "1\.0"/,
    },
    'an sdist without PKG-INFO': {
      args: () => ['add', repo, writeSdistAs(path.join(inputs, 'sp'), 'sp-1.0.tar.gz')],
      code: 1,
      error: /sp-1\.0\.tar\.gz is not a valid sdist: no PKG-INFO/,
    },
    // One distribution, one filename (the published alpha-1.0-py3-none-any.whl).
    'a wheel of a published version spelled 1.0.0, with an overlapping tag set': {
      setup: async () => void writeBytes(path.join(inputs, 'spell'), 'alpha-1.0.0-py2.py3-none-any.whl', await wheelBytes({ name: 'alpha', version: '1.0.0' })),
      args: () => ['add', repo, path.join(inputs, 'spell', 'alpha-1.0.0-py2.py3-none-any.whl')],
      code: 1,
      error: /alpha-1\.0\.0-py2\.py3-none-any\.whl and alpha-1\.0-py3-none-any\.whl are the same wheel \(both for py3-none-any\) of alpha: version 1\.0\.0 == 1\.0/,
    },
    'two sdists of one version under two spellings in one add': {
      args: () => ['add', repo, writeSdist(path.join(inputs, 'two'), 'twosd', '1.0'), writeSdistAs(path.join(inputs, 'two'), 'TwoSd-1.0.0.tar.gz', { top: 'TwoSd-1.0.0', name: 'TwoSd', version: '1.0.0' })],
      code: 1,
      error: /TwoSd-1\.0\.0\.tar\.gz and twosd-1\.0\.tar\.gz are the same sdist of twosd: version 1\.0\.0 == 1\.0/,
    },
    // Filenames are forever: withdrawn with one content, never published again with another.
    'a withdrawn filename re-added with other bytes': {
      setup: async () => {
        const first = await writeWheel(path.join(inputs, 'ret-a'), { name: 'ret', version: '1.0' });
        expectOk(await cli(['add', repo, first]), 'add ret');
        expectOk(await cli(['remove', repo, 'ret', '--file', 'ret-1.0-py3-none-any.whl']), 'remove ret');
        await writeWheel(path.join(inputs, 'ret-b'), { name: 'ret', version: '1.0', body: 'VERSION = "other bytes"\n' });
      },
      args: () => ['add', repo, path.join(inputs, 'ret-b', 'ret-1.0-py3-none-any.whl')],
      code: 1,
      error: /ret-1\.0-py3-none-any\.whl was published before with other content \(sha256 [0-9a-f]{12}…\) and removed; a filename is never reused with other bytes/,
    },
    'a missing input file': {
      args: () => ['add', repo, path.join(inputs, 'nowhere-1.0.tar.gz')],
      code: 1,
      error: /nowhere-1\.0\.tar\.gz: no such file/,
    },
    'a symlinked input file': {
      setup: () => {
        fs.mkdirSync(path.join(inputs, 'link'), { recursive: true });
        fs.symlinkSync(alpha, path.join(inputs, 'link', 'alpha-1.0-py3-none-any.whl'));
      },
      args: () => ['add', repo, path.join(inputs, 'link', 'alpha-1.0-py3-none-any.whl')],
      code: 1,
      error: /symbolic link/,
    },
    'a filename already published with different content (CONFLICT)': {
      setup: async () => void (await writeWheel(path.join(inputs, 'conflict'), { name: 'alpha', version: '1.0', body: 'VERSION = "evil"\n' })),
      args: () => ['add', repo, path.join(inputs, 'conflict', 'alpha-1.0-py3-none-any.whl')],
      code: 1,
      error: /alpha-1\.0-py3-none-any\.whl is already published with different content.*immutable/,
    },
    'two different files with the same name in one add': {
      setup: async () => {
        await writeWheel(path.join(inputs, 'twin-a'), { name: 'twin', version: '1.0' });
        await writeWheel(path.join(inputs, 'twin-b'), { name: 'twin', version: '1.0', body: 'X = 2\n' });
      },
      args: () => ['add', repo, path.join(inputs, 'twin-a', 'twin-1.0-py3-none-any.whl'), path.join(inputs, 'twin-b', 'twin-1.0-py3-none-any.whl')],
      code: 1,
      error: /two different files named twin-1\.0-py3-none-any\.whl/,
    },
    'a good file next to a bad one (the whole add is refused)': {
      setup: async () => void (await fresh('goodnext')),
      args: () => ['add', repo, path.join(inputs, 'ok-goodnext', 'goodnext-1.0-py3-none-any.whl'), writeBytes(path.join(inputs, 'badnext'), 'badnext-1.0.tar.gz', 'nope')],
      code: 1,
      error: /badnext-1\.0\.tar\.gz is not a valid sdist/,
    },
    'a missing online key file (--online-key)': {
      setup: async () => void (await fresh('k1')),
      args: () => ['add', repo, path.join(inputs, 'ok-k1', 'k1-1.0-py3-none-any.whl'), '--online-key', `file:${path.join(base, 'no-such-key.pem')}`],
      code: 1,
      error: /cannot read key file .*no-such-key\.pem/,
    },
    'a wrong online key (--online-key, a key from keygen)': {
      setup: async () => void (await fresh('k2')),
      args: () => ['add', repo, path.join(inputs, 'ok-k2', 'k2-1.0-py3-none-any.whl'), '--online-key', `file:${otherKey}`],
      code: 1,
      error: /online key .*other\.pem \(key [0-9a-f]{8}\) is not the online key root trusts/,
    },
    'an online key from an unset environment variable (--online-key env:)': {
      setup: async () => void (await fresh('k3')),
      args: () => ['add', repo, path.join(inputs, 'ok-k3', 'k3-1.0-py3-none-any.whl'), '--online-key', 'env:TUFPIP_TEST_UNSET_KEY'],
      env: () => ({ TUFPIP_TEST_UNSET_KEY: undefined }),
      code: 1,
      error: /environment variable TUFPIP_TEST_UNSET_KEY .*is not set/,
    },
    'the configured online key file is missing': {
      setup: async () => {
        await fresh('k4');
        fs.renameSync(path.join(repo, 'keys', 'online.pem'), path.join(repo, 'keys', 'online.pem.moved'));
      },
      cleanup: () => fs.renameSync(path.join(repo, 'keys', 'online.pem.moved'), path.join(repo, 'keys', 'online.pem')),
      args: () => ['add', repo, path.join(inputs, 'ok-k4', 'k4-1.0-py3-none-any.whl')],
      code: 1,
      error: /cannot read key file .*online\.pem/,
    },
    'a wrong passphrase for an encrypted online key': {
      repo: () => pass,
      setup: async () => void (await fresh('k5')),
      args: () => ['add', pass, path.join(inputs, 'ok-k5', 'k5-1.0-py3-none-any.whl')],
      env: () => ({ TUFPIP_TEST_PASS: 'wrong horse' }),
      code: 1,
      error: /cannot decrypt .*online\.pem: wrong passphrase/,
    },
    'init on an existing repository directory': {
      args: () => ['init', repo, '--url', 'http://127.0.0.1:9999/'],
      code: 1,
      error: /already exists .*tufpip repository.*refusing to overwrite/,
    },
    'init on a non-empty directory that is not a repository': {
      repo: () => inputs,
      setup: () => void writeBytes(inputs, 'something.txt', 'mine\n'),
      args: () => ['init', inputs, '--url', 'http://127.0.0.1:9999/'],
      code: 1,
      error: /already exists and is not empty.*refusing to overwrite/,
    },
    'init with --keys-dir under site/': {
      repo: () => base,
      args: () => ['init', path.join(base, 'new-repo'), '--url', 'http://127.0.0.1:9999/', '--keys-dir', path.join(base, 'new-repo', 'site', 'keys')],
      code: 1,
      error: /under site\/: private keys must never be served/,
    },
    'a private key copied into site/ (add refuses to publish)': {
      setup: async () => {
        await fresh('k6');
        fs.copyFileSync(path.join(repo, 'keys', 'online.pem'), path.join(repo, 'site', 'online.pem'));
      },
      cleanup: () => fs.rmSync(path.join(repo, 'site', 'online.pem')),
      args: () => ['add', repo, path.join(inputs, 'ok-k6', 'k6-1.0-py3-none-any.whl')],
      code: 1,
      error: /refusing to publish: private key material under the served tree: .*site\/online\.pem/,
    },
    'a private key written over an existing file at the top of site/ (no new directory entry)': {
      // Overwriting a file in place does not change its directory's mtime: a scan gated on
      // directory mtimes alone would miss it.
      setup: async () => {
        writeBytes(path.join(repo, 'site'), 'robots.txt', 'User-agent: *\n');
        expectOk(await cli(['add', repo, await fresh('k9')]), 'add after creating robots.txt');
        fs.writeFileSync(path.join(repo, 'site', 'robots.txt'), fs.readFileSync(path.join(repo, 'keys', 'online.pem')));
        await fresh('k10');
      },
      cleanup: () => fs.rmSync(path.join(repo, 'site', 'robots.txt')),
      args: () => ['add', repo, path.join(inputs, 'ok-k10', 'k10-1.0-py3-none-any.whl')],
      code: 1,
      error: /private key material under the served tree: .*site\/robots\.txt/,
    },
    'a private key under an innocent name in a package folder': {
      setup: async () => {
        await writeWheel(path.join(inputs, 'k7'), { name: 'alpha', version: '1.1' });
        fs.copyFileSync(path.join(repo, 'keys', 'root-1.pem'), path.join(repo, 'site', 'packages', 'alpha', 'notes.txt'));
      },
      cleanup: () => fs.rmSync(path.join(repo, 'site', 'packages', 'alpha', 'notes.txt')),
      args: () => ['add', repo, path.join(inputs, 'k7', 'alpha-1.1-py3-none-any.whl')],
      code: 1,
      error: /private key material under the served tree: .*site\/packages\/alpha\/notes\.txt/,
    },
    'verify on a repository with a private key under site/': {
      setup: () => {
        fs.mkdirSync(path.join(repo, 'site', 'simple', 'alpha', 'old'), { recursive: true });
        fs.copyFileSync(path.join(repo, 'keys', 'bins.pem'), path.join(repo, 'site', 'simple', 'alpha', 'old', 'backup.bak'));
      },
      cleanup: () => fs.rmSync(path.join(repo, 'site', 'simple', 'alpha', 'old'), { recursive: true }),
      args: () => ['verify', repo],
      code: 1,
      error: /verify found 1 problem/,
    },
    'remove of a project that is not on the index': {
      args: () => ['remove', repo, 'nosuchproject'],
      code: 1,
      error: /project nosuchproject is not on this index/,
    },
    'remove of a file that is not published': {
      args: () => ['remove', repo, 'alpha', '--file', 'alpha-9.9-py3-none-any.whl'],
      code: 1,
      error: /no file of alpha matches --file alpha-9\.9-py3-none-any\.whl/,
    },
    'a folder that is not a repository': {
      repo: () => inputs,
      setup: async () => void (await fresh('k8')),
      args: () => ['add', inputs, path.join(inputs, 'ok-k8', 'k8-1.0-py3-none-any.whl')],
      code: 1,
      error: /is not a tufpip repository \(no config\.json\)/,
    },
    'a symbolic link pointing outside the repository given to add': {
      setup: async () => {
        const target = await writeWheel(tmpDir('tufpip-bad-outside-'), { name: 'linked', version: '1.0' });
        fs.mkdirSync(path.join(inputs, 'links'), { recursive: true });
        fs.symlinkSync(target, path.join(inputs, 'links', 'linked-1.0-py3-none-any.whl'));
      },
      args: () => ['add', repo, path.join(inputs, 'links', 'linked-1.0-py3-none-any.whl')],
      code: 1,
      error: /is a symbolic link: give the file itself/,
    },
    'remove --file that is a path (../../config.json)': { args: () => ['remove', repo, 'alpha', '--file', '../../config.json'], code: 1, error: /no file of alpha matches --file \.\.\/\.\.\/config\.json/ },
    'remove of a project name that is a path (../alpha)': { args: () => ['remove', repo, '../alpha'], code: 1, error: /is not on this index/ },
    'an unknown command': { args: () => ['frobnicate', repo], code: 2, error: /Unknown arguments?: frobnicate/ },
    'an unknown flag': { args: () => ['add', repo, alpha, '--frobnicate'], code: 2, error: /Unknown argument: frobnicate/ },
    'add with no files': { args: () => ['add', repo], code: 2, error: /Not enough non-option arguments/ },
    'init without --url': { repo: () => base, args: () => ['init', path.join(base, 'new-repo')], code: 2, error: /Missing required argument: url/ },
    'init with --url that is not http(s)': { repo: () => base, args: () => ['init', path.join(base, 'new-repo'), '--url', 'ftp://example.org/'], code: 2, error: /--url must be http or https/ },
    'init with a --bins that is not a power of two': { repo: () => base, args: () => ['init', path.join(base, 'new-repo'), '--url', 'http://127.0.0.1:1/', '--bins', '3'], code: 2, error: /--bins: .*power of two.*got 3/ },
    'init with a bad --expires': { repo: () => base, args: () => ['init', path.join(base, 'new-repo'), '--url', 'http://127.0.0.1:1/', '--expires', 'everything=3'], code: 2, error: /--expires takes ROLE=DAYS.*"everything=3"/ },
    'init with a root threshold of 1 and no explicit flag': { repo: () => base, args: () => ['init', path.join(base, 'new-repo'), '--url', 'http://127.0.0.1:1/', '--root-keys', '1'], code: 2, error: /--allow-single-root-key/ },
    'remove with both --version and --file': { args: () => ['remove', repo, 'alpha', '--version', '1.0', '--file', 'x'], code: 2, error: /mutually exclusive|conflict/i },
    'gc with a bad --keep': { args: () => ['gc', repo, '--keep', 'forever'], code: 2, error: /--keep takes a duration.*"forever"/ },
    'keygen with a name that is a path': { repo: () => base, args: () => ['keygen', '../escape', '--out-dir', path.join(base, 'kg')], code: 2, error: /key name must be letters/ },
  };

  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      await c.setup?.();
      try {
        const target = c.repo?.() ?? repo;
        const before = snap(target);
        const env: NodeJS.ProcessEnv = { ...process.env, TUFPIP_TEST_PASS: 'correct horse' };
        for (const [k, v] of Object.entries(c.env?.() ?? {})) {
          if (v === undefined) delete env[k];
          else env[k] = v;
        }
        const args = c.args();
        const r = await cli(args, { env, cwd: c.cwd?.() });
        const verify = args[0] === 'verify';
        // verify's error lists each problem under its one-line summary (and its report on stdout).
        refuse(r, 'tufpip-repo', { code: c.code, error: c.error, multiLine: verify, stdoutOk: verify }, name);
        if (verify) {
          expect(r.stderr.split('\n')[0].slice('tufpip-repo: error: '.length)).to.match(c.error);
          expect(r.stderr).to.match(/\[secret\] private key material in the public area: .*site\/.*backup\.bak/);
        }
        expect(diffTrees(before, snap(target)), 'nothing changed').to.deep.equal([]);
      } finally {
        c.cleanup?.();
      }
    });
  }

  it('a refused add leaves no staging folder behind in the repository directory', async () => {
    fs.rmSync(path.join(repo, 'staging'), { recursive: true, force: true });
    const r = await cli(['add', repo, writeBytes(path.join(inputs, 'stage'), 'stage-1.0.tar.gz', 'not gzip')]);
    expect(r.code).to.equal(1);
    expect(
      fs.existsSync(path.join(repo, 'staging')),
      'BUG (repo-tools/commands/add.ts): when stage() fails (any bad input), it removes staging/<pid>-<time>/ but not the ' +
        'staging/ folder it created, because the rmdir of staging/ is in the finally of addFiles, which is only entered after ' +
        'stage() succeeded. A refused add must change nothing.',
    ).to.equal(false);
  });

  it('the same file again is a no-op: exit 0, "unchanged", nothing changed', async () => {
    const before = snap(repo);
    const r = expectOk(await cli(['add', repo, alpha]));
    expect(r.stdout).to.include('unchanged packages/alpha/alpha-1.0-py3-none-any.whl').and.include('nothing to publish');
    expect(diffTrees(before, snap(repo))).to.deep.equal([]);
  });

  it('the repository still verifies after all the refusals', async () => {
    const r = await cli(['verify', repo]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect((await cli(['verify', pass])).code).to.equal(0);
  });

  it('private keys are mode 0600 in a 0700 folder, never under site/', () => {
    for (const dir of [path.join(repo, 'keys'), path.join(pass, 'keys')]) {
      expect(fs.statSync(dir).mode & 0o777, dir).to.equal(0o700);
      const pems = fs.readdirSync(dir).filter((f) => f.endsWith('.pem'));
      expect(pems.sort()).to.deep.equal(['bins.pem', 'claimed.pem', 'online.pem', 'root-1.pem', 'root-2.pem', 'root-3.pem', 'targets.pem']);
      for (const f of pems) expect(fs.statSync(path.join(dir, f)).mode & 0o777, f).to.equal(0o600);
    }
    expect(fs.statSync(otherKey).mode & 0o777).to.equal(0o600);
    for (const f of fs.readdirSync(path.join(pass, 'keys')).filter((x) => x.endsWith('.pem'))) {
      expect(fs.readFileSync(path.join(pass, 'keys', f), 'utf8'), f).to.match(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    }
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    for (const f of walk(path.join(repo, 'site'))) expect(fs.readFileSync(f).toString('latin1'), f).to.not.include('PRIVATE KEY');
  });

  it('no output of any command, --json included, ever contains a private key', async () => {
    // Run every command once more with --json (and --help), on top of everything above.
    const j = path.join(base, 'json');
    const env = { ...process.env, TUFPIP_TEST_PASS: 'correct horse' };
    expectOk(await cli(['init', path.join(j, 'repo'), '--url', 'http://127.0.0.1:8080/', '--bins', '4', '--json']));
    expectOk(await cli(['keygen', 'k', '--out-dir', path.join(j, 'keys'), '--json']));
    expectOk(await cli(['keygen', 'kp', '--out-dir', path.join(j, 'keys'), '--json', '--passphrase-env', 'TUFPIP_TEST_PASS'], { env }));
    const w = await writeWheel(path.join(j, 'in'), { name: 'jay', version: '1.0' });
    writeSdist(path.join(j, 'in'), 'jay', '1.0');
    expectOk(await cli(['add', path.join(j, 'repo'), w, '--json']));
    expectOk(await cli(['sync', path.join(j, 'repo'), path.join(j, 'in'), '--json']));
    expectOk(await cli(['remove', path.join(j, 'repo'), 'jay', '--file', 'jay-1.0.tar.gz', '--json']));
    expectOk(await cli(['bump', path.join(j, 'repo'), '--force', '--json']));
    expectOk(await cli(['status', path.join(j, 'repo'), '--json']));
    expectOk(await cli(['verify', path.join(j, 'repo'), '--json']));
    expectOk(await cli(['gc', path.join(j, 'repo'), '--keep', '0s', '--json']));
    for (const c of ['init', 'add', 'sync', 'remove', 'bump', 'status', 'verify', 'gc', 'keygen', 'serve']) expectOk(await cli([c, '--help']));

    // The private keys' own base64 bodies (not just the PEM armour) must not appear either.
    const secrets: string[] = [];
    for (const d of [path.join(repo, 'keys'), path.join(pass, 'keys'), path.join(j, 'repo', 'keys'), path.join(j, 'keys'), path.dirname(otherKey)]) {
      for (const f of fs.readdirSync(d).filter((x) => x.endsWith('.pem'))) {
        secrets.push(...fs.readFileSync(path.join(d, f), 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')));
      }
    }
    expect(secrets.length).to.be.greaterThan(10);
    expect(outputs.length).to.be.greaterThan(50);
    for (const o of outputs) {
      expect(o.text, `tufpip-repo ${o.args.join(' ')}`).to.not.include('PRIVATE KEY');
      for (const s of secrets) expect(o.text.includes(s), `tufpip-repo ${o.args.join(' ')} printed private key material`).to.equal(false);
    }
  });
});

describe('repo: a damaged repository, huge files, non-UTF-8 names, symbolic links out of site/', function () {
  this.timeout(600_000);
  let copy: () => string;
  let inputs: string;
  let fresh: string; // a valid wheel that is not published yet
  before(async () => {
    ({ copy, inputs, fresh } = await goldRepo(tmpDir('tufpip-faults-bad-')));
  });

  /** The whole directory (every file's path, size, mtime, sha256) plus some files' exact bytes. */
  const snapAll = (dir: string) => snapshotTree(dir, ['site/metadata/timestamp.json', 'journal', 'config.json']);

  for (const [name, c] of Object.entries(repoDamages)) {
    it(`repository: ${name} -> add, bump, status and verify refuse it, nothing changes`, async () => {
      const repo = copy();
      await c.damage(repo);
      const before = snapAll(repo);
      for (const args of [['add', repo, fresh], ['bump', repo, '--force'], ['status', repo]]) {
        const r = await tufpipRepo(args);
        refuse(r, 'tufpip-repo', { error: c.error }, `${name}: tufpip-repo ${args[0]}`);
        expect(diffTrees(before, snapAll(repo)), `${name}: tufpip-repo ${args[0]} changed nothing`).to.deep.equal([]);
      }
      const v = await tufpipRepo(['verify', repo]);
      refuse(v, 'tufpip-repo', { error: c.verify, multiLine: true, stdoutOk: true }, `${name}: tufpip-repo verify`);
      expect(v.stderr.split('\n')[0]).to.match(/^tufpip-repo: error: (verify found \d+ problems?:|.*config\.json|trusted root)/);
      expect(diffTrees(before, snapAll(repo)), `${name}: verify changed nothing`).to.deep.equal([]);
    });
  }

  describe('huge files, non-UTF-8 names, symbolic links', () => {
    let repo: string;
    before(() => {
      repo = copy();
    });

    it('a 100 MB sparse file that is not a wheel: refused without reading it into memory', async () => {
      const big = path.join(inputs, 'huge', 'huge-1.0-py3-none-any.whl');
      fs.mkdirSync(path.dirname(big), { recursive: true });
      fs.writeFileSync(big, 'PK');
      fs.truncateSync(big, 100 * 1024 * 1024);
      const before = snapAll(repo);
      // Peak resident memory (VmHWM) of the child, read from /proc while it runs.
      const child = spawn(process.execPath, [REPO_BIN, 'add', repo, big], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let peakKiB = 0;
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const poll = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
        } catch {
          // exited
        }
      }, 5);
      const code = await new Promise<number | null>((r) => child.on('close', r));
      clearInterval(poll);
      refuse({ code, signal: null, stdout, stderr }, 'tufpip-repo', { error: /huge-1\.0-py3-none-any\.whl is not a valid wheel/ }, 'add of a 100 MB non-wheel');
      expect(peakKiB, 'the memory high-water mark was sampled').to.be.greaterThan(0);
      expect(peakKiB * 1024, `peak resident memory ${Math.round(peakKiB / 1024)} MiB stays below the file's 100 MiB`).to.be.below(100 * 1024 * 1024);
      expect(diffTrees(before, snapAll(repo))).to.deep.equal([]);
      expect(fs.existsSync(path.join(repo, 'staging')), 'no staging left').to.equal(false);
    });

    it('a wheel whose file name is not UTF-8: add and sync refuse it by name', async () => {
      const dir = path.join(inputs, 'nonutf8');
      fs.mkdirSync(dir, { recursive: true });
      const rawName = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from('-1.0-py3-none-any.whl')]);
      fs.writeFileSync(Buffer.concat([Buffer.from(dir + '/'), rawName]), fs.readFileSync(fresh));
      await writeWheel(dir, { name: 'goodneighbour', version: '1.0' });
      const before = snapAll(repo);
      // The raw bytes reach the CLI through the shell (spawn arguments are UTF-8 strings).
      const viaShell = (args: string): RunResult => {
        try {
          const stdout = execFileSync('sh', ['-c', `exec "${process.execPath}" "${REPO_BIN}" ${args}`], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
          return { code: 0, signal: null, stdout, stderr: '' };
        } catch (err) {
          const e = err as { status: number; stdout: Buffer; stderr: Buffer };
          return { code: e.status, signal: null, stdout: e.stdout.toString(), stderr: e.stderr.toString() };
        }
      };
      const add = viaShell(`add "${repo}" "${dir}/bad$(printf '\\377\\376')-1.0-py3-none-any.whl"`);
      refuse(add, 'tufpip-repo', { error: /the file name is not valid UTF-8/ }, 'add of a non-UTF-8 name');
      const sync = await tufpipRepo(['sync', repo, dir]);
      refuse(sync, 'tufpip-repo', { error: /a file name under .* is not valid UTF-8 \(bytes 626164fffe2d312e302d7079332d6e6f6e652d616e792e77686c\)/ }, 'sync of a folder with a non-UTF-8 name');
      expect(diffTrees(before, snapAll(repo))).to.deep.equal([]);
    });

    it('symbolic links under site/ that point outside it: verify reports them, publishing refuses, serve does not follow them', async () => {
      const r = copy();
      fs.symlinkSync('../keys', path.join(r, 'site', 'k'));
      fs.symlinkSync('/etc/passwd', path.join(r, 'site', 'packages', 'alpha', 'passwd'));
      // A link that stays inside site/ is fine (and served).
      fs.symlinkSync('alpha-1.0-py3-none-any.whl', path.join(r, 'site', 'packages', 'alpha', 'same.whl'));
      const before = snapAll(r);
      const v = await tufpipRepo(['verify', r]);
      refuse(v, 'tufpip-repo', { error: /\[symlink\] symbolic link under site\/ points outside it: .*site\/k -> \.\.\/keys/, multiLine: true, stdoutOk: true }, 'verify with links out of site/');
      expect(v.stderr).to.match(/passwd -> \/etc\/passwd/);
      expect(v.stderr, 'the link inside site/ is not a problem').to.not.match(/same\.whl/);
      expect(v.stderr).to.match(/verify found 2 problems/);
      const add = await tufpipRepo(['add', r, fresh]);
      refuse(add, 'tufpip-repo', { error: /refusing to publish: symbolic link under the served tree points outside it: .*site\/k -> \.\.\/keys/ }, 'add with a link out of site/');
      expect(diffTrees(before, snapAll(r)), 'nothing changed').to.deep.equal([]);
      const server = await serve(r);
      try {
        for (const p of ['k/online.pem', 'k/', 'packages/alpha/passwd']) {
          const res = await fetch(server.url + p);
          const body = await res.text();
          expect(res.status, `GET /${p}`).to.equal(404);
          refused++;
          expect(body).to.not.match(/PRIVATE KEY|root:/);
        }
        const ok = await fetch(server.url + 'packages/alpha/same.whl');
        expect(ok.status, 'a link inside site/ is served').to.equal(200);
        await ok.arrayBuffer();
      } finally {
        await server.close();
      }
    });

  });

  after(() => console.log(`      repo bad input: ${refused} refused runs of tufpip-repo`));
});
