// Unit tests of the pure parts of the pip-facing client: proxy routing (PEP 503 names, the served
// tree), what the user may tell pip, the policy file, the report lines and pip's environment.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { Vouch } from '../client/lib/api.js';
import { describeVouch, reportLines, type ReportEntry } from '../client/lib/fetch-report.js';
import { constraintFilesIn, downloadArgsFrom, requirementLines, verifyPipArgs, verifyRequirement, verifyRequirementsFile } from '../client/pip/pip-inputs.js';
import { pipEnvironment } from '../client/pip/pip-runner.js';
import { checkPolicy, loadPolicy, parsePolicy } from '../client/lib/policy.js';
import { offIndexLinks, routeRequest } from '../client/proxy/proxy-routes.js';
import { httpStatusFor, mostSevere, refusalOf } from '../client/lib/refusal.js';
import { ClientError } from '../client/errors.js';
import { tmpDir } from './helpers/tmp.js';
import { parseProjectPage, projectPageHtml } from '../metadata/simple-html.js';
import { compareVersionKeys, likelyChoice, versionKey } from '../client/proxy/prefetch-guess.js';
import { CallQueue } from '../client/proxy/call-queue.js';

const K = (c: string) => c.repeat(64);

describe('client pip units', () => {
  describe('proxy routes (served tree of DESIGN.md, PEP 503 names)', () => {
    const cases: Record<string, [string, ReturnType<typeof routeRequest>]> = {
      'project list': ['/simple/', { kind: 'project-list', target: 'simple/index.html' }],
      'project list without slash': ['/simple', { kind: 'redirect', location: '/simple/' }],
      'project page': ['/simple/alpha/', { kind: 'project-page', project: 'alpha', target: 'simple/alpha/index.html' }],
      'project page with a query': ['/simple/alpha/?format=json', { kind: 'project-page', project: 'alpha', target: 'simple/alpha/index.html' }],
      'not normalised': ['/simple/Foo.Bar_baz/', { kind: 'redirect', location: '/simple/foo-bar-baz/' }],
      'percent-encoded name': ['/simple/Foo%5Fbar/', { kind: 'redirect', location: '/simple/foo-bar/' }],
      'no trailing slash': ['/simple/alpha', { kind: 'redirect', location: '/simple/alpha/' }],
      package: ['/packages/alpha/alpha-1.0-py3-none-any.whl', { kind: 'package', project: 'alpha', filename: 'alpha-1.0-py3-none-any.whl', target: 'packages/alpha/alpha-1.0-py3-none-any.whl' }],
    };
    for (const [name, [url, want]] of Object.entries(cases)) it(name, () => expect(routeRequest(url)).to.deep.equal(want));

    for (const url of ['/metadata/timestamp.json', '/packages/../x', '/packages/alpha/%2e%2e', '/packages/alpha/..', '/packages/a/b/c', '/packages/Alpha/a.whl', '/simple/a/b/', '/simple/%zz/', '/packages/alpha/.hidden', 'simple/']) {
      it(`does not route ${url}`, () => expect(routeRequest(url).kind).to.equal('not-found'));
    }

    it('finds links that would take pip outside the index', () => {
      expect(offIndexLinks('<a href="../../packages/a/a-1.whl#sha256=00">a</a>')).to.deep.equal([]);
      expect(offIndexLinks('<a href="https://x.example/a.whl">a</a><a href=//y.example/b>b</a><A HREF=\'file:///etc/passwd\'>c</A>')).to.deep.equal([
        'https://x.example/a.whl',
        '//y.example/b',
        'file:///etc/passwd',
      ]);
    });
  });

  describe('what the user may tell pip', () => {
    it('accepts plain requirement specifiers, with extras and markers', () => {
      for (const r of ['alpha', 'beta>=1.0,<2', 'gamma[fast,slow]==2.0', 'delta; python_version < "3.12"', 'Foo.Bar_baz ~= 1.0']) verifyRequirement(r);
    });
    it('refuses URLs, paths and direct references', () => {
      for (const r of ['alpha @ https://x/a.whl', 'https://x/a.whl', './a-1.0-py3-none-any.whl', '/abs/a.whl', 'a-1.0.tar.gz', 'git+https://x/y', 'dir/sub']) {
        expect(() => verifyRequirement(r), r).to.throw(/URL or a path/);
      }
    });
    it('refuses pip options that add a source of files, in any spelling pip accepts', () => {
      for (const args of [['-i', 'x'], ['--index-url=x'], ['--extra-index-url', 'x'], ['--extra-index', 'x'], ['-f', 'd'], ['--find-links', 'd'], ['--no-index'], ['-e', '.'], ['-qi', 'x'], ['-r', 'r.txt']]) {
        expect(() => verifyPipArgs(args), args.join(' ')).to.throw(/not allowed after --/);
      }
    });
    it('accepts other pip options, including values that contain the letters of refused short options', () => {
      verifyPipArgs(['--upgrade', '--target', '/tmp/find-links', '-t/tmp/ief', '-U', '--pre', '--only-binary', ':all:', '-c', 'c.txt', '--no-deps']);
    });
    it('passes the resolution options to pip download, with their values', () => {
      expect(downloadArgsFrom(['--upgrade', '--pre', '--only-binary', ':all:', '--target', 'x', '--no-binary=beta', '-c', 'c.txt', '--no-deps', '--platform', 'any'])).to.deep.equal([
        '--pre', '--only-binary', ':all:', '--no-binary=beta', '-c', 'c.txt', '--no-deps', '--platform', 'any',
      ]);
      expect(constraintFilesIn(['-c', 'a.txt', '--constraint=b.txt', '-cc.txt'])).to.deep.equal(['a.txt', 'b.txt', 'c.txt']);
    });
    it('reads requirements files as pip does (comments, continuations)', () => {
      const lines = requirementLines('# c\nalpha  # pinned later\nbeta \\\n  >=1.0\n\n--pre\n');
      expect(lines.map((l) => l.replace(/\s+/g, ' '))).to.deep.equal(['alpha', 'beta >=1.0', '--pre']);
    });
    it('follows -r and -c includes and refuses a source option anywhere in them', async () => {
      const dir = tmpDir('tufpip-reqs-');
      fs.writeFileSync(path.join(dir, 'ok.txt'), 'alpha\n-c cons.txt\n--prefer-binary\nbeta==1.0 --hash=sha256:' + K('a') + '\n');
      fs.writeFileSync(path.join(dir, 'cons.txt'), 'beta<2\n');
      await verifyRequirementsFile(path.join(dir, 'ok.txt'));
      fs.writeFileSync(path.join(dir, 'bad.txt'), '-r ok.txt\n-r nested/more.txt\n');
      fs.mkdirSync(path.join(dir, 'nested'));
      fs.writeFileSync(path.join(dir, 'nested', 'more.txt'), 'gamma\n--index-url https://pypi.org/simple\n');
      let err: Error | undefined;
      await verifyRequirementsFile(path.join(dir, 'bad.txt')).catch((e: Error) => (err = e));
      expect(err?.message).to.match(/nested\/more\.txt: option "--index-url" is not allowed/);
    });
  });

  describe('policy (tufpip.toml, PEP 480)', () => {
    const index: Vouch = { kind: 'index', role: 'bin-3', keyids: [K('a')], threshold: 1, signedBy: [K('a')] };
    const dev: Vouch = { kind: 'developer', role: 'project-beta', keyids: [K('b'), K('c'), K('d')], threshold: 2, signedBy: [K('b'), K('c')] };
    const target = (v: Vouch) => ({ path: 'packages/beta/beta-1.0-py3-none-any.whl', length: 1, sha256: K('0'), hashes: { sha256: K('0') }, vouchedBy: v });

    it('parses a list (normalised names) or true', () => {
      const p = parsePolicy('[policy]\nrequire-developer-signed = ["Beta_Pkg", "alpha"]\n', 'f');
      expect([...(p.requireDeveloperSigned as Set<string>)]).to.deep.equal(['beta-pkg', 'alpha']);
      expect(parsePolicy('[policy]\nrequire-developer-signed = true\n', 'f').requireDeveloperSigned).to.equal(true);
      expect([...(parsePolicy('', 'f').requireDeveloperSigned as Set<string>)]).to.deep.equal([]);
    });
    it('refuses typos and wrong types instead of ignoring them', () => {
      expect(() => parsePolicy('[policy]\nrequire-developer-sigend = true\n', 'f')).to.throw(/unknown key policy\.require-developer-sigend/);
      expect(() => parsePolicy('[polcy]\n', 'f')).to.throw(/unknown table \[polcy\]/);
      expect(() => parsePolicy('[policy]\nrequire-developer-signed = "beta"\n', 'f')).to.throw(/true, false or a list/);
      expect(() => parsePolicy('[policy\n', 'f')).to.throw(/not valid TOML/);
    });
    it('refuses index-signed files of the projects it names, only those', () => {
      const p = parsePolicy('[policy]\nrequire-developer-signed = ["beta"]\n', 'tufpip.toml');
      expect(checkPolicy(p, 'beta', target(index))).to.deep.include({ kind: 'missing-developer-signature' });
      expect(checkPolicy(p, 'beta', target(dev))).to.equal(undefined);
      expect(checkPolicy(p, 'alpha', target(index))).to.equal(undefined);
    });
    it('finds tufpip.toml in the working directory; --policy must exist; the flag means every project', async () => {
      const dir = tmpDir('tufpip-policy-');
      expect([...((await loadPolicy({ cwd: dir })).requireDeveloperSigned as Set<string>)]).to.deep.equal([]);
      fs.writeFileSync(path.join(dir, 'tufpip.toml'), '[policy]\nrequire-developer-signed = ["beta"]\n');
      expect((await loadPolicy({ cwd: dir })).source).to.equal(path.join(dir, 'tufpip.toml'));
      expect((await loadPolicy({ cwd: dir, requireDeveloperSigned: true })).requireDeveloperSigned).to.equal(true);
      let err: Error | undefined;
      await loadPolicy({ cwd: dir, policyFile: 'missing.toml' }).catch((e: Error) => (err = e));
      expect(err?.message).to.match(/cannot read policy file .*missing\.toml/);
    });
  });

  describe('report lines and refusals', () => {
    it('names developer keys and threshold, or the online key', () => {
      const dev: Vouch = { kind: 'developer', role: 'project-p', keyids: [K('1'), K('2'), K('3')], threshold: 2, signedBy: ['1a2b3c4d' + '0'.repeat(56), '5e6f7a8b' + '0'.repeat(56)] };
      expect(describeVouch(dev)).to.equal('developer-signed: project-p, keys 1a2b3c4d, 5e6f7a8b (2 of 3)');
      expect(describeVouch({ kind: 'index', role: 'bin-1', keyids: [K('a')], threshold: 1, signedBy: [K('a')] })).to.equal('index-signed (online key aaaaaaaa)');
      const e = (file: string): ReportEntry => ({ file, sha256: K('f'), length: 1, project: 'p', target: `packages/p/${file}`, vouchedBy: dev });
      expect(reportLines([e('a.whl'), e('long-name.whl')])).to.deep.equal([
        `a.whl          sha256:${K('f')}  developer-signed: project-p, keys 1a2b3c4d, 5e6f7a8b (2 of 3)`,
        `long-name.whl  sha256:${K('f')}  developer-signed: project-p, keys 1a2b3c4d, 5e6f7a8b (2 of 3)`,
      ]);
    });
    it('maps refusals to what pip sees and picks the security refusal to report', () => {
      expect(httpStatusFor('not-signed')).to.equal(404);
      expect(httpStatusFor('network')).to.equal(502);
      expect(httpStatusFor('rollback')).to.equal(403);
      const rs = [refusalOf(new ClientError('not-signed', 'x'), 'simple/a/index.html'), refusalOf(new ClientError('freeze', 'y'), 'p'), refusalOf(new Error('z'), 'q')];
      expect(rs.map((r) => r.kind)).to.deep.equal(['not-signed', 'freeze', 'metadata']);
      expect(mostSevere(rs)!.kind).to.equal('freeze');
    });
  });

  describe('prefetch guess (what pip will most likely download from a page)', () => {
    const page = (...files: string[]) => projectPageHtml('p', files.map((filename) => ({ filename, sha256: K('0') })));
    it('picks the highest final release, a pure wheel over its sdist', () => {
      expect(likelyChoice(page('p-1.9-py3-none-any.whl', 'p-1.10-py3-none-any.whl', 'p-1.10.tar.gz', 'p-1.2-py3-none-any.whl'))).to.equal('p-1.10-py3-none-any.whl');
    });
    it('skips pre-releases and dev releases, counts post releases', () => {
      expect(likelyChoice(page('p-1.0-py3-none-any.whl', 'p-2.0rc1-py3-none-any.whl', 'p-2.0.dev3-py3-none-any.whl'))).to.equal('p-1.0-py3-none-any.whl');
      expect(likelyChoice(page('p-1.0-py3-none-any.whl', 'p-1.0.post1-py3-none-any.whl'))).to.equal('p-1.0.post1-py3-none-any.whl');
      expect(likelyChoice(page('p-1!0.5-py3-none-any.whl', 'p-9.0-py3-none-any.whl'))).to.equal('p-1!0.5-py3-none-any.whl');
    });
    it('skips yanked files (PEP 592), whose links it still reads', () => {
      const html = projectPageHtml('p', [
        { filename: 'p-1.0-py3-none-any.whl', sha256: K('0') },
        { filename: 'p-2.0-py3-none-any.whl', sha256: K('1'), requiresPython: '>=3', yanked: 'broken <b> & "q"' },
      ]);
      expect(parseProjectPage(html)).to.deep.equal([
        { filename: 'p-1.0-py3-none-any.whl', sha256: K('0') },
        { filename: 'p-2.0-py3-none-any.whl', sha256: K('1'), requiresPython: '>=3', yanked: 'broken <b> & "q"' },
      ]);
      expect(likelyChoice(html)).to.equal('p-1.0-py3-none-any.whl');
      expect(likelyChoice(projectPageHtml('p', [{ filename: 'p-2.0-py3-none-any.whl', sha256: K('1'), yanked: '' }]))).to.equal(undefined);
    });
    it('takes the only file of the release (an sdist), and gives up on platform wheels', () => {
      expect(likelyChoice(page('p-1.0.tar.gz'))).to.equal('p-1.0.tar.gz');
      expect(likelyChoice(page('p-1.0-cp311-cp311-manylinux_2_28_x86_64.whl', 'p-1.0-cp312-cp312-manylinux_2_28_x86_64.whl'))).to.equal(undefined);
      expect(likelyChoice(page())).to.equal(undefined);
    });
    it('orders versions as PEP 440 does for releases', () => {
      const k = (v: string) => versionKey(v)!;
      expect(compareVersionKeys(k('1.10'), k('1.9'))).to.be.greaterThan(0);
      expect(compareVersionKeys(k('1.0'), k('1.0.0'))).to.equal(0);
      expect(k('1.0a1').pre).to.equal(true);
      expect(versionKey('not a version')).to.equal(undefined);
    });
  });

  describe('call queue (one call into the client library at a time)', () => {
    it('runs one call at a time, pip before background work, and promotes what pip waits for', async () => {
      const q = new CallQueue();
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const running = q.run(async () => {
        order.push('first');
        await gate;
      });
      const bg1 = q.run(async () => void order.push('bg1'), { background: true, key: 'a' });
      const bg2 = q.run(async () => void order.push('bg2'), { background: true, key: 'b' });
      const fg = q.run(async () => void order.push('fg'));
      q.promote('b');
      release();
      await Promise.all([running, bg1, bg2, fg]);
      expect(order).to.deep.equal(['first', 'fg', 'bg2', 'bg1']);
    });
    it('keeps going after a failed call', async () => {
      const q = new CallQueue();
      const failed = q.run(async () => {
        throw new Error('x');
      });
      const ok = q.run(async () => 42);
      await failed.catch(() => undefined);
      expect(await ok).to.equal(42);
    });
  });

  describe("pip's environment", () => {
    it('drops every PIP_* setting and proxy, skips config files, keeps the rest', () => {
      const env = pipEnvironment({ PATH: '/bin', PIP_INDEX_URL: 'https://evil/', pip_extra_index_url: 'x', PIP_FIND_LINKS: '/opt/wheels', HTTPS_PROXY: 'http://p:3128', http_proxy: 'x', HOME: '/h' });
      expect(env).to.include({ PATH: '/bin', HOME: '/h', PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' });
      for (const k of ['PIP_INDEX_URL', 'pip_extra_index_url', 'PIP_FIND_LINKS', 'HTTPS_PROXY', 'http_proxy']) expect(env, k).to.not.have.property(k);
      expect(env.NO_PROXY).to.include('127.0.0.1');
    });
  });
});
