// Issue 5, the signing workflow for offline roles: `propose` writes an unsigned pending file,
// `sign` adds one signature with nothing but the file and a key (the air-gapped step) and never
// changes the signed content, `pending` says which signatures are still needed (for root: the
// threshold of the trusted root AND of the new root, TUF spec 5.3.4), `publish` publishes only
// what is complete and consistent, and refuses otherwise with nothing changed. Renewing an
// offline role is the same flow with only --expires; `bump` warns until it is published.
// Every command is the real CLI; no output may contain private key material.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { RootSigned, TargetsSigned } from '../metadata/builders.js';
import { canonicalize } from '../metadata/canonical.js';
import { shortKeyId } from '../metadata/keys.js';
import { tufpipRepo, type RunOptions, type RunResult } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { tmpDir } from './helpers/tmp.js';
import { diffTrees, snapshotTree } from './helpers/tree.js';
import { writeWheel } from './helpers/wheels.js';
import { CachedClient, initWithRootKeys, keyPool, pendingFile, type CeremonyRepo, type PoolKey } from './helpers/ceremony.js';

const outputs: string[] = [];
async function cli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await tufpipRepo(args, opts);
  outputs.push(r.stdout + r.stderr);
  return r;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
interface PendingJson {
  signatures: { keyid: string; sig: string }[];
  signed: RootSigned | TargetsSigned;
  pending: { signedSha256: string; signers: { label: string; keyids: string[]; threshold: number }[] };
}

describe('keys: offline ceremonies (propose, sign, pending, publish)', function () {
  this.timeout(120_000);
  let pool: PoolKey[];
  let repo: CeremonyRepo;

  before(async () => {
    pool = await keyPool(6);
    repo = await initWithRootKeys([pool[0], pool[1], pool[2]], 2);
  });

  after(() => {
    // Never any private key material in what the commands print (PEM armour or key body).
    const bodies = pool.map((k) => fs.readFileSync(k.pem, 'utf8').split('\n')[1]);
    for (const text of outputs) {
      expect(text).to.not.match(/PRIVATE KEY/);
      for (const b of bodies) expect(text.includes(b)).to.equal(false);
    }
  });

  it('key files written by keygen are mode 0600', () => {
    for (const k of pool) expect(fs.statSync(k.pem).mode & 0o777, k.pem).to.equal(0o600);
  });

  it('sign works on a copy of the pending file elsewhere, with nothing but the file and the key, and never changes the signed content', async () => {
    const r = expectOk(await cli(['propose', repo.dir, '--role', 'root', '--add-key', pool[3].pub, '--remove-key', pool[2].keyid.slice(0, 10), '--threshold', '2', '--json']), 'propose');
    const proposed = JSON.parse(r.stdout) as { file: string; version: number; signedSha256: string; changes: string[] };
    expect(proposed.version).to.equal(2);
    expect(proposed.changes).to.include.members([`root: add key ${shortKeyId(pool[3].keyid)}`, `root: remove key ${shortKeyId(pool[2].keyid)}`]);
    const original = readJson<PendingJson>(proposed.file);
    expect(original.signatures).to.deep.equal([]);
    // For root, the file names the trusted root's keys and threshold too (TUF spec 5.3.4).
    expect(original.pending.signers.map((s) => [s.label, s.keyids.length, s.threshold])).to.deep.equal([
      ['root v1 keys (the trusted root)', 3, 2],
      ['root v2 keys (the new root)', 3, 2],
    ]);

    // The air-gapped machine: an empty folder with the file and one key, no repository, no HOME.
    const airgap = tmpDir('tufpip-airgap-');
    fs.copyFileSync(proposed.file, path.join(airgap, 'root.json'));
    fs.copyFileSync(pool[0].pem, path.join(airgap, 'my-key.pem'));
    const env = { PATH: process.env.PATH ?? '', HOME: airgap };
    const s = expectOk(await cli(['sign', 'root.json', '--key', 'my-key.pem', '--json'], { cwd: airgap, env }), 'air-gapped sign');
    const status = JSON.parse(s.stdout) as { added: boolean; signedSha256: string; complete: boolean; sets: { signedBy: string[]; met: boolean }[] };
    expect(status.added).to.equal(true);
    expect(status.signedSha256).to.equal(proposed.signedSha256);
    expect(status.complete).to.equal(false);
    const signed1 = readJson<PendingJson>(path.join(airgap, 'root.json'));
    expect(canonicalize(signed1.signed)).to.equal(canonicalize(original.signed));
    expect(signed1.pending).to.deep.equal(original.pending);
    expect(signed1.signatures.map((x) => x.keyid)).to.deep.equal([pool[0].keyid]);

    // Back on the repository machine; a second holder signs there. Earlier signatures stay.
    fs.copyFileSync(path.join(airgap, 'root.json'), proposed.file);
    expectOk(await cli(['sign', proposed.file, '--key', pool[1].pem]), 'sign 2');
    const signed2 = readJson<PendingJson>(proposed.file);
    expect(canonicalize(signed2.signed)).to.equal(canonicalize(original.signed));
    expect(signed2.signatures.slice(0, 1)).to.deep.equal(signed1.signatures);
    expect(signed2.signatures).to.have.length(2);

    // Signing again with a key that already signed changes nothing.
    const before = fs.readFileSync(proposed.file);
    const again = expectOk(await cli(['sign', proposed.file, '--key', pool[1].pem]), 'sign again');
    expect(again.stdout).to.match(/had already signed root v2: nothing changed/);
    expect(fs.readFileSync(proposed.file).equals(before)).to.equal(true);
  });

  it('pending shows, per threshold, who signed and who is missing: trusted root AND new root', async () => {
    const r = JSON.parse(expectOk(await cli(['pending', repo.dir, '--json']), 'pending').stdout) as {
      roles: { role: string; state: string; sets: { label: string; threshold: number; signedBy: string[]; missing: string[]; met: boolean }[]; reasons: string[] }[];
      publishable: string[];
    };
    expect(r.roles).to.have.length(1);
    const root = r.roles[0];
    expect(root.role).to.equal('root');
    // k0 and k1 signed: 2 of root v1's 3 keys (met); new root {k0, k1, k3} threshold 2 (met).
    expect(root.sets.map((s) => [s.label, s.met, s.signedBy.length])).to.deep.equal([
      ['root v1 keys (the trusted root)', true, 2],
      ['root v2 keys (the new root)', true, 2],
    ]);
    expect(root.sets[1].missing).to.deep.equal([pool[3].keyid]);
    expect(root.state).to.equal('ready');
    expect(r.publishable).to.deep.equal(['root']);
    // The file on its own (the air-gapped view) agrees.
    const f = JSON.parse(expectOk(await cli(['pending', pendingFile(repo, 'root'), '--json']), 'pending FILE').stdout) as { complete: boolean; sets: { met: boolean }[] };
    expect(f.complete).to.equal(true);
  });

  it('sign refuses a file whose content changed after it was proposed, or whose signatures no longer verify; the file is left as it was', async () => {
    const file = pendingFile(repo, 'root');
    const good = fs.readFileSync(file);
    const edited = readJson<PendingJson>(file);
    (edited.signed as RootSigned).roles.root.threshold = 1;
    fs.writeFileSync(file, JSON.stringify(edited));
    let bytes = fs.readFileSync(file);
    let r = await cli(['sign', file, '--key', pool[3].pem]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/signed content of root v2 was changed after it was proposed .*nothing was signed/);
    expect(fs.readFileSync(file).equals(bytes)).to.equal(true);

    // Even with the recorded hash updated, the earlier signatures no longer verify.
    const { sha256Hex } = await import('../metadata/hash.js');
    edited.pending.signedSha256 = sha256Hex(canonicalize(edited.signed));
    fs.writeFileSync(file, JSON.stringify(edited));
    bytes = fs.readFileSync(file);
    r = await cli(['sign', file, '--key', pool[3].pem]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/signature by key [0-9a-f]{8} does not verify over the content of root v2 .*nothing was signed/);
    expect(fs.readFileSync(file).equals(bytes)).to.equal(true);

    // A key that can sign neither root.
    fs.writeFileSync(file, good);
    r = await cli(['sign', file, '--key', pool[5].pem]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(new RegExp(`key ${shortKeyId(pool[5].keyid)} .* cannot sign root v2: the keys that can are root v1 keys`));
    expect(fs.readFileSync(file).equals(good)).to.equal(true);
  });

  it('an encrypted key signs with --passphrase-env, and is refused without it or with a wrong one', async () => {
    const dir = path.join(tmpDir('tufpip-enc-'), 'keys');
    const env = { ...process.env, TUFPIP_TEST_PASS: 'correct horse' };
    expectOk(await cli(['keygen', 'enc', '--out-dir', dir, '--passphrase-env', 'TUFPIP_TEST_PASS'], { env }), 'keygen');
    expect(fs.statSync(path.join(dir, 'enc.pem')).mode & 0o777).to.equal(0o600);
    // Rotate k3 (already proposed) out for the encrypted key: a fresh proposal replaces the old one.
    let r = await cli(['propose', repo.dir, '--role', 'root', '--add-key', path.join(dir, 'enc.pub.json')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/already proposes root v2 \(2 signatures collected\).*--replace/);
    expectOk(await cli(['propose', repo.dir, '--role', 'root', '--add-key', path.join(dir, 'enc.pub.json'), '--threshold', '3', '--replace']), 'propose --replace');
    const file = pendingFile(repo, 'root');
    expect(readJson<PendingJson>(file).signatures).to.deep.equal([]);
    r = await cli(['sign', file, '--key', path.join(dir, 'enc.pem')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/is encrypted: give its passphrase \(--passphrase-env VAR\)/);
    r = await cli(['sign', file, '--key', path.join(dir, 'enc.pem'), '--passphrase-env', 'TUFPIP_TEST_PASS'], { env: { ...process.env, TUFPIP_TEST_PASS: 'wrong' } });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/wrong passphrase/);
    expectOk(await cli(['sign', file, '--key', path.join(dir, 'enc.pem'), '--passphrase-env', 'TUFPIP_TEST_PASS'], { env }), 'sign encrypted');
    expectOk(await cli(['sign', file, '--key', pool[0].pem]), 'sign k0');
    // Trusted root v1: 1 of the 2 needed (k0); new root v2 {k0, k1, k2, enc}: 2 of the 3 needed.
    const tree = snapshotTree(repo.dir);
    let p = await cli(['publish', repo.dir]);
    expect(p.code).to.equal(1);
    expect(p.stderr).to.match(/TUF spec 5\.3\.4: root v2 needs 2 signatures from the 3 keys of the trusted root v1 .*has 1/);
    expect(p.stderr).to.match(/TUF spec 5\.3\.4: root v2 needs 3 signatures from the 4 keys of its own root role .*has 2/);
    expect(diffTrees(tree, snapshotTree(repo.dir))).to.deep.equal([]);
    expectOk(await cli(['sign', file, '--key', pool[1].pem]), 'sign k1');
    p = expectOk(await cli(['publish', repo.dir]), 'publish');
    expect(p.stdout).to.match(/published root v2/);
    const client = new CachedClient(repo, repo.root1);
    expect(await client.refresh()).to.equal(undefined);
    expect(client.trustedRootVersion()).to.equal(2);
  });

  it('propose refuses unusable changes with a usage error and writes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--role', 'root', '--threshold', '9'], /threshold 9 of root cannot be reached with 4 keys/],
      [['--role', 'root', '--remove-key', pool[5].keyid], /--remove-key [0-9a-f]{8}: not a key of root/],
      [['--role', 'root', '--add-key', pool[0].pub], /--add-key [0-9a-f]{8}: already a key of root/],
      [['--role', 'root', '--add-key', pool[4].pem], /--add-key .*not JSON/],
      [['--role', 'root', '--role-key', `root=${pool[4].pub}`], /root lists the keys of targets, snapshot, timestamp, online, not root/],
      [['--role', 'root', '--role-key', `online=${pool[4].pub}`, '--role-key', `online=${pool[5].pub}`, '--role-threshold', 'timestamp=2'], /timestamp is signed by the repository's one online key: its threshold must be 1/],
      [['--role', 'targets', '--add-key', pool[4].pub], /do not apply to targets: the targets role's own keys are in root/],
      [['--role', 'bins', '--role-key', `claimed=${pool[4].pub}`], /bins lists the keys of bin, online, not claimed/],
      [['--role', 'claimed', '--add-key', pool[4].pub], /claimed delegates to one role per project: name it with --project P/],
      [['--role', 'claimed', '--project', 'nope', '--add-key', pool[4].pub], /project nope is not in claimed v1/],
      [['--role', 'targets', '--expires', '0'], /--expires: days must be > 0/],
      [['--role', 'snapshot'], /Invalid values|Choices/],
    ];
    for (const [args, msg] of cases) {
      const tree = snapshotTree(repo.dir);
      const r = await cli(['propose', repo.dir, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.not.equal(0);
      expect(r.stderr, args.join(' ')).to.match(msg);
      expect(diffTrees(tree, snapshotTree(repo.dir)), args.join(' ')).to.deep.equal([]);
    }
  });

  it('renewing offline roles before they expire: bump warns (exit 3) until each renewal is published', async () => {
    const r2 = await initWithRootKeys([pool[0], pool[1]], 2, ['--expires', 'targets=10', '--expires', 'bins=12', '--expires', 'claimed=20']);
    await writeWheel(path.join(r2.dir, '..', 'w'), { name: 'alpha', version: '1.0' }).then(async (f) => expectOk(await cli(['add', r2.dir, f]), 'add'));
    let b = await cli(['bump', r2.dir]);
    expect(b.code).to.equal(3);
    expect(b.stderr).to.match(/targets expires in/);
    expect(b.stderr).to.match(/bins expires in/);
    expect(b.stderr).to.match(/claimed expires in/);

    // Only --expires: a renewal. Nothing else changes in the role.
    const p = JSON.parse(expectOk(await cli(['propose', r2.dir, '--role', 'targets', '--expires', '365', '--json']), 'propose').stdout) as { changes: string[] };
    expect(p.changes).to.have.length(2);
    expect(p.changes[0]).to.equal('version 1 -> 2');
    expect(p.changes[1]).to.match(/^expires .* -> /);
    // Not signed: publish refuses and changes nothing; bump still warns.
    let tree = snapshotTree(r2.dir);
    const refused = await cli(['publish', r2.dir]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/nothing was published: no pending role is ready/);
    expect(refused.stderr).to.match(/TUF spec 5\.6\.3: targets v2 needs 1 signature from the 1 key of targets in root v1 \([0-9a-f]{8}\), has 0/);
    expect(diffTrees(tree, snapshotTree(r2.dir))).to.deep.equal([]);
    expectOk(await cli(['sign', pendingFile(r2, 'targets'), '--key', r2.key('targets')]), 'sign targets');
    expectOk(await cli(['publish', r2.dir]), 'publish targets');
    b = await cli(['bump', r2.dir]);
    expect(b.code).to.equal(3);
    expect(b.stderr).to.not.match(/targets expires in/);
    expect(b.stderr).to.match(/bins expires in/);

    for (const role of ['bins', 'claimed']) {
      expectOk(await cli(['propose', r2.dir, '--role', role, '--expires', '365']), `propose ${role}`);
      expectOk(await cli(['sign', pendingFile(r2, role), '--key', r2.key(role)]), `sign ${role}`);
    }
    const r = expectOk(await cli(['publish', r2.dir]), 'publish bins and claimed');
    expect(r.stdout).to.match(/published bins v2/);
    expect(r.stdout).to.match(/published claimed v2/);
    b = expectOk(await cli(['bump', r2.dir]), 'bump has nothing to warn about');
    tree = snapshotTree(path.join(r2.dir, 'pending'));
    expect(tree.entries).to.deep.equal([]);
    // And clients that trusted root v1 get the renewed roles.
    const client = new CachedClient(r2, r2.root1);
    const wheel = await client.download('packages/alpha/alpha-1.0-py3-none-any.whl');
    expect(wheel.length).to.be.greaterThan(0);
    expectOk(await cli(['verify', r2.dir]), 'verify');
  });

  it('a proposal overtaken by another change of its role is stale: pending says so and publish refuses', async () => {
    const r3 = await initWithRootKeys([pool[0], pool[1]], 2);
    expectOk(await cli(['propose', r3.dir, '--role', 'claimed', '--expires', '300']), 'propose claimed');
    expectOk(await cli(['sign', pendingFile(r3, 'claimed'), '--key', r3.key('claimed')]), 'sign');
    // Meanwhile a project is claimed: claimed v2 is published without this proposal.
    expectOk(await cli(['claim', r3.dir, 'alpha', '--key', pool[4].pub, '--threshold', '1', '--offline-key', r3.key('claimed')]), 'claim');
    const list = JSON.parse(expectOk(await cli(['pending', r3.dir, '--json']), 'pending').stdout) as { roles: { state: string; reasons: string[] }[] };
    expect(list.roles[0].state).to.equal('stale');
    expect(list.roles[0].reasons[0]).to.match(/proposed as the successor of claimed v1, but claimed v2 is published now .*propose again/);
    const tree = snapshotTree(r3.dir);
    const r = await cli(['publish', r3.dir]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/claimed v2 \(stale\)/);
    expect(diffTrees(tree, snapshotTree(r3.dir))).to.deep.equal([]);
    expectOk(await cli(['pending', r3.dir, '--discard', 'claimed']), 'discard');
    expect(fs.existsSync(pendingFile(r3, 'claimed'))).to.equal(false);
  });

  it('copies signed in parallel on separate machines are merged back; a copy with other content is refused', async () => {
    const r5 = await initWithRootKeys([pool[0], pool[1], pool[2]], 2);
    expectOk(await cli(['propose', r5.dir, '--role', 'root', '--add-key', pool[3].pub]), 'propose');
    const copies = [pool[0], pool[1], pool[3]].map((k) => {
      const dir = tmpDir('tufpip-holder-');
      fs.copyFileSync(pendingFile(r5, 'root'), path.join(dir, 'root.json'));
      fs.copyFileSync(k.pem, path.join(dir, 'key.pem'));
      return dir;
    });
    for (const dir of copies) expectOk(await cli(['sign', 'root.json', '--key', 'key.pem'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } }), 'sign copy');
    // A copy whose content was changed cannot contribute anything.
    const bad = readJson<PendingJson>(path.join(copies[0], 'root.json'));
    bad.signed.expires = '2099-01-01T00:00:00Z';
    const badFile = path.join(tmpDir('tufpip-bad-copy-'), 'root.json');
    fs.writeFileSync(badFile, JSON.stringify(bad));
    const before = fs.readFileSync(pendingFile(r5, 'root'));
    const refused = await cli(['pending', r5.dir, '--merge', path.join(copies[1], 'root.json'), badFile]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/proposes other root content than .*no signature was merged/);
    expect(fs.readFileSync(pendingFile(r5, 'root')).equals(before)).to.equal(true);

    const merged = JSON.parse(expectOk(await cli(['pending', r5.dir, '--json', '--merge', ...copies.map((d) => path.join(d, 'root.json'))]), 'merge').stdout) as { added: string[]; status: { complete: boolean } }[];
    expect(merged[0].added).to.deep.equal([pool[0].keyid, pool[1].keyid, pool[3].keyid]);
    expect(merged[0].status.complete).to.equal(true);
    expectOk(await cli(['publish', r5.dir]), 'publish');
    const sigs = readJson<{ signatures: { keyid: string }[] }>(path.join(r5.metadataDir, '2.root.json')).signatures.map((x) => x.keyid);
    expect(sigs).to.deep.equal([pool[0].keyid, pool[1].keyid, pool[3].keyid]);
  });

  it('a maintainer key of a PEP 480 project is replaced through claimed (air-gapped claimed key)', async () => {
    const r4 = await initWithRootKeys([pool[0], pool[1]], 2);
    expectOk(await cli(['claim', r4.dir, 'alpha', '--key', pool[3].pub, '--key', pool[4].pub, '--threshold', '2', '--offline-key', r4.key('claimed')]), 'claim');
    expectOk(await cli(['propose', r4.dir, '--role', 'claimed', '--project', 'Alpha', '--remove-key', pool[4].pub, '--add-key', pool[5].pub]), 'propose');
    expectOk(await cli(['sign', pendingFile(r4, 'claimed'), '--key', r4.key('claimed')]), 'sign');
    expectOk(await cli(['publish', r4.dir]), 'publish');
    const claimed = readJson<{ signed: TargetsSigned }>(path.join(r4.metadataDir, '3.claimed.json')).signed;
    const d = claimed.delegations!.roles!.find((x) => x.name === 'project-alpha')!;
    expect(d.keyids).to.deep.equal([pool[3].keyid, pool[5].keyid].sort());
    expect(d.threshold).to.equal(2);
    expect(Object.keys(claimed.delegations!.keys).sort()).to.deep.equal([pool[3].keyid, pool[5].keyid].sort());
  });
});
