// `gc` through the storage seam: it removes an object only when no published snapshot names it
// AND Storage.list reports it older than --keep (clients mid-update still use young ones). Ages
// are set on the real files (the local-disk backend's `modified` is their mtime).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk, makeRepo } from './helpers/repo.js';
import { readPublished } from './helpers/tuf-client.js';
import { writeWheel } from './helpers/wheels.js';
import { tmpDir } from './helpers/tmp.js';

const DAY = 86400_000;

function age(file: string, days: number): void {
  const t = new Date(Date.now() - days * DAY);
  fs.utimesSync(file, t, t);
}

describe('seam: gc removes only unreferenced objects older than --keep (Storage.list modified times)', function () {
  this.timeout(120_000);

  it('old and unreferenced: removed; young and unreferenced: kept (counted); referenced, however old: kept', async () => {
    const repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }, { name: 'beta', version: '1.0' }] });
    const dir = repo.dir;
    const beta = readPublished(dir).targets.get('packages/beta/beta-1.0-py3-none-any.whl')!;
    expectOk(await tufpipRepo(['remove', dir, 'beta']), 'remove beta');
    expectOk(await tufpipRepo(['add', dir, await writeWheel(tmpDir('tufpip-wheels-'), { name: 'gamma', version: '1.0' })]), 'add gamma');
    const site = path.join(dir, 'site');
    const md = path.join(site, 'metadata');
    const pub = readPublished(dir);
    const referenced = new Set(['timestamp.json', `${pub.snapshotVersion}.snapshot.json`, ...[...pub.roles].map(([r, v]) => `${v}.${r}.json`)]);
    const unreferenced = fs.readdirSync(md).filter((f) => !referenced.has(f) && !/^\d+\.root\.json$/.test(f));
    expect(unreferenced.length, 'earlier snapshots and roles exist').to.be.greaterThan(2);
    // Everything is 10 days old, except two unreferenced metadata files and beta's hash-named copy.
    for (const f of fs.readdirSync(md)) age(path.join(md, f), 10);
    for (const top of ['packages', 'simple']) for (const p of fs.readdirSync(path.join(site, top), { recursive: true }) as string[]) age(path.join(site, top, p), 10);
    const young = unreferenced.slice(0, 2);
    for (const f of young) age(path.join(md, f), 0.5);
    const betaHashed = `packages/beta/${beta.sha256}.beta-1.0-py3-none-any.whl`;
    expect(fs.existsSync(path.join(site, betaHashed)), 'a withdrawn file keeps its hash-named copy until gc').to.equal(true);
    age(path.join(site, betaHashed), 0.5);

    const r = JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--keep', '1d', '--json'])).stdout) as { removed: string[]; kept: number };
    const removed = new Set(r.removed);
    for (const f of unreferenced) expect(removed.has(`metadata/${f}`), f).to.equal(!young.includes(f));
    expect(removed.has(betaHashed), 'young withdrawn copy kept').to.equal(false);
    expect(r.kept, 'the young unreferenced objects are counted as kept').to.equal(young.length + 1);
    for (const f of referenced) expect(fs.existsSync(path.join(md, f)), `${f} (referenced, 10 days old) survives`).to.equal(true);
    for (const [p, t] of pub.targets) {
      const i = p.lastIndexOf('/');
      expect(fs.existsSync(path.join(site, `${p.slice(0, i)}/${t.sha256}.${p.slice(i + 1)}`)), p).to.equal(true);
    }
    expectOk(await tufpipRepo(['verify', dir]), 'verify after gc');

    // Once they are old enough, the next gc takes them.
    for (const f of young) age(path.join(md, f), 2);
    age(path.join(site, betaHashed), 2);
    const again = JSON.parse(expectOk(await tufpipRepo(['gc', dir, '--keep', '1d', '--json'])).stdout) as { removed: string[]; kept: number };
    expect(again.removed.sort()).to.deep.equal([...young.map((f) => `metadata/${f}`), betaHashed].sort());
    expect(again.kept).to.equal(0);
  });
});
