// `tufpip-repo verify` through the storage seam: it runs tuf-js's Updater over the storage reader
// (not over file: URLs) and lists the whole public area through Storage.list, reporting anything
// private found there: key material (by name or PEM armour) and the repository's private state
// (config, journal, withdrawn record, caches, lock, pending proposals). The real CLI.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { tufpipRepo } from './helpers/cli.js';
import { copyRepo, expectOk, makeRepo, type TestRepo } from './helpers/repo.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';

const snapAll = (dir: string) => snapshotTree(dir);

describe('seam: verify reads the public area only through the storage seam', function () {
  this.timeout(180_000);
  let repo: TestRepo;
  before(async () => {
    repo = await makeRepo({ wheels: [{ name: 'alpha', version: '1.0' }, { name: 'beta', version: '2.0' }] });
    expectOk(await tufpipRepo(['remove', repo.dir, 'beta']), 'remove (writes the withdrawn record)');
  });

  it('the honest repository passes: its private state stays beside the public area', async () => {
    for (const f of ['config.json', 'journal', 'retired-files']) expect(fs.existsSync(path.join(repo.dir, f)), f).to.equal(true);
    const r = await tufpipRepo(['verify', repo.dir, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[]; filesChecked: number };
    expect(report.ok).to.equal(true);
    expect(report.problems).to.deep.equal([]);
    expect(report.filesChecked).to.be.greaterThan(0);
  });

  const cases: Array<{ name: string; plant: (dir: string) => void; want: RegExp }> = [
    { name: 'config.json in the public area', plant: (d) => fs.copyFileSync(path.join(d, 'config.json'), path.join(d, 'site', 'config.json')), want: /\[private\] private state in the public area: .*site\/config\.json \(the repository configuration\)/ },
    { name: 'the journal under metadata/', plant: (d) => fs.copyFileSync(path.join(d, 'journal'), path.join(d, 'site', 'metadata', 'journal')), want: /\[private\] private state in the public area: .*site\/metadata\/journal \(the transaction journal\)/ },
    { name: 'the withdrawn record under packages/', plant: (d) => fs.copyFileSync(path.join(d, 'retired-files'), path.join(d, 'site', 'packages', 'retired-files')), want: /\[private\] .*site\/packages\/retired-files \(the record of withdrawn files\)/ },
    {
      name: 'pending proposals copied to the top of the public area',
      plant: (d) => {
        fs.mkdirSync(path.join(d, 'site', 'pending'));
        fs.writeFileSync(path.join(d, 'site', 'pending', 'root.json'), '{}');
      },
      want: /\[private\] .*site\/pending\/root\.json \(private state \(pending\/\)\)/,
    },
    { name: 'a key named like one', plant: (d) => fs.writeFileSync(path.join(d, 'site', 'packages', 'alpha', 'deploy.key'), 'not even PEM'), want: /\[secret\] private key material in the public area: .*deploy\.key \(named like a private key\)/ },
    { name: 'a PEM key under an innocent name', plant: (d) => fs.copyFileSync(path.join(d, 'keys', 'online.pem'), path.join(d, 'site', 'simple', 'alpha', 'notes.txt')), want: /\[secret\] private key material in the public area: .*site\/simple\/alpha\/notes\.txt \(holds a PEM private key\)/ },
  ];
  for (const c of cases) {
    it(`fires on ${c.name}, changing nothing`, async () => {
      const dir = copyRepo(repo.dir);
      c.plant(dir);
      const before = snapAll(dir);
      const r = await tufpipRepo(['verify', dir]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/verify found 1 problem:/);
      expect(r.stderr).to.match(c.want);
      // Nothing secret is printed: only where it is.
      expect(r.stderr + r.stdout).to.not.match(/BEGIN [A-Z ]*PRIVATE KEY/);
      expect(diffTrees(before, snapAll(dir))).to.deep.equal([]);
    });
  }
});
