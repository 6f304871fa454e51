// Offline-signed changes (propose, sign, pending --merge, publish) on both storage backends, with
// the same assertions: the proposal is a private record of the repository (DIR/pending/ on local
// disk, the private prefix on S3), key holders sign copies of it anywhere, the copies' signatures
// are merged back, and `publish` publishes only what meets every threshold (TUF spec 5.3.4 for
// root, 5.6.3 for delegated roles) and refuses otherwise with nothing published. What clients get
// is checked with tuf-js's Updater over HTTP (local: `tufpip-repo serve`; S3: the bucket's public
// URL), trusting root v1. (keys-ceremony.test.ts covers the file-level details of `sign` and
// `pending` on local disk: air-gapped signing, encrypted keys, refusals of edited files.)
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { keyPool, type PoolKey } from './helpers/ceremony.js';
import { s3Gateway } from './helpers/s3-gateway.js';
import { TufClient } from './helpers/tuf-client.js';
import { tmpDir } from './helpers/tmp.js';
import { sha256 } from './helpers/hash.js';
import { BACKENDS, makeBackendRepo, publishedRole, publishedSnapshot, publishedTimestamp, startIndexReader, useBackends, type BackendKind, type BackendRepo, type IndexReader } from './helpers/backends.js';

const ALPHA = 'packages/alpha/alpha-1.0-py3-none-any.whl';

useBackends();

/** A repository whose root keys are pool keys (root-1..n, threshold t); the other keys in `keysDir`. */
async function ceremonyRepo(kind: BackendKind, rootKeys: PoolKey[], threshold: number): Promise<{ repo: BackendRepo; key: (name: string) => string }> {
  const keysDir = path.join(tmpDir('tufpip-ceremony-'), 'offline-keys');
  fs.mkdirSync(keysDir, { mode: 0o700 });
  rootKeys.forEach((k, i) => fs.copyFileSync(k.pem, path.join(keysDir, `root-${i + 1}.pem`)));
  const repo = await makeBackendRepo(kind, {
    bins: 2,
    wheels: [{ name: 'alpha', version: '1.0' }],
    initArgs: ['--keys-dir', keysDir, '--root-keys', String(rootKeys.length), '--root-threshold', String(threshold)],
  });
  return { repo, key: (name) => path.join(keysDir, `${name}.pem`) };
}

/** A key holder's copy of the pending proposal of ROLE, read where the repository keeps it. */
async function pendingCopy(repo: BackendRepo, role: string): Promise<string> {
  const to = path.join(tmpDir('tufpip-holder-'), `${role}.json`);
  if (repo.kind === 'local') {
    fs.copyFileSync(path.join(repo.dir, 'pending', `${role}.json`), to);
  } else {
    const { client } = await s3Gateway();
    const obj = await client.send(new GetObjectCommand({ Bucket: repo.s3!.bucket, Key: `index-private/records/pending/${role}.json` }));
    fs.writeFileSync(to, await obj.Body!.transformToByteArray());
  }
  return to;
}

/** Holders sign copies (one key each), and the operator merges their signatures back. */
async function signAndMerge(repo: BackendRepo, role: string, keys: string[]): Promise<void> {
  const copies: string[] = [];
  for (const k of keys) {
    const copy = await pendingCopy(repo, role);
    expectOk(await tufpipRepo(['sign', copy, '--key', k]), `sign ${role}`);
    copies.push(copy);
  }
  expectOk(await repo.run(['pending', repo.dir, '--merge', ...copies]), `pending --merge (${role})`);
}

/** `publish` refused with WHY, and nothing published. */
async function expectPublishRefused(repo: BackendRepo, why: RegExp): Promise<void> {
  const before = await publishedTimestamp(repo);
  const r = await repo.run(['publish', repo.dir]);
  expect(r.code, r.stdout + r.stderr).to.equal(1);
  expect(r.stderr).to.match(why);
  expect((await publishedTimestamp(repo)).equals(before), 'nothing published').to.equal(true);
}

for (const kind of BACKENDS) {
  describe(`keys (${kind}): offline-signed changes, propose / sign / pending --merge / publish`, function () {
    this.timeout(300_000);
    let pool: PoolKey[];
    let repo: BackendRepo;
    let key: (name: string) => string;
    let reader: IndexReader;

    before(async function () {
      pool = await keyPool(6, `${kind}k`);
      ({ repo, key } = await ceremonyRepo(kind, [pool[0], pool[1], pool[2]], 2));
      reader = await startIndexReader(repo);
    });

    after(async () => {
      if (reader) await reader.stop();
    });

    it('a new root is published once a threshold of the trusted root AND of the new root signed; a client that trusted root v1 follows', async () => {
      const p = JSON.parse(expectOk(await repo.run(['propose', repo.dir, '--role', 'root', '--add-key', pool[3].pub, '--remove-key', pool[2].keyid.slice(0, 10), '--json']), 'propose').stdout) as { file: string; version: number };
      expect(p.version).to.equal(2);
      expect(p.file).to.equal(kind === 'local' ? path.join(repo.dir, 'pending', 'root.json') : `s3://${repo.s3!.bucket}/index-private/records/pending/root.json`);
      // The proposal is private: never in the served tree.
      expect((await repo.list('')).filter((k) => /pending|records/.test(k))).to.deep.equal([]);
      await signAndMerge(repo, 'root', [pool[0].pem]);
      await expectPublishRefused(repo, /TUF spec 5\.3\.4: root v2 needs 2 signatures from the 3 keys of the trusted root v1 .*has 1/);
      expect(await repo.read('metadata/2.root.json')).to.equal(undefined);
      await signAndMerge(repo, 'root', [pool[1].pem]);
      const r = expectOk(await repo.run(['publish', repo.dir]), 'publish');
      expect(r.stdout).to.match(/published root v2/);
      const root2 = JSON.parse((await repo.read('metadata/2.root.json'))!.toString('utf8')) as { signatures: { keyid: string }[]; signed: { roles: { root: { keyids: string[] } } } };
      expect(root2.signatures.map((s) => s.keyid).sort()).to.deep.equal([pool[0].keyid, pool[1].keyid].sort());
      expect(root2.signed.roles.root.keyids.sort()).to.deep.equal([pool[0].keyid, pool[1].keyid, pool[3].keyid].sort());
      const pending = JSON.parse(expectOk(await repo.run(['pending', repo.dir, '--json'])).stdout) as { roles: unknown[] };
      expect(pending.roles).to.deep.equal([]);

      const client = new TufClient(reader.url, repo.root1);
      const view = await client.view([ALPHA]);
      expect(view.missing).to.deep.equal([]);
      expect(view.resolved.has(ALPHA)).to.equal(true);
      const trusted = JSON.parse(fs.readFileSync(path.join(client.metadataDir, 'root.json'), 'utf8')) as { signed: { version: number } };
      expect(trusted.signed.version).to.equal(2);
      expectOk(await repo.run(['verify', repo.dir]), 'verify');
    });

    it('renewing an offline role: publish refuses it unsigned (nothing published), publishes it signed; clients get it', async () => {
      const before = (await publishedRole(repo, 'targets')).signed.version;
      expectOk(await repo.run(['propose', repo.dir, '--role', 'targets', '--expires', '365']), 'propose targets');
      await expectPublishRefused(repo, /nothing was published: no pending role is ready/);
      await signAndMerge(repo, 'targets', [key('targets')]);
      expect(expectOk(await repo.run(['publish', repo.dir]), 'publish').stdout).to.match(new RegExp(`published targets v${before + 1}`));
      expect((await publishedRole(repo, 'targets')).signed.version).to.equal(before + 1);
      const view = await new TufClient(reader.url, repo.root1).view([ALPHA]);
      expect(view.resolved.has(ALPHA)).to.equal(true);
      expectOk(await repo.run(['verify', repo.dir]), 'verify');
    });

    it('a proposal overtaken by another change of its role is stale: publish refuses it, nothing published', async () => {
      expectOk(await repo.run(['propose', repo.dir, '--role', 'claimed', '--expires', '300']), 'propose claimed');
      await signAndMerge(repo, 'claimed', [key('claimed')]);
      // Meanwhile a project is claimed: the next claimed version is published without this proposal.
      expectOk(await repo.run(['claim', repo.dir, 'beta', '--key', pool[4].pub, '--threshold', '1', '--offline-key', key('claimed')]), 'claim');
      const list = JSON.parse(expectOk(await repo.run(['pending', repo.dir, '--json'])).stdout) as { roles: { state: string; reasons: string[] }[] };
      expect(list.roles.map((r) => r.state)).to.deep.equal(['stale']);
      await expectPublishRefused(repo, /claimed v\d+ \(stale\)/);
      expectOk(await repo.run(['pending', repo.dir, '--discard', 'claimed']), 'discard');
    });

    it('a maintainer key of a PEP 480 project is replaced through claimed (offline claimed key)', async () => {
      expectOk(await repo.run(['claim', repo.dir, 'gamma', '--key', pool[3].pub, '--key', pool[4].pub, '--threshold', '2', '--offline-key', key('claimed')]), 'claim');
      expectOk(await repo.run(['propose', repo.dir, '--role', 'claimed', '--project', 'Gamma', '--remove-key', pool[4].pub, '--add-key', pool[5].pub]), 'propose');
      await expectPublishRefused(repo, /no pending role is ready/);
      await signAndMerge(repo, 'claimed', [key('claimed')]);
      expectOk(await repo.run(['publish', repo.dir]), 'publish');
      const claimed = (await publishedRole(repo, 'claimed')).signed;
      const d = claimed.delegations!.roles.find((x) => x.name === 'project-gamma')!;
      expect(d.keyids).to.deep.equal([pool[3].keyid, pool[5].keyid].sort());
      expect(d.threshold).to.equal(2);
      expect(claimed.delegations!.roles.find((x) => x.name === 'project-beta')!.keyids).to.deep.equal([pool[4].keyid]);
      expectOk(await repo.run(['verify', repo.dir]), 'verify');
    });

    it('the online key replaced (root, targets, bins): refused until every online role would trust one key, then every online role is re-signed; clients follow, bump keeps working', async () => {
      const wheel = fs.readFileSync(path.join(repo.wheelsDir, 'alpha-1.0-py3-none-any.whl'));
      const cached = new TufClient(reader.url, repo.root1);
      expect((await cached.view([ALPHA])).resolved.get(ALPHA)!.sha256).to.equal(sha256(wheel));
      const newOnline = ['--online-key', `file:${pool[5].pem}`];
      expectOk(await repo.run(['propose', repo.dir, '--role', 'root', '--role-key', `online=${pool[5].pub}`]), 'propose root');
      await signAndMerge(repo, 'root', [pool[0].pem, pool[1].pem]);
      expectOk(await repo.run(['propose', repo.dir, '--role', 'targets', '--role-key', `online=${pool[5].pub}`]), 'propose targets');
      await signAndMerge(repo, 'targets', [key('targets')]);
      // bins still delegates to the old online key: no single online key for every online role.
      const before = await publishedTimestamp(repo);
      const early = await repo.run(['publish', repo.dir, ...newOnline]);
      expect(early.code, early.stdout + early.stderr).to.equal(1);
      expect(early.stderr).to.match(/nothing was published/);
      expect(early.stderr).to.match(/no single online key would be trusted for timestamp, snapshot, recently-claimed and every bin/);
      expect((await publishedTimestamp(repo)).equals(before), 'nothing published').to.equal(true);
      expectOk(await repo.run(['propose', repo.dir, '--role', 'bins', '--role-key', `online=${pool[5].pub}`]), 'propose bins');
      await signAndMerge(repo, 'bins', [key('bins')]);
      const done = expectOk(await repo.run(['publish', repo.dir, ...newOnline]), 'publish');
      for (const role of ['root', 'targets', 'bins']) expect(done.stdout).to.match(new RegExp(`published ${role} v\\d+`));
      // Every online role of the published state is signed by the new key alone.
      const ts = JSON.parse((await publishedTimestamp(repo)).toString('utf8')) as { signatures: { keyid: string }[] };
      const snap = await publishedSnapshot(repo);
      const online = Object.keys(snap.signed.meta).map((f) => f.slice(0, -5)).filter((r) => r === 'recently-claimed' || r.startsWith('bin-'));
      expect(online.length).to.be.greaterThan(2);
      for (const env of [ts, snap, ...(await Promise.all(online.map((r) => publishedRole(repo, r))))]) {
        expect(env.signatures.map((x) => x.keyid)).to.deep.equal([pool[5].keyid]);
      }
      // The client that cached metadata under the old key follows; so does a fresh one.
      expect((await cached.view([ALPHA])).resolved.get(ALPHA)!.sha256).to.equal(sha256(wheel));
      expect((await new TufClient(reader.url, repo.root1).view([ALPHA])).resolved.get(ALPHA)!.sha256).to.equal(sha256(wheel));
      expectOk(await repo.run(['verify', repo.dir]), 'verify');
      // The cron job signs with the online key config.json names now (S3: the private copy agrees).
      const config = JSON.parse(fs.readFileSync(path.join(repo.dir, 'config.json'), 'utf8')) as { onlineSigner: string };
      expect(path.resolve(repo.dir, config.onlineSigner.replace(/^file:/, ''))).to.equal(pool[5].pem);
      if (repo.kind === 's3') {
        const { client } = await s3Gateway();
        const copy = await client.send(new GetObjectCommand({ Bucket: repo.s3!.bucket, Key: 'index-private/config.json' }));
        expect((JSON.parse(await copy.Body!.transformToString()) as { onlineSigner: string }).onlineSigner).to.equal(config.onlineSigner);
      }
      expectOk(await repo.run(['bump', repo.dir, '--force']), 'bump --force');
      expect((await cached.view([ALPHA])).resolved.get(ALPHA)!.sha256).to.equal(sha256(wheel));
    });
  });
}
