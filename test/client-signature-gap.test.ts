// PEP 480 on the client: a developer-signed project's file is vouched for by its maintainers' keys;
// a file of that project that the maintainers did not sign is refused as a missing developer
// signature (the index may be compromised), never quietly "not found", and the message says
// whether the index's own bin lists it. Role graph as in DESIGN.md: targets -> claimed,
// recently-claimed, bins (succinct) -> bin-*; claimed / recently-claimed -> project-<name>.
import './setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { expect } from 'chai';
import fs from 'node:fs';
import { IndexClient, ClientError } from '../client/index.js';
import { binDelegations } from '../metadata/builders.js';
import { binForPath } from '../metadata/hash-bins.js';
import { ALL_TARGET_PATTERNS, PACKAGE_PATTERNS } from '../metadata/target-paths.js';
import { TufFixture, delegation, delegationsOf, newKey, type TestKey } from './helpers/tuf-fixture.js';
import { tmpDir } from './helpers/tmp.js';

const BINS = 4;

describe('client: PEP 480 developer signatures and the signature-gap tripwire', () => {
  let fx: TufFixture;
  let devs: TestKey[];
  let online: TestKey;
  let c: IndexClient;

  const good = 'packages/foo/foo-1.0-py3-none-any.whl';
  const sneaked = 'packages/foo/foo-6.6-py3-none-any.whl';
  const absent = 'packages/foo/foo-9.9-py3-none-any.whl';
  const fresh = 'packages/newbie/newbie-0.1-py3-none-any.whl';
  const unclaimed = 'packages/bar/bar-1.0-py3-none-any.whl';

  before(async () => {
    fx = new TufFixture();
    const claimedKey = newKey();
    const rcKey = newKey();
    const binsKey = newKey();
    online = newKey();
    devs = [newKey(), newKey(), newKey()];
    const newbieDev = newKey();
    fx.role('targets').signed.delegations = delegationsOf([
      { role: delegation('claimed', [claimedKey], PACKAGE_PATTERNS), keys: [claimedKey] },
      { role: delegation('recently-claimed', [rcKey], PACKAGE_PATTERNS), keys: [rcKey] },
      { role: delegation('bins', [binsKey], ALL_TARGET_PATTERNS), keys: [binsKey] },
    ]);
    // project-foo: 2 of 3 maintainer keys; project-newbie (recently claimed): 1 of 1.
    fx.setRole('claimed', [claimedKey], delegationsOf([{ role: delegation('project-foo', devs, ['packages/foo/*'], { threshold: 2, terminating: true }), keys: devs }]));
    fx.setRole('recently-claimed', [rcKey], delegationsOf([{ role: delegation('project-newbie', [newbieDev], ['packages/newbie/*'], { terminating: true }), keys: [newbieDev] }]));
    fx.setRole('bins', [binsKey], binDelegations(online.pub, online.keyid, BINS));
    for (let i = 0; i < BINS; i++) fx.setRole(`bin-${i}`, [online]);
    fx.setRole('project-foo', [devs[0], devs[2]]);
    fx.setRole('project-newbie', [newbieDev]);
    fx.addTarget('project-foo', good, Buffer.from('signed by maintainers'));
    fx.addTarget('project-newbie', fresh, Buffer.from('newbie'));
    // The index (online key) lists a foo file the maintainers never signed, and an unclaimed project.
    fx.addTarget(binForPath(sneaked, BINS), sneaked, Buffer.from('evil'));
    fx.addTarget(binForPath(unclaimed, BINS), unclaimed, Buffer.from('bar'));
    fx.publish();
    await fx.serve();
    c = await IndexClient.open({ indexUrl: fx.url, dataDir: tmpDir('tufpip-data-'), trustedRoot: fs.readFileSync(fx.rootFile(1)) });
    await c.refresh();
  });

  after(async () => {
    await c?.close();
    await fx?.close();
  });

  it("a maintainer-signed file is vouched for by the project's keys and threshold ('developer')", async () => {
    const t = await c.lookup(good);
    expect(t.vouchedBy.kind).to.equal('developer');
    expect(t.vouchedBy.role).to.equal('project-foo');
    expect(t.vouchedBy.keyids).to.deep.equal(devs.map((k) => k.keyid));
    expect(t.vouchedBy.threshold).to.equal(2);
    expect(t.vouchedBy.signedBy).to.deep.equal([devs[0].keyid, devs[2].keyid]);
  });

  it('a recently-claimed project is developer-signed too', async () => {
    const t = await c.lookup(fresh);
    expect(t.vouchedBy).to.include({ kind: 'developer', role: 'project-newbie', threshold: 1 });
  });

  it("an unclaimed project's file is vouched for by the index's online key ('index')", async () => {
    const t = await c.lookup(unclaimed);
    expect(t.vouchedBy).to.include({ kind: 'index', role: binForPath(unclaimed, BINS), threshold: 1 });
    expect(t.vouchedBy.signedBy).to.deep.equal([online.keyid]);
  });

  it('refuses a file of a developer-signed project that only the index lists, saying the index may be compromised', async () => {
    const err = await c.lookup(sneaked).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ClientError);
    const e = err as ClientError;
    expect(e.kind).to.equal('missing-developer-signature');
    expect(e.code).to.equal('REFUSED');
    expect(e.message).to.contain('project-foo');
    expect(e.message).to.contain('delegated by claimed');
    expect(e.message).to.contain(`index's ${binForPath(sneaked, BINS)} lists it`);
    expect(e.message).to.contain('the index may be compromised');
    expect(e.message).to.contain(devs[0].keyid.slice(0, 8));
    expect(e.message).to.not.contain(devs[0].keyid);
  });

  it('refuses a file of a developer-signed project that no role lists with the same warning', async () => {
    const err = (await c.lookup(absent).catch((e: unknown) => e)) as ClientError;
    expect(err.kind).to.equal('missing-developer-signature');
    expect(err.message).to.contain('no role of the index lists it either');
  });

  it('a missing file of an unclaimed project is plain not-signed', async () => {
    const err = (await c.lookup('packages/bar/bar-2.0-py3-none-any.whl').catch((e: unknown) => e)) as ClientError;
    expect(err.kind).to.equal('not-signed');
  });

  it('download of the sneaked file writes nothing', async () => {
    const dest = `${tmpDir()}/foo.whl`;
    const err = (await c.download(sneaked, dest).catch((e: unknown) => e)) as ClientError;
    expect(err.kind).to.equal('missing-developer-signature');
    expect(fs.existsSync(dest)).to.equal(false);
  });
});
