// Issue 6, "Faults and load on the repository side": concurrency. 20 real `tufpip-repo add`
// processes start at once on one repository, while two loops run `bump --force` and plain `bump`
// (cron) back to back, and readers watch the served site the whole time:
//   - 14 writers each add their own wheel and sdist plus a new version of one shared project
//     (`common`, so every one of them rewrites the same simple page), half of them also re-adding
//     a file that is already published (unchanged);
//   - 2 writers add the very same new wheel (identical bytes) at the same moment, each with a
//     file of its own: one publishes it, the other finds it published;
//   - 4 writers only re-add files that are already published: a no-op (nothing published);
//   - a tuf-js client refreshes against the served site in a loop: every refresh succeeds and the
//     timestamp version it accepts never goes down;
//   - a plain-HTTP reader (what plain pip does) fetches the project list and the shared project's
//     page in a loop: once a page exists it must never be missing (404) or empty;
//   - `tufpip-repo verify` runs in a loop too and must pass every time.
// At the end: every writer and every bump exited 0; every file some writer reported is published
// with its sha256 (its hash-named copy and plain name hold those bytes); the shared page lists every
// version; the timestamp versions of all publishing runs are distinct and the journal's closed
// transactions are exactly 1..N with no gap and no repeat (timestamp and snapshot versions strictly
// increase); every N.snapshot.json from 1 to the last exists; no lock, takeover marker, staging
// folder or temporary file is left; and `verify` passes.
//
// Seeded (which writers also re-add a published file, the order they are started in): replay with
// TUFPIP_FAULTS_SEED=<seed printed in the failure>.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import path from 'node:path';
import fs from 'node:fs';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk, makeRepo, serve } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { writeSdist, writeWheel } from './helpers/wheels.js';
import { readPublished, TufClient } from './helpers/tuf-client.js';
import { checkPublished, journalLines, leftovers, median, rng, runRepoKillable, seedFrom, type KillableRun } from './helpers/faults.js';
import type { RunningServer } from '../repo-tools/commands/serve.js';
import { sha256File } from './helpers/hash.js';

const WRITERS = 20;
const SEED = seedFrom('TUFPIP_FAULTS_SEED');

interface AddJson {
  files: { targetPath: string; sha256: string; status: 'added' | 'unchanged' }[];
  commit: { noop: boolean; timestampVersion: number; snapshotVersion: number };
}
interface BumpJson {
  commit: { noop: boolean; timestampVersion: number; snapshotVersion: number };
}

describe('repo faults: 20 concurrent add processes, a bump loop and readers on one repository', function () {
  this.timeout(600_000);
  let base: string;
  let repo: string;
  let server: RunningServer;
  const ctx = (what: string) => `[TUFPIP_FAULTS_SEED=${SEED}] ${what}`;

  before(async () => {
    base = tmpDir('tufpip-faults-conc-');
    repo = path.join(base, 'repo');
    await makeRepo({ dir: repo, bins: 16 });
    server = await serve(repo);
  });

  after(async () => {
    await server?.close();
  });

  it(`every writer's files end up published, versions strictly increase, nothing is left behind (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const inputs = path.join(base, 'in');
    // Already published before the load: pre0..pre3 and common 1.0.
    const pre = [
      ...(await Promise.all([0, 1, 2, 3].map((i) => writeWheel(path.join(inputs, 'pre'), { name: `pre${i}`, version: '1.0' })))),
      await writeWheel(path.join(inputs, 'pre'), { name: 'common', version: '1.0' }),
    ];
    expectOk(await tufpipRepo(['add', repo, ...pre]), 'add of the files published before the load');
    const pick = () => pre[Math.floor(random() * pre.length)];

    // The writers' inputs: each writer has its own folder.
    const twin = await writeWheel(path.join(inputs, 'twin'), { name: 'twin', version: '1.0', body: 'X = "twin"\n' });
    const jobs: { kind: 'new' | 'twin' | 'noop'; files: string[] }[] = [];
    for (let i = 0; i < 14; i++) {
      const dir = path.join(inputs, `w${i}`);
      const files = [
        await writeWheel(dir, { name: `solo${i}`, version: '1.0' }),
        writeSdist(dir, `solo${i}`, '1.0'),
        await writeWheel(dir, { name: 'common', version: `2.${i}` }),
      ];
      if (random() < 0.5) files.push(pick());
      jobs.push({ kind: 'new', files });
    }
    for (let i = 0; i < 2; i++) jobs.push({ kind: 'twin', files: [twin, await writeWheel(path.join(inputs, `t${i}`), { name: `twinmate${i}`, version: '1.0' })] });
    for (let i = 0; i < 4; i++) jobs.push({ kind: 'noop', files: [...new Set([pick(), pick()])] });
    expect(jobs).to.have.length(WRITERS);
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [jobs[i], jobs[j]] = [jobs[j], jobs[i]];
    }

    // Readers: a TUF client, a plain-HTTP reader, verify; all run until the writers are done.
    let loadDone = false;
    const client = new TufClient(server.url, path.join(repo, 'site', 'metadata', '1.root.json'));
    const seenTs: number[] = [];
    const clientFailures: string[] = [];
    const clientLoop = (async () => {
      while (!loadDone && clientFailures.length === 0) {
        try {
          await client.updater().refresh();
          seenTs.push(client.cachedVersions().timestampVersion);
        } catch (err) {
          clientFailures.push(`${(err as Error).constructor.name}: ${(err as Error).message}`);
        }
      }
    })();
    const plainPages = ['simple/index.html', 'simple/common/index.html'];
    const plainFailures: string[] = [];
    let plainReads = 0;
    const plainLoop = (async () => {
      const existed = new Set<string>();
      while (!loadDone) {
        for (const p of plainPages) {
          const res = await fetch(server.url + p);
          const body = await res.text();
          plainReads++;
          if (res.status === 200 && body.includes('<a ')) existed.add(p);
          else if (existed.has(p)) plainFailures.push(`${p}: HTTP ${res.status}, ${body.length} bytes`);
        }
      }
    })();
    const verifyRuns: KillableRun[] = [];
    const verifyLoop = (async () => {
      while (!loadDone) verifyRuns.push(await runRepoKillable(['verify', repo]));
    })();

    // The load: 20 writers at once, and bump --force / bump back to back until they are all done.
    const t0 = performance.now();
    const writers = Promise.all(jobs.map((j) => runRepoKillable(['add', repo, '--json', ...j.files])));
    let writersDone = false;
    void writers.then(() => (writersDone = true));
    // Two cron-like loops: one forcing a re-sign of every online role, one plain (re-signs what is due).
    const bumps: { force: boolean; run: KillableRun }[] = [];
    const bumpLoop = async (force: boolean) => {
      while (!writersDone) bumps.push({ force, run: await runRepoKillable(['bump', repo, '--json', ...(force ? ['--force'] : [])]) });
    };
    const loops = Promise.all([bumpLoop(true), bumpLoop(false)]);
    const results = await writers;
    await loops;
    const loadMs = performance.now() - t0;
    loadDone = true;
    await Promise.all([clientLoop, plainLoop, verifyLoop]);

    // Every run exited 0.
    results.forEach((r, i) => expect(r.code, ctx(`writer ${i} (${jobs[i].kind}) failed:\n${r.stderr}\n${r.stdout}`)).to.equal(0));
    for (const b of bumps) expect(b.run.code, ctx(`bump${b.force ? ' --force' : ''} failed:\n${b.run.stderr}`)).to.equal(0);
    for (const v of verifyRuns) expect(v.code, ctx(`verify during the load failed:\n${v.stdout}\n${v.stderr}`)).to.equal(0);
    expect(clientFailures, ctx('a tuf-js client refresh failed during the load')).to.deep.equal([]);
    expect(plainFailures, ctx('a plain-HTTP reader saw a published page disappear')).to.deep.equal([]);
    expect(seenTs.length, 'the client refreshed during the load').to.be.greaterThan(0);
    for (let i = 1; i < seenTs.length; i++) expect(seenTs[i], ctx('the client never goes back')).to.be.at.least(seenTs[i - 1]);

    // What each writer reported, against the metadata and the files under site/.
    const outs = results.map((r) => JSON.parse(r.stdout) as AddJson);
    const expected = new Map<string, string>();
    outs.forEach((o, i) => {
      for (const f of o.files) expected.set(f.targetPath, f.sha256);
      for (const file of jobs[i].files) {
        const reported = o.files.find((f) => f.targetPath.endsWith('/' + path.basename(file)));
        expect(reported?.sha256, ctx(`writer ${i} reports ${path.basename(file)} with its sha256`)).to.equal(sha256File(file));
      }
      if (jobs[i].kind === 'noop') {
        expect(o.commit.noop, ctx(`writer ${i} only re-added published files: a no-op`)).to.equal(true);
        expect(o.files.every((f) => f.status === 'unchanged')).to.equal(true);
      }
      if (jobs[i].kind === 'new') expect(o.commit.noop, ctx(`writer ${i} added new files`)).to.equal(false);
    });
    const twins = outs.filter((_, i) => jobs[i].kind === 'twin').map((o) => o.files.find((f) => f.targetPath === 'packages/twin/twin-1.0-py3-none-any.whl')!.status);
    expect(twins.sort(), ctx('the same new wheel from two writers: published once, found published once')).to.deep.equal(['added', 'unchanged']);
    expect(checkPublished(repo, expected), ctx('every reported file is published')).to.deep.equal([]);
    const commonPage = fs.readFileSync(path.join(repo, 'site', 'simple', 'common', 'index.html'), 'utf8');
    for (let i = 0; i < 14; i++) expect(commonPage, ctx(`the shared page lists common 2.${i}`)).to.include(`common-2.${i}-py3-none-any.whl`);

    // Versions: every publishing run got its own timestamp version; the journal closes exactly
    // 1..N, each transaction prepared before it is closed; every snapshot version exists.
    const published = [...outs.map((o) => o.commit), ...bumps.map((b) => (JSON.parse(b.run.stdout) as BumpJson).commit)].filter((c) => !c.noop);
    const tsVersions = published.map((c) => c.timestampVersion).sort((a, b) => a - b);
    expect(new Set(tsVersions).size, ctx(`two runs published the same timestamp version: ${tsVersions.join(',')}`)).to.equal(tsVersions.length);
    const snapVersions = published.map((c) => c.snapshotVersion);
    expect(new Set(snapVersions).size, ctx('two runs published the same snapshot version')).to.equal(snapVersions.length);
    const lines = journalLines(repo);
    const closed = lines.filter((l) => l.state === 'done').map((l) => l.timestampVersion);
    const final = readPublished(repo);
    expect(closed, ctx('journal: closed transactions are 1..N in order')).to.deep.equal(Array.from({ length: final.timestampVersion }, (_, i) => i + 1));
    expect(lines.some((l) => l.command === 'abandoned'), 'no transaction abandoned').to.equal(false);
    for (const l of lines.filter((x) => x.state === 'prepared')) {
      const i = lines.indexOf(l);
      expect(lines[i + 1]?.txn, ctx(`transaction ${l.txn} is closed right after it is prepared`)).to.equal(l.txn);
    }
    // init + the add before the load + every publishing run of the load.
    expect(final.timestampVersion, ctx('one timestamp version per publishing run')).to.equal(2 + published.length);
    for (let v = 1; v <= final.snapshotVersion; v++) expect(fs.existsSync(path.join(repo, 'site', 'metadata', `${v}.snapshot.json`)), `${v}.snapshot.json`).to.equal(true);

    // Nothing left behind, and the repository verifies.
    expect(leftovers(repo), 'no lock, takeover marker, staging or temporary file left').to.deep.equal([]);
    const v = await tufpipRepo(['verify', repo]);
    expect(v.code, `final verify:\n${v.stdout}\n${v.stderr}`).to.equal(0);

    const ms = results.map((r) => r.ms);
    console.log(
      `      repo faults: ${WRITERS} concurrent writers held (${published.length} publishing runs: ${outs.filter((o) => !o.commit.noop).length} adds, ` +
        `${bumps.filter((b) => !JSON.parse(b.run.stdout).commit.noop).length} bumps; ${bumps.length} bump runs, ${verifyRuns.length} verify runs, ` +
        `${seenTs.length} client refreshes, ${plainReads} plain page reads); load ${(loadMs / 1000).toFixed(1)} s, ` +
        `writer wall time median ${(median(ms) / 1000).toFixed(1)} s, max ${(Math.max(...ms) / 1000).toFixed(1)} s; seed ${SEED}`,
    );
  });
});
