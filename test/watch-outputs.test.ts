// `tufpip watch` outputs and the watchers' cross-checks on real indexes served on loopback: the
// subscriptions commands, JSON lines, an Atom feed that parses as XML, a webhook to a loopback
// receiver (kept and sent again when it fails), fork detection between two watchers with
// `export`/`compare`, and equivocation seen by one watcher (one version, two contents).
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import { tufpipRepo } from './helpers/cli.js';
import { copyRepo, expectOk, makeRepo, serve } from './helpers/repo.js';
import { startHttp, startProxy, type CountingProxy, type Loopback } from './helpers/loopback.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import { parseJsonLines, watchedIndex, watcherOf, type WatchEventLine, type WatchedIndex } from './helpers/watcher.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';

describe('tufpip watch outputs, fork detection and equivocation (real index)', function () {
  this.timeout(240_000);
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('watch add / list / remove keep the subscriptions with the trust data', async () => {
    const w = await watchedIndex(['Beta', 'acme_*'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    cleanup.push(() => w.close());
    const list = await w.watcher.run(['watch', 'list', '--json']);
    expectOk(list, 'watch list');
    expect(JSON.parse(list.stdout)).to.have.length(1);
    expect(JSON.parse(list.stdout)[0]).to.include({ index: 'idx' }).and.have.property('patterns').deep.equal(['acme-*', 'beta']);
    expect(fs.statSync(path.join(w.watcher.dataDir, 'indexes', 'idx', 'watch', 'subscriptions.json')).isFile()).to.equal(true);
    const bad = await w.watcher.run(['watch', 'add', '--index', 'idx', 'a*b']);
    expect(bad.code, 'a bad pattern is a usage error').to.equal(2);
    const missing = await w.watcher.run(['watch', 'remove', '--index', 'idx', 'gamma']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('not watched on idx: gamma');
    expectOk(await w.watcher.run(['watch', 'remove', '--index', 'idx', 'beta']), 'remove beta');
    expect(JSON.parse((await w.watcher.run(['watch', 'list', '--json'])).stdout)[0].patterns).to.deep.equal(['acme-*']);
    expectOk(await w.watcher.run(['watch', 'remove', '--index', 'idx']), 'remove all');
    expect(JSON.parse((await w.watcher.run(['watch', 'list', '--json'])).stdout)).to.deep.equal([]);
    const notWatched = await w.watcher.run(['watch', 'run', '--index', 'idx']);
    expect(notWatched.code).to.equal(2);
    expect(notWatched.stderr).to.contain('is not watched');
  });

  it('bad input is refused with one line and the right exit code, and changes nothing', async () => {
    const w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    cleanup.push(() => w.close());
    const dir = tmpDir('tufpip-watch-bad-');
    const notJson = path.join(dir, 'not.jsonl');
    fs.writeFileSync(notJson, 'not json\n');
    const badShape = path.join(dir, 'shape.jsonl');
    fs.writeFileSync(badShape, JSON.stringify({ role: 'snapshot', version: 1, sha256: 'xyz' }) + '\n');
    const cases: [string, string[], number, RegExp][] = [
      ['a sha256 that is not 64 hex digits', ['watch', 'expect', '--index', 'idx', 'beta', '--sha256', 'abc'], 2, /a sha256 is 64 hex digits, got "abc"/],
      ['expect with no hash', ['watch', 'expect', '--index', 'idx', 'beta'], 2, /give --sha256 HASH/],
      ['a missing file of hashes', ['watch', 'expect', '--index', 'idx', 'beta', '--from', path.join(dir, 'none')], 1, /cannot read .*none: ENOENT/],
      ['--every that is not a duration', ['watch', 'run', '--index', 'idx', '--every', 'soon'], 2, /--every takes a duration like 30s, 5m, 1h: got "soon"/],
      ['--webhook that is not http(s)', ['watch', 'run', '--index', 'idx', '--webhook', 'ftp://127.0.0.1/x'], 2, /--webhook takes an http\(s\) URL, got ftp:/],
      ['--expiry-days below 0', ['watch', 'run', '--index', 'idx', '--expiry-days', '-1'], 2, /--expiry-days takes a number of days >= 0/],
      ['compare with a line that is not JSON', ['watch', 'compare', '--index', 'idx', notJson], 1, /line 1: not JSON/],
      ['compare with a malformed observation', ['watch', 'compare', '--index', 'idx', badShape], 1, /line 1: expected \{"role","version","sha256"\}/],
      ['an index nobody trusts', ['watch', 'add', '--index', 'nope', 'beta'], 1, /no trusted index named nope/],
    ];
    expectOk(await w.watcher.run(['watch', 'run', '--index', 'idx']), 'first run');
    const state = () => fs.readdirSync(path.join(w.watcher.dataDir, 'indexes', 'idx', 'watch')).map((f) => fs.readFileSync(path.join(w.watcher.dataDir, 'indexes', 'idx', 'watch', f), 'utf8')).join('\n');
    const before = state();
    for (const [name, args, code, message] of cases) {
      const r = await w.watcher.run(args);
      expect(r.code, `${name}:\n${r.stderr}`).to.equal(code);
      expect(r.stderr, name).to.match(message);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('tufpip: ')), `${name}: one error line`).to.have.length(1);
      expect(state(), `${name}: nothing changed`).to.equal(before);
    }
  });

  it('JSON lines, an Atom feed and a webhook (retried; what a failing receiver missed is sent by the next run)', async () => {
    const w: WatchedIndex = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    cleanup.push(() => w.close());
    let failing = true;
    const received: WatchEventLine[] = [];
    let attempts = 0;
    const receiver: Loopback = await startHttp((req: http.IncomingMessage, res: http.ServerResponse) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        attempts++;
        if (failing) {
          res.writeHead(503).end();
          return;
        }
        expect(req.method).to.equal('POST');
        expect(req.headers['content-type']).to.equal('application/json');
        received.push(JSON.parse(body) as WatchEventLine);
        res.writeHead(204).end();
      });
    });
    cleanup.push(() => receiver.close());
    const feed = path.join(tmpDir('tufpip-watch-feed-'), 'feed.atom');
    // A webhook URL often carries a token: it is never stored nor printed.
    const token = 'T0KEN-in-the-webhook-path-5f3a';
    const hook = `${receiver.url}hook/${token}`;
    expect((await w.watcher.watch(['--webhook', hook, '--atom', feed])).events).to.deep.equal([]);
    await w.add({ name: 'beta', version: '1.0' });
    await w.add({ name: 'beta', version: '1.1' });
    const first = await w.watcher.watch(['--webhook', hook, '--atom', feed]);
    expect(first.code).to.equal(0);
    expect(first.events.map((e) => e.kind)).to.deep.equal(['file-added', 'file-added']);
    expect(attempts, 'retried before giving up').to.equal(3);
    expect(first.r.stderr).to.contain(`webhook ${receiver.url.replace(/\/$/, '')}: 0 delivered, 2 kept for the next run`);
    const stored = fs.readdirSync(path.join(w.watcher.dataDir, 'indexes', 'idx', 'watch')).map((f) => fs.readFileSync(path.join(w.watcher.dataDir, 'indexes', 'idx', 'watch', f), 'utf8'));
    expect(stored.join('\n') + first.r.stdout + first.r.stderr).to.not.contain(token);

    // The Atom feed parses as XML and holds each event once, with its id.
    const xml = new XMLParser({ ignoreAttributes: false }).parse(fs.readFileSync(feed, 'utf8'));
    const entries = [xml.feed.entry].flat();
    expect(xml.feed['@_xmlns']).to.equal('http://www.w3.org/2005/Atom');
    expect(entries.map((e: { id: string }) => e.id).sort()).to.deep.equal(first.events.map((e) => `urn:tufpip:watch:${e.id}`).sort());
    expect(entries.map((e: { content: { '#text': string } }) => e.content['#text'])).to.include(first.events[0].message);

    failing = false;
    const second = await w.watcher.watch(['--webhook', hook, '--atom', feed]);
    expect(second.events, 'no new event').to.deep.equal([]);
    expect(received.map((e) => e.id)).to.deep.equal(first.events.map((e) => e.id));
    expect(received[0]).to.deep.equal(first.events[0]);
    await w.watcher.watch(['--webhook', hook]);
    expect(received, 'each delivered once').to.have.length(2);
  });

  it('the webhook goes through HTTP_PROXY like every download (NO_PROXY exempts the index); a refused connection is reported without the URL', async () => {
    const w: WatchedIndex = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    cleanup.push(() => w.close());
    const received: string[] = [];
    const receiver: Loopback = await startHttp((req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      req.on('end', () => {
        received.push(`${req.method} ${req.url}`);
        res.writeHead(204).end();
      });
    });
    cleanup.push(() => receiver.close());
    const proxy: CountingProxy = await startProxy();
    cleanup.push(() => proxy.close());
    const token = 'T0KEN-proxied-9c1e';
    const hook = `${receiver.url}hook/${token}`;
    const env = { ...process.env, HTTP_PROXY: proxy.url, NO_PROXY: `127.0.0.1:${new URL(w.server.url).port}` };
    await w.watcher.watch([]);
    await w.add({ name: 'beta', version: '1.0' });
    const r = await w.watcher.run(['watch', 'run', '--index', 'idx', '--json', '--webhook', hook], { env });
    expect(r.code, r.stderr).to.equal(0);
    expect(received).to.deep.equal([`POST /hook/${token}`]);
    expect(proxy.forwarded, 'the POST went through the proxy, the index did not').to.deep.equal([hook]);

    // Nobody listening: the failure names the receiver's origin only, never its path (a token).
    await receiver.close();
    await w.add({ name: 'beta', version: '1.1' });
    const down = await w.watcher.run(['watch', 'run', '--index', 'idx', '--json', '--webhook', hook]);
    expect(down.code, down.stderr).to.equal(0);
    expect(down.stderr).to.match(new RegExp(`webhook ${receiver.url.replace(/\/$/, '')}: 0 delivered, 1 kept for the next run`));
    expect(down.stdout + down.stderr).to.not.contain(token);
  });

  it('two watchers shown different snapshots under one version: compare finds the fork; one watcher sees the equivocation', async () => {
    const base = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }] });
    const a = copyRepo(base.dir);
    const b = copyRepo(base.dir);
    const wheels = path.join(tmpDir('tufpip-watch-fork-'), 'dist');
    expectOk(await tufpipRepo(['add', a, await writeWheel(wheels, { name: 'beta', version: '1.0' })]), 'add to a');
    expectOk(await tufpipRepo(['add', b, await writeWheel(wheels, { name: 'beta', version: '6.6.6' })]), 'add to b');
    const sa: RunningServer = await serve(a);
    cleanup.push(() => sa.close());
    const sb: RunningServer = await serve(b);
    cleanup.push(() => sb.close());
    const root = path.join(a, 'site', 'metadata', '1.root.json');
    const w1 = await watcherOf(sa.url, root, ['beta']);
    const w2 = await watcherOf(sb.url, root, ['beta']);
    expect((await w1.watch()).code).to.equal(0);
    expect((await w2.watch()).code).to.equal(0);

    const log = path.join(tmpDir('tufpip-watch-log-'), 'w2.jsonl');
    expectOk(await w2.run(['watch', 'export', '--index', 'idx', '--out', log]), 'export');
    const lines = parseJsonLines(fs.readFileSync(log, 'utf8')) as unknown as { role: string; version: number; sha256: string }[];
    expect(lines.find((l) => l.role === 'snapshot' && l.version === 3)).to.not.equal(undefined);
    const same = await w2.run(['watch', 'compare', '--index', 'idx', log]);
    expect(same.code, 'a watcher agrees with itself').to.equal(0);
    expect(same.stdout).to.contain('no disagreement');
    const fork = await w1.run(['watch', 'compare', '--index', 'idx', log, '--json']);
    expect(fork.code, fork.stderr).to.equal(1);
    const forks = parseJsonLines(fork.stdout);
    expect(forks.every((e) => e.kind === 'fork' && e.alarm)).to.equal(true);
    expect(forks.map((e) => `${e.role}@${e.version}`)).to.include.members(['snapshot@3', 'timestamp@3']);

    // Equivocation: the index now serves b's history under the versions w1 already saw.
    fs.cpSync(path.join(b, 'site', 'metadata'), path.join(a, 'site', 'metadata'), { recursive: true });
    const eq = await w1.watch();
    expect(eq.code).to.equal(1);
    expect(eq.events.map((e) => `${e.kind} ${e.role}@${e.version}`)).to.deep.equal(['equivocation timestamp@3']);
  });
});
