// `tufpip watch run` against real indexes served on loopback, changed with the real `tufpip-repo`
// commands between runs: each change produces exactly the expected events, once, and a second run
// (a new process: a restart) reports nothing again. Verification failures exit 2, alarms exit 1.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { CLIENT_BIN, preload, runCommand, startCommand, tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { sha256File } from './helpers/hash.js';
import { claim, indexOnlyAdd, maintainers, signRelease } from './helpers/pep480-fixture.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { watchedIndex, type WatchEventLine, type WatchedIndex } from './helpers/watcher.js';
import { writeWheel } from './helpers/wheels.js';
import { tmpDir } from './helpers/tmp.js';

const kinds = (events: WatchEventLine[]) => events.map((e) => `${e.kind}${e.path ? ` ${path.basename(e.path)}` : e.role ? ` ${e.role}` : ''}`).sort();

function onlineKeyId(repoDir: string): string {
  return privateKeyFromPem(fs.readFileSync(path.join(repoDir, 'keys', 'online.pem'), 'utf8'), 'online.pem').keyid;
}

describe('tufpip watch run (real index, real history)', function () {
  this.timeout(240_000);
  let w: WatchedIndex | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it('add and remove: a release added and removed between two runs is still reported, each event once across restarts', async () => {
    w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    const base = await w.watcher.watch();
    expect(base.code).to.equal(0);
    expect(base.events, 'the first run records a baseline').to.deep.equal([]);
    const b10 = await w.add({ name: 'beta', version: '1.0' });
    const b11 = await w.add({ name: 'beta', version: '1.1' });
    await w.add({ name: 'alpha', version: '2.0' }); // not watched
    expectOk(await tufpipRepo(['remove', w.repo.dir, 'beta', '--version', '1.0']), 'remove');
    const r = await w.watcher.watch();
    expect(r.code, r.r.stderr).to.equal(0);
    expect(kinds(r.events)).to.deep.equal(['file-added beta-1.0-py3-none-any.whl', 'file-added beta-1.1-py3-none-any.whl', 'file-removed beta-1.0-py3-none-any.whl']);
    const added = r.events.find((e) => e.path === 'packages/beta/beta-1.0-py3-none-any.whl' && e.kind === 'file-added')!;
    expect(added.sha256).to.equal(sha256File(b10));
    expect(added.vouch).to.include({ kind: 'index', threshold: 1 });
    expect(added.vouch!.keyids).to.deep.equal([onlineKeyId(w.repo.dir)]);
    expect(added.alarm).to.equal(false);
    expect(r.events.find((e) => e.path?.endsWith(path.basename(b11)))!.sha256).to.equal(sha256File(b11));
    const again = await w.watcher.watch();
    expect(again.code).to.equal(0);
    expect(again.events, 'nothing is reported twice').to.deep.equal([]);
  });

  it('claim, a developer-signed release, and an index-only file in the claimed project (alarm)', async () => {
    w = await watchedIndex(['myproj'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const [alice, bob] = await maintainers(['alice', 'bob']);
    expectOk(await claim(w.repo.dir, 'myproj', [alice, bob], 2), 'claim');
    const claimed = await w.watcher.watch();
    expect(kinds(claimed.events)).to.deep.equal(['delegation-changed']);
    expect(claimed.events[0].message).to.contain('index-signed -> claimed').and.contain('2 of');
    expect(claimed.code).to.equal(0);

    const whl = await writeWheel(path.join(tmpDir('tufpip-watch-dist-'), 'dist'), { name: 'myproj', version: '1.0' });
    const bundle = await signRelease({ project: 'myproj', files: [whl], signers: [alice, bob], keys: [alice, bob], threshold: 2, out: path.join(tmpDir('tufpip-watch-bundle-'), 'myproj.release.json') });
    expectOk(await tufpipRepo(['add', w.repo.dir, '--signed', bundle, whl]), 'add --signed');
    const released = await w.watcher.watch();
    expect(released.code).to.equal(0);
    expect(kinds(released.events)).to.deep.equal(['file-added myproj-1.0-py3-none-any.whl']);
    const e = released.events[0];
    expect(e).to.include({ authorized: true, alarm: false, sha256: sha256File(whl) });
    expect(e.vouch).to.include({ kind: 'developer', threshold: 2 });
    expect(e.vouch!.keyids).to.have.members([alice.keyid, bob.keyid]);

    const rogue = await writeWheel(path.join(tmpDir('tufpip-watch-rogue-'), 'dist'), { name: 'myproj', version: '1.1' });
    await indexOnlyAdd(w.repo.dir, rogue);
    const alarm = await w.watcher.watch();
    expect(alarm.code, 'an alarm exits 1').to.equal(1);
    expect(kinds(alarm.events)).to.deep.equal(['unsigned-file myproj-1.1-py3-none-any.whl']);
    expect(alarm.events[0]).to.include({ alarm: true, sha256: sha256File(rogue) });
    const quiet = await w.watcher.watch();
    expect(quiet.code).to.equal(0);
    expect(quiet.events).to.deep.equal([]);
  });

  it('claimed <-> recently-claimed: claim --recent, then promote, each one delegation change', async () => {
    w = await watchedIndex(['newproj'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const [carol] = await maintainers(['carol']);
    expectOk(await tufpipRepo(['claim', w.repo.dir, 'newproj', '--key', carol.pub, '--threshold', '1', '--recent']), 'claim --recent');
    const recent = await w.watcher.watch();
    expect(kinds(recent.events)).to.deep.equal(['delegation-changed']);
    expect(recent.events[0].message).to.contain('index-signed -> recently-claimed').and.contain(`1 of ${carol.keyid.slice(0, 8)}`);
    expectOk(await tufpipRepo(['promote', w.repo.dir, '--offline-key', path.join(w.repo.dir, 'keys', 'claimed.pem')]), 'promote');
    const promoted = await w.watcher.watch();
    expect(kinds(promoted.events)).to.deep.equal(['delegation-changed']);
    expect(promoted.events[0].message).to.contain('recently-claimed -> claimed');
    expect((await w.watcher.watch()).events).to.deep.equal([]);
  });

  it("a maintainer key rotated (runbook 4.5): the project's files are unreachable until re-signed, then back, each reported once", async () => {
    w = await watchedIndex(['myproj'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const [old, fresh] = await maintainers(['myproj-old', 'myproj-new']);
    expectOk(await claim(w.repo.dir, 'myproj', [old], 1), 'claim');
    const whl = await writeWheel(path.join(tmpDir('tufpip-watch-dist-'), 'dist'), { name: 'myproj', version: '1.0' });
    const bundles = tmpDir('tufpip-watch-bundle-');
    const first = await signRelease({ project: 'myproj', files: [whl], signers: [old], keys: [old], threshold: 1, out: path.join(bundles, 'old.release.json') });
    expectOk(await tufpipRepo(['add', w.repo.dir, '--signed', first, whl]), 'add --signed');
    expect(kinds((await w.watcher.watch()).events)).to.deep.equal(['delegation-changed', 'file-added myproj-1.0-py3-none-any.whl']);

    expectOk(await tufpipRepo(['propose', w.repo.dir, '--role', 'claimed', '--project', 'myproj', '--remove-key', old.pub, '--add-key', fresh.pub]), 'propose');
    expectOk(await tufpipRepo(['sign', path.join(w.repo.dir, 'pending', 'claimed.json'), '--key', path.join(w.repo.dir, 'keys', 'claimed.pem')]), 'sign');
    expectOk(await tufpipRepo(['publish', w.repo.dir]), 'publish');
    const rotated = await w.watcher.watch();
    expect(rotated.code).to.equal(0);
    expect(kinds(rotated.events)).to.deep.equal(['delegation-changed', 'delegation-changed project-myproj', 'file-removed myproj-1.0-py3-none-any.whl']);
    expect(rotated.events.find((e) => !e.role)!.message).to.contain(`keys 1 of ${old.keyid.slice(0, 8)} -> 1 of ${fresh.keyid.slice(0, 8)}`);
    expect(rotated.events.find((e) => e.role === 'project-myproj')!.message).to.contain('no longer signed by the keys its delegator gives it');

    // The new project metadata builds on the published one (signed by the old key) and is signed by the new one.
    const again = await signRelease({ project: 'myproj', files: [whl], signers: [fresh], keys: [old, fresh], threshold: 1, from: path.join(w.repo.dir, 'site', 'metadata'), out: path.join(bundles, 'new.release.json') });
    expectOk(await tufpipRepo(['add', w.repo.dir, '--signed', again, whl]), 'add --signed (new key)');
    const back = await w.watcher.watch();
    expect(kinds(back.events)).to.deep.equal(['file-added myproj-1.0-py3-none-any.whl']);
    expect(back.events[0]).to.include({ authorized: true, sha256: sha256File(whl) });
    expect(back.events[0].vouch).to.include({ kind: 'developer', threshold: 1 });
    expect(back.events[0].vouch!.keyids).to.include(fresh.keyid);
    expect((await w.watcher.watch()).events).to.deep.equal([]);
  });

  it('online key and root rotation (runbook 4.4): root rotated and online key changed, once', async () => {
    w = await watchedIndex([], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const keys = path.join(w.repo.dir, 'keys');
    expectOk(await tufpipRepo(['keygen', 'online-2', '--out-dir', keys]), 'keygen');
    for (const role of ['root', 'targets', 'bins']) expectOk(await tufpipRepo(['propose', w.repo.dir, '--role', role, '--role-key', `online=${keys}/online-2.pub.json`]), `propose ${role}`);
    for (const k of ['root-1', 'root-2']) expectOk(await tufpipRepo(['sign', path.join(w.repo.dir, 'pending', 'root.json'), '--key', path.join(keys, `${k}.pem`)]), `sign ${k}`);
    expectOk(await tufpipRepo(['sign', path.join(w.repo.dir, 'pending', 'targets.json'), '--key', path.join(keys, 'targets.pem')]), 'sign targets');
    expectOk(await tufpipRepo(['sign', path.join(w.repo.dir, 'pending', 'bins.json'), '--key', path.join(keys, 'bins.pem')]), 'sign bins');
    expectOk(await tufpipRepo(['publish', w.repo.dir, '--online-key', `file:${keys}/online-2.pem`]), 'publish');
    const r = await w.watcher.watch();
    expect(r.code, r.r.stderr).to.equal(0);
    expect(kinds(r.events)).to.deep.equal(['online-key-changed', 'root-rotated root']);
    const online2 = privateKeyFromPem(fs.readFileSync(path.join(keys, 'online-2.pem'), 'utf8'), 'online-2.pem').keyid;
    const changed = r.events.find((e) => e.kind === 'online-key-changed')!;
    expect(changed.message).to.contain(onlineKeyId(w.repo.dir).slice(0, 8));
    expect(changed.message).to.contain(online2.slice(0, 8));
    expect((changed as unknown as { after: string[] }).after).to.include(online2).and.not.include(onlineKeyId(w.repo.dir));
    expect(r.events.find((e) => e.kind === 'root-rotated')!.message).to.contain('version 1 -> 2');
    expect((await w.watcher.watch()).events).to.deep.equal([]);
  });

  it('an offline role near expiry is reported once per expiry date', async () => {
    w = await watchedIndex([], { wheels: [{ name: 'alpha', version: '1.0' }], initArgs: ['--expires', 'targets=10'] });
    const first = await w.watcher.watch();
    expect(first.code).to.equal(0);
    expect(kinds(first.events)).to.deep.equal(['expiring targets']);
    expect(first.events[0].message).to.match(/expires in (9|10)\.\d days/);
    expect((await w.watcher.watch()).events, 'once').to.deep.equal([]);
    const wide = await w.watcher.watch(['--expiry-days', '400']);
    expect(kinds(wide.events), 'a wider window warns about the others, once').to.deep.equal(['expiring bins', 'expiring claimed', 'expiring root']);
  });

  it('pre-authorization: an index-signed file with an expected hash is quiet, any other hash is an alarm', async () => {
    w = await watchedIndex(['gamma'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const dir = path.join(tmpDir('tufpip-watch-ci-'), 'dist');
    const g10 = await writeWheel(dir, { name: 'gamma', version: '1.0' });
    const hashes = path.join(path.dirname(dir), 'SHA256SUMS');
    fs.writeFileSync(hashes, `${sha256File(g10)}  gamma-1.0-py3-none-any.whl\n`);
    expectOk(await w.watcher.run(['watch', 'expect', '--index', 'idx', 'Gamma', '--from', hashes]), 'watch expect');
    expectOk(await tufpipRepo(['add', w.repo.dir, g10]), 'add gamma 1.0');
    const ok = await w.watcher.watch();
    expect(ok.code).to.equal(0);
    expect(ok.events.map((e) => [e.kind, e.authorized, e.alarm])).to.deep.equal([['file-added', true, false]]);
    await w.add({ name: 'gamma', version: '1.1' });
    const text = await w.watcher.run(['watch', 'run', '--index', 'idx']);
    expect(text.code, 'an unauthorized release exits 1').to.equal(1);
    expect(text.stdout).to.match(/^ALARM file-added +packages\/gamma\/gamma-1\.1-py3-none-any\.whl appeared, .*NOT AUTHORIZED$/m);
    expect(text.stderr).to.contain('1 alarm(s)');
    expect((await w.watcher.watch()).code).to.equal(0);
  });

  it('a rolled-back timestamp is refused (exit 2) and reported; history removed by gc is a reported gap', async () => {
    w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const ts = path.join(w.repo.dir, 'site', 'metadata', 'timestamp.json');
    const old = fs.readFileSync(ts);
    await w.add({ name: 'beta', version: '1.0' });
    await w.add({ name: 'beta', version: '2.0' });
    const before = JSON.parse(expectOk(await tufpipRepo(['status', w.repo.dir, '--json'])).stdout).history;
    expect(before).to.include({ oldestSnapshot: 1, newestSnapshot: 4, versions: 4 });
    expectOk(await tufpipRepo(['gc', w.repo.dir, '--keep', '0s']), 'gc');
    const status = expectOk(await tufpipRepo(['status', w.repo.dir]), 'status');
    expect(status.stdout).to.contain("history: snapshots 4..4 published (1 versions").and.contain("watchers ('tufpip watch run') must run more often");
    const gap = await w.watcher.watch();
    expect(gap.code).to.equal(0);
    expect(kinds(gap.events)).to.deep.equal(['file-added beta-1.0-py3-none-any.whl', 'file-added beta-2.0-py3-none-any.whl', 'history-gap snapshot']);
    expect(gap.events.find((e) => e.kind === 'history-gap')!.message).to.match(/snapshot versions 3 to 3 are no longer published/);

    const newer = fs.readFileSync(ts);
    fs.writeFileSync(ts, old); // a mirror serving an old timestamp
    const r = await w.watcher.watch();
    expect(r.code, 'a refused update exits 2').to.equal(2);
    expect(kinds(r.events)).to.deep.equal(['refused']);
    expect(r.events[0].alarm).to.equal(true);
    expect(r.events[0].message).to.contain('rollback');
    fs.writeFileSync(ts, newer);
    const back = await w.watcher.watch();
    expect(back.code).to.equal(0);
    expect(back.events).to.deep.equal([]);
  });

  // tuf/history-verify.ts: an older version read from history must be what its delegator signed.
  const tamper: Record<string, { file: (site: string) => string; edit: (site: string, bytes: Buffer) => Buffer; error: RegExp }> = {
    'an older snapshot with a changed signed part': {
      file: (site) => path.join(site, 'metadata', '3.snapshot.json'),
      edit: (_site, b) => Buffer.from(b.toString().replace(/"expires":"[^"]+"/, '"expires":"2099-01-01T00:00:00Z"')),
      error: /snapshot version 3: not signed by a threshold of the keys its delegator gives it/,
    },
    'an older snapshot served under another version': {
      file: (site) => path.join(site, 'metadata', '3.snapshot.json'),
      edit: (site) => fs.readFileSync(path.join(site, 'metadata', '4.snapshot.json')),
      error: /snapshot: expected version 3, got 4/,
    },
    'a hash bin of an older snapshot with a broken signature': {
      file: (site) => {
        const snap = JSON.parse(fs.readFileSync(path.join(site, 'metadata', '3.snapshot.json'), 'utf8'));
        const [name, m] = Object.entries(snap.signed.meta as Record<string, { version: number }>).find(([n, v]) => n.startsWith('bin-') && v.version > 1)!;
        return path.join(site, 'metadata', `${m.version}.${name}`);
      },
      edit: (_site, b) => {
        const md = JSON.parse(b.toString());
        md.signatures = md.signatures.map((s: { keyid: string; sig: string }) => ({ ...s, sig: s.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }));
        return Buffer.from(JSON.stringify(md));
      },
      error: /bin-[0-9a-f]+ version \d+: not signed by a threshold/,
    },
  };
  for (const [name, t] of Object.entries(tamper)) {
    it(`history check: ${name} is refused (exit 2), nothing is reported from it, and the honest history is reported once`, async () => {
      w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
      expect((await w.watcher.watch()).events).to.deep.equal([]);
      await w.add({ name: 'beta', version: '1.0' });
      await w.add({ name: 'beta', version: '2.0' });
      await w.add({ name: 'beta', version: '3.0' });
      const site = path.join(w.repo.dir, 'site');
      const file = t.file(site);
      const honest = fs.readFileSync(file);
      fs.writeFileSync(file, t.edit(site, honest));
      const bad = await w.watcher.watch();
      expect(bad.code, bad.r.stderr).to.equal(2);
      expect(bad.r.stderr).to.match(t.error);
      expect(bad.events).to.deep.equal([]);
      fs.writeFileSync(file, honest);
      const good = await w.watcher.watch();
      expect(good.code).to.equal(0);
      expect(kinds(good.events)).to.deep.equal(['file-added beta-1.0-py3-none-any.whl', 'file-added beta-2.0-py3-none-any.whl', 'file-added beta-3.0-py3-none-any.whl']);
    });
  }

  // A real SIGKILL (test/helpers/kill-at.ts) at each write of a run: the events are printed once
  // over the killed run and the next one (the killed one printed nothing).
  const crashes: Record<string, string> = {
    'after its events were saved, before the state': 'pending.json',
    'after the state was saved, before anything was printed': 'state.json',
  };
  for (const [name, file] of Object.entries(crashes)) {
    it(`a run killed ${name}: the next run reports the events, once`, async () => {
      w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
      expect((await w.watcher.watch()).events).to.deep.equal([]);
      await w.add({ name: 'beta', version: '1.0' });
      await w.add({ name: 'beta', version: '1.1' });
      const killed = await runCommand(process.execPath, ['--import', preload('kill-at'), CLIENT_BIN, '--data-dir', w.watcher.dataDir, 'watch', 'run', '--index', 'idx', '--json'], { env: { ...process.env, TUFPIP_TEST_KILL_AFTER_RENAME: file } });
      expect(killed.signal, killed.stderr).to.equal('SIGKILL');
      expect(killed.stdout).to.equal('');
      const next = await w.watcher.watch();
      expect(kinds(next.events)).to.deep.equal(['file-added beta-1.0-py3-none-any.whl', 'file-added beta-1.1-py3-none-any.whl']);
      expect((await w.watcher.watch()).events).to.deep.equal([]);
    });
  }

  it('--every keeps running: a release published while it runs is reported by a later cycle; SIGTERM stops it (exit 0)', async () => {
    w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    const p = startCommand(process.execPath, [CLIENT_BIN, '--data-dir', w.watcher.dataDir, 'watch', 'run', '--index', 'idx', '--every', '0.2s']);
    try {
      await p.line(/nothing new since snapshot 2/);
      await w.add({ name: 'beta', version: '1.0' });
      const line = await p.line(/file-added .*beta-1\.0-py3-none-any\.whl appeared/);
      expect(line).to.match(/^ {6}file-added/);
    } finally {
      p.child.kill('SIGTERM');
    }
    const r = await p.done;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.match(/beta-1\.0-py3-none-any\.whl appeared/g), 'reported once').to.have.length(1);
  });

  it('two runs at once report each event once (the watch lock)', async () => {
    w = await watchedIndex(['beta'], { wheels: [{ name: 'alpha', version: '1.0' }] });
    expect((await w.watcher.watch()).events).to.deep.equal([]);
    await w.add({ name: 'beta', version: '1.0' });
    await w.add({ name: 'beta', version: '1.1' });
    const [a, b] = await Promise.all([w.watcher.watch(), w.watcher.watch()]);
    expect(kinds([...a.events, ...b.events])).to.deep.equal(['file-added beta-1.0-py3-none-any.whl', 'file-added beta-1.1-py3-none-any.whl']);
  });
});
