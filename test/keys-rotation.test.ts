// Issue 5 "Tested": root key rotations as a scenario table, in the style of python-tuf's
// tests/test_updater_key_rotations.py (same cases, same notation: each version lists its root keys
// by index into a key pool, its threshold, and the keys that sign it). Every case runs twice:
//   - through the ceremony commands (propose, sign per key, publish): valid chains are published
//     and a tuf-js client that trusted root v1 updates through the whole chain; an invalid link is
//     refused by `publish` (exit 1, nothing in the repository changes);
//   - crafted straight into site/metadata (no publish): the client itself follows valid chains and
//     refuses the invalid link, keeping the last root it could verify (TUF spec 5.3.4).
// Plus the links the table cannot express: a skipped version (TUF spec 5.3.5).
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { RootSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { sha256Hex } from '../metadata/hash.js';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';
import { CachedClient, craftRoot, errorName, initWithRootKeys, keyPool, pendingFile, readRoot, type PoolKey } from './helpers/ceremony.js';

interface MdVersion {
  keys: number[];
  threshold: number;
  sigs: number[];
  /** This link is invalid: publish refuses it, clients refuse it. */
  fails?: true;
}

const V = (keys: number[], threshold: number, sigs: number[], fails?: true): MdVersion => ({ keys, threshold, sigs, fails });

// python-tuf tests/test_updater_key_rotations.py root_rotation_cases, adapted: version 1 is made by
// `tufpip-repo init`, which signs it with all of its root keys.
const cases: Record<string, MdVersion[]> = {
  '1-of-1 key rotation': [V([1], 1, [1]), V([2], 1, [2, 1]), V([2], 1, [2])],
  '1-of-1 key rotation, unused signatures': [V([1], 1, [1]), V([2], 1, [3, 2, 1, 4]), V([2], 1, [3, 2, 4])],
  '1-of-1 key rotation fail: not signed with old key': [V([1], 1, [1]), V([2], 1, [2, 3, 4], true)],
  '1-of-1 key rotation fail: not signed with new key': [V([1], 1, [1]), V([2], 1, [1, 3, 4], true)],
  '3-of-5, sign with different keycombos': [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([0, 1, 2, 3, 4], 3, [0, 4, 1]), V([0, 1, 2, 3, 4], 3, [0, 1, 3]), V([0, 1, 2, 3, 4], 3, [0, 1, 3])],
  '3-of-5, one key rotated': [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([0, 1, 3, 4, 5], 3, [0, 4, 1])],
  '3-of-5, one key rotate fails: not signed with 3 new keys': [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([0, 1, 3, 4, 5], 3, [0, 2, 4], true)],
  '3-of-5, one key rotate fails: not signed with 3 old keys': [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([0, 1, 3, 4, 5], 3, [0, 4, 5], true)],
  '3-of-5, one key rotated, with intermediate step': [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([0, 1, 3, 4, 5], 3, [0, 2, 4, 5]), V([0, 1, 3, 4, 5], 3, [0, 4, 5])],
  '3-of-5, all keys rotated, with intermediate step': [V([0, 1, 2, 3, 4], 3, [0, 2, 4]), V([5, 6, 7, 8, 9], 3, [0, 2, 4, 5, 6, 7]), V([5, 6, 7, 8, 9], 3, [5, 6, 7])],
  '1-of-3 threshold increase to 2-of-3': [V([1, 2, 3], 1, [1]), V([1, 2, 3], 2, [1, 2])],
  '1-of-3 threshold bump to 2-of-3 fails: new threshold not reached': [V([1, 2, 3], 1, [1]), V([1, 2, 3], 2, [2], true)],
  '2-of-3 threshold decrease to 1-of-3': [V([1, 2, 3], 2, [1, 2]), V([1, 2, 3], 1, [1, 2]), V([1, 2, 3], 1, [1])],
  '2-of-3 threshold decr. to 1-of-3 fails: old threshold not reached': [V([1, 2, 3], 2, [1, 2]), V([1, 2, 3], 1, [1], true)],
  '1-of-2 threshold increase to 2-of-2': [V([1], 1, [1]), V([1, 2], 2, [1, 2])],
  'several rotations in a row: add, raise, replace two, lower': [
    V([0, 1, 2], 2, [0, 1, 2]),
    V([0, 1, 2, 3], 2, [0, 1, 3]),
    V([0, 1, 2, 3], 3, [1, 2, 3]),
    V([0, 3, 4, 5], 3, [0, 1, 3, 4, 5]),
    V([0, 3, 4, 5], 2, [4, 5, 3]),
    V([3, 4, 5], 2, [3, 5]),
  ],
};

describe('keys: root rotation scenarios (python-tuf test_updater_key_rotations style)', function () {
  this.timeout(120_000);
  let pool: PoolKey[];
  before(async () => {
    pool = await keyPool(10);
  });

  describe('through propose / sign / publish, followed by a client that trusted root v1', () => {
    for (const [name, versions] of Object.entries(cases)) {
      it(name, async () => {
        const repo = await initWithRootKeys(versions[0].keys.map((i) => pool[i]), versions[0].threshold);
        const client = new CachedClient(repo, repo.root1);
        expect(await client.refresh()).to.equal(undefined);
        let published = 1;
        for (let n = 1; n < versions.length; n++) {
          const prev = versions[n - 1];
          const v = versions[n];
          const args = ['propose', repo.dir, '--role', 'root', '--threshold', String(v.threshold)];
          for (const i of v.keys.filter((k) => !prev.keys.includes(k))) args.push('--add-key', pool[i].pub);
          for (const i of prev.keys.filter((k) => !v.keys.includes(k))) args.push('--remove-key', pool[i].keyid);
          if (v.threshold === 1) args.push('--allow-single-root-key');
          expectOk(await tufpipRepo(args), `propose root v${n + 1}`);
          const file = pendingFile(repo, 'root');
          for (const i of v.sigs) {
            const before = fs.readFileSync(file);
            const r = await tufpipRepo(['sign', file, '--key', pool[i].pem]);
            if (prev.keys.includes(i) || v.keys.includes(i)) {
              expectOk(r, `sign with k${i}`);
            } else {
              // A key of neither root cannot add a useless signature; the file is left as it was.
              expect(r.code, r.stderr).to.equal(1);
              expect(r.stderr).to.match(/cannot sign root v\d+: the keys that can are/);
              expect(fs.readFileSync(file).equals(before)).to.equal(true);
            }
          }
          const tree = snapshotTree(repo.dir);
          const r = await tufpipRepo(['publish', repo.dir]);
          if (v.fails) {
            expect(r.code, `publish of an invalid root link must fail:\n${r.stdout}`).to.equal(1);
            expect(r.stderr).to.match(/nothing was published/);
            expect(r.stderr).to.match(/TUF spec 5\.3\.4: root v\d+ needs \d+ signatures? from the \d+ keys? of (the trusted root v\d+|its own root role)/);
            expect(diffTrees(tree, snapshotTree(repo.dir)), 'a refused publish changes nothing').to.deep.equal([]);
            break;
          }
          expectOk(r, `publish root v${n + 1}`);
          published = n + 1;
          expect(fs.existsSync(file), 'the published pending file is removed').to.equal(false);
        }
        // A client that trusted root v1 (and cached metadata under it) follows the chain.
        expect(await client.refresh()).to.equal(undefined);
        expect(client.trustedRootVersion()).to.equal(published);
        expect(client.trustedRootBytes().equals(fs.readFileSync(path.join(repo.metadataDir, `${published}.root.json`)))).to.equal(true);
        // So does a fresh client given only 1.root.json (and the repository verifies end to end).
        const fresh = new CachedClient(repo, repo.root1);
        expect(await fresh.refresh()).to.equal(undefined);
        expect(fresh.trustedRootVersion()).to.equal(published);
        expectOk(await tufpipRepo(['verify', repo.dir]), 'verify');
      });
    }
  });

  describe('crafted into site/metadata without publish: the client decides alone', () => {
    for (const [name, versions] of Object.entries(cases)) {
      it(name, async () => {
        const repo = await initWithRootKeys(versions[0].keys.map((i) => pool[i]), versions[0].threshold);
        const client = new CachedClient(repo, repo.root1);
        let prev = readRoot(repo, 1);
        const written: Buffer[] = [fs.readFileSync(repo.root1)];
        for (let n = 1; n < versions.length; n++) {
          const v = versions[n];
          const bytes = craftRoot(repo, prev, { rootKeys: v.keys.map((i) => pool[i]), threshold: v.threshold, signers: v.sigs.map((i) => pool[i]) });
          written.push(bytes);
          prev = (JSON.parse(bytes.toString('utf8')) as { signed: RootSigned }).signed;
        }
        const err = await client.refresh();
        const last = versions[versions.length - 1];
        if (last.fails) {
          // TUF spec 5.3.4: refused; the client keeps the root before the bad one.
          expect(errorName(err), String(err)).to.equal('UnsignedMetadataError');
          expect(client.trustedRootBytes().equals(written[written.length - 2])).to.equal(true);
        } else {
          expect(err, String(err)).to.equal(undefined);
          expect(client.trustedRootBytes().equals(written[written.length - 1])).to.equal(true);
        }
      });
    }
  });

  describe('a skipped version (TUF spec 5.3.5)', () => {
    it('publish refuses a pending root whose version is not the published one + 1; nothing changes', async () => {
      const repo = await initWithRootKeys([pool[0], pool[1], pool[2]], 2);
      expectOk(await tufpipRepo(['propose', repo.dir, '--role', 'root', '--add-key', pool[3].pub]), 'propose');
      // A proposer (buggy or hostile) edits the version and the recorded hash: signers cannot tell
      // from the file alone, but publish checks the chain against what is published.
      const file = pendingFile(repo, 'root');
      const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { signed: RootSigned; pending: { signedSha256: string } };
      p.signed.version = 3;
      p.pending.signedSha256 = sha256Hex(canonicalize(p.signed));
      fs.writeFileSync(file, JSON.stringify(p, null, 2));
      for (const i of [0, 1, 3]) expectOk(await tufpipRepo(['sign', file, '--key', pool[i].pem]), `sign k${i}`);
      const tree = snapshotTree(repo.dir);
      const r = await tufpipRepo(['publish', repo.dir]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/TUF spec 5\.3\.5: root v3 cannot follow root v1/);
      expect(diffTrees(tree, snapshotTree(repo.dir))).to.deep.equal([]);
      expect(fs.existsSync(path.join(repo.metadataDir, '3.root.json'))).to.equal(false);
    });

    it('a client refuses a root file N.root.json that holds another version, and keeps root N-1', async () => {
      const repo = await initWithRootKeys([pool[0], pool[1], pool[2]], 2);
      const v1 = readRoot(repo, 1);
      const two = craftRoot(repo, v1, { rootKeys: [pool[0], pool[1], pool[2]], threshold: 2, signers: [pool[0], pool[1]] });
      const v2 = (JSON.parse(two.toString('utf8')) as { signed: RootSigned }).signed;
      // Version 4 served as 3.root.json: properly signed, but it skips version 3.
      craftRoot(repo, v2, { version: 4, fileVersion: 3, rootKeys: [pool[0], pool[1], pool[2]], threshold: 2, signers: [pool[0], pool[1]] });
      const client = new CachedClient(repo, repo.root1);
      const err = await client.refresh();
      expect(errorName(err)).to.equal('BadVersionError');
      expect(String((err as Error).message)).to.match(/Expected version 3, got 4/);
      expect(client.trustedRootBytes().equals(two)).to.equal(true);
    });
  });
});
