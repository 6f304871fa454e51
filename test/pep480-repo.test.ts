// PEP 480 on the repository side: claim, maintainer-signed releases and the upload checks
// (threshold of registered keys, valid signatures, expiry, paths only under the project, files
// with the signed length and hash, version = published + 1). Each refusal is proven to fire and
// to leave the published repository unchanged; the honest paths are proven to publish.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tufpipRepo } from './helpers/cli.js';
import { expectOk } from './helpers/repo.js';
import { BACKENDS, copyBackendRepo, makeBackendRepo, publishedRole, publishedTimestamp, useBackends, type BackendKind, type BackendRepo } from './helpers/backends.js';
import { tmpDir } from './helpers/tmp.js';
import { writeWheel } from './helpers/wheels.js';
import type { ReleaseBundle } from '../repo-tools/commands/release.js';
import { privateKeyFromPem } from '../repo-tools/keys/signer.js';
import { canonicalize } from '../metadata/canonical.js';

interface Fixture {
  repo: BackendRepo;
  keys: string;
  work: string;
  wheel: (name: string, version: string) => Promise<string>;
}

/** The index (alpha 1.0 published), four maintainer keys, beta claimed by m1..m3 with threshold 2. */
async function template(kind: BackendKind): Promise<Fixture> {
  const repo = await makeBackendRepo(kind, { wheels: [{ name: 'alpha', version: '1.0' }] });
  const work = tmpDir('tufpip-pep480-');
  const keys = path.join(work, 'keys');
  for (const k of ['m1', 'm2', 'm3', 'stranger']) expectOk(await tufpipRepo(['keygen', k, '--out-dir', keys]), 'keygen');
  expectOk(
    await repo.run(['claim', repo.dir, 'beta', '--threshold', '2', '--offline-key', path.join(repo.dir, 'keys', 'claimed.pem'), ...['m1', 'm2', 'm3'].flatMap((k) => ['--key', path.join(keys, `${k}.pub.json`)])]),
    'claim',
  );
  return { repo, keys, work, wheel: (name, version) => writeWheel(path.join(work, 'dist'), { name, version }) };
}

/** A copy of the template for one test (its own repository and work folder). */
async function copyFixture(t: Fixture): Promise<Fixture> {
  const work = tmpDir('tufpip-pep480-');
  return { repo: await copyBackendRepo(t.repo), keys: t.keys, work, wheel: (name, version) => writeWheel(path.join(work, 'dist'), { name, version }) };
}

const maintainers = (f: Fixture) => ['m1', 'm2', 'm3'].flatMap((k) => ['--maintainer-key', path.join(f.keys, `${k}.pub.json`)]);

async function sign(f: Fixture, file: string, out: string, signers: string[], extra: string[] = []): Promise<void> {
  expectOk(await tufpipRepo(['release', 'sign', file, '--project', 'beta', '--key', path.join(f.keys, `${signers[0]}.pem`), '--out', out, ...maintainers(f), '--threshold', '2', ...extra]), 'release sign');
  for (const s of signers.slice(1)) expectOk(await tufpipRepo(['release', 'sign', '--add-signature', out, '--key', path.join(f.keys, `${s}.pem`)]), 'add-signature');
}

async function expectRefused(f: Fixture, args: string[], pattern: RegExp): Promise<void> {
  const before = await publishedTimestamp(f.repo);
  const r = await f.repo.run(args);
  expect(r.code, r.stdout).to.not.equal(0);
  expect(r.stderr).to.match(pattern);
  expect((await publishedTimestamp(f.repo)).equals(before), 'nothing may be published').to.equal(true);
}

useBackends();

for (const kind of BACKENDS) {
  describe(`PEP 480 on the repository (${kind})`, function () {
    this.timeout(120_000);
    let t: Fixture;
    const fixture = () => copyFixture(t);

    before(async function () {
      this.timeout(300_000);
      t = await template(kind);
    });

    it('publishes a release with a threshold of maintainer signatures, refuses one signature', async () => {
      const f = await fixture();
      const w = await f.wheel('beta', '1.0');
      const one = path.join(f.work, 'one.json');
      await sign(f, w, one, ['m1']);
      await expectRefused(f, ['add', f.repo.dir, '--signed', one, w], /signed by 1\/2 keys/);
      const two = path.join(f.work, 'two.json');
      await sign(f, w, two, ['m1', 'm2']);
      const r = expectOk(await f.repo.run(['add', f.repo.dir, '--signed', two, w, '--json']));
      const out = JSON.parse(r.stdout) as { roles: { role: string; signedBy: number; threshold: number }[] };
      expect(out.roles.map((x) => `${x.role}:${x.signedBy}/${x.threshold}`)).to.have.members(['project-beta:2/2', 'project-beta--1.0:2/2']);
      expectOk(await f.repo.run(['verify', f.repo.dir]), 'verify');
    });

    it('refuses a plain add for a developer-signed project, and explains why', async () => {
      const f = await fixture();
      await expectRefused(f, ['add', f.repo.dir, await f.wheel('beta', '1.0')], /developer-signed \(PEP 480\)/);
    });

    it('refuses a replayed release (version is not the published version + 1)', async () => {
      const f = await fixture();
      const w = await f.wheel('beta', '1.0');
      const b = path.join(f.work, 'b.json');
      await sign(f, w, b, ['m1', 'm2']);
      expectOk(await f.repo.run(['add', f.repo.dir, '--signed', b, w]));
      await expectRefused(f, ['add', f.repo.dir, '--signed', b, w], /expected 2 \(the published version \+ 1\)/);
    });

    it('refuses a release signed with a key a new claim removed; the new key set works', async () => {
      const f = await fixture();
      // Maintainer m3 leaves: the operator claims again with m1, m2 only.
      expectOk(await f.repo.run(['claim', f.repo.dir, 'beta', '--threshold', '2', '--offline-key', path.join(f.repo.dir, 'keys', 'claimed.pem'), '--key', path.join(f.keys, 'm1.pub.json'), '--key', path.join(f.keys, 'm2.pub.json')]));
      const w = await f.wheel('beta', '1.0');
      const b = path.join(f.work, 'b.json');
      await sign(f, w, b, ['m1', 'm3']);
      await expectRefused(f, ['add', f.repo.dir, '--signed', b, w], /signed by 1\/2 keys/);
      const ok = path.join(f.work, 'ok.json');
      expectOk(await tufpipRepo(['release', 'sign', w, '--project', 'beta', '--key', path.join(f.keys, 'm1.pem'), '--out', ok, '--maintainer-key', path.join(f.keys, 'm1.pub.json'), '--maintainer-key', path.join(f.keys, 'm2.pub.json'), '--threshold', '2']));
      expectOk(await tufpipRepo(['release', 'sign', '--add-signature', ok, '--key', path.join(f.keys, 'm2.pem')]));
      expectOk(await f.repo.run(['add', f.repo.dir, '--signed', ok, w]));
    });

    const tamper: Record<string, { edit: (b: ReleaseBundle, f: Fixture) => void; error: RegExp }> = {
      'a forged signature (bytes changed)': {
        edit: (b) => {
          const s = b.roles['project-beta'].signatures[0];
          s.sig = (s.sig[0] === 'a' ? 'b' : 'a') + s.sig.slice(1);
        },
        error: /signed by 1\/2 keys/,
      },
      'a duplicated signature (same key twice)': {
        edit: (b) => {
          const r = b.roles['project-beta'];
          r.signatures = [r.signatures[0], r.signatures[0]];
        },
        error: /multiple signatures|signed by 1\/2/,
      },
      'signatures by a key of another project (stranger)': {
        edit: (b) => {
          const r = b.roles['project-beta'];
          r.signatures = [r.signatures[0], { keyid: 'f'.repeat(64), sig: r.signatures[1].sig }];
        },
        error: /signed by 1\/2 keys/,
      },
      'a release listing another project\'s path': {
        edit: (b) => {
          const rel = b.roles['project-beta--1.0'];
          const [p, info] = Object.entries(rel.signed.targets)[0];
          rel.signed.targets['packages/alpha/alpha-1.0-py3-none-any.whl'] = info;
          void p;
        },
        error: /does not cover|signed by/,
      },
      'content changed after signing (file length)': {
        edit: (b) => {
          const rel = b.roles['project-beta--1.0'];
          const info = Object.values(rel.signed.targets)[0];
          info.length += 1;
        },
        error: /signed by 0\/2|signed by 1\/2|signed by/,
      },
    };
    /** beta 1.0 released with the signatures of m1 and m2: the wheel, the bundle file and its parsed content. */
    async function signedBundle(f: Awaited<ReturnType<typeof fixture>>): Promise<{ w: string; b: string; bundle: ReleaseBundle }> {
      const w = await f.wheel('beta', '1.0');
      const b = path.join(f.work, 'b.json');
      await sign(f, w, b, ['m1', 'm2']);
      return { w, b, bundle: JSON.parse(fs.readFileSync(b, 'utf8')) as ReleaseBundle };
    }

    for (const [name, c] of Object.entries(tamper)) {
      it(`refuses ${name}`, async () => {
        const f = await fixture();
        const { w, b, bundle } = await signedBundle(f);
        c.edit(bundle, f);
        fs.writeFileSync(b, JSON.stringify(bundle));
        await expectRefused(f, ['add', f.repo.dir, '--signed', b, w], c.error);
      });
    }

    const resignedCases: Record<string, { edit: (b: ReleaseBundle) => void; error: RegExp }> = {
      'a validly signed release that lists another project\'s file': {
        edit: (b) => {
          const rel = b.roles['project-beta--1.0'];
          const info = Object.values(rel.signed.targets)[0];
          rel.signed.targets['packages/alpha/alpha-1.0-py3-none-any.whl'] = info;
        },
        error: /does not cover/,
      },
      'a validly signed project role that delegates another project\'s path': {
        edit: (b) => {
          const d = b.roles['project-beta'].signed.delegations!.roles![0];
          d.paths = [...d.paths, 'packages/alpha/alpha-1.0-py3-none-any.whl'];
        },
        error: /outside packages\/beta\//,
      },
      'a validly signed project role with a wildcard path': {
        edit: (b) => {
          b.roles['project-beta'].signed.delegations!.roles![0].paths = ['packages/beta/*'];
        },
        error: /not an exact file/,
      },
      'a validly signed but expired release': {
        edit: (b) => {
          for (const r of Object.values(b.roles)) r.signed.expires = '2020-01-01T00:00:00Z';
        },
        error: /expired at 2020-01-01/,
      },
    };
    for (const [name, c] of Object.entries(resignedCases)) {
      it(`refuses ${name}`, async () => {
        const f = await fixture();
        const { w, b, bundle } = await signedBundle(f);
        c.edit(bundle);
        // The maintainers themselves sign the bad content: the index must still refuse it.
        for (const env of Object.values(bundle.roles)) {
          env.signatures = [];
          for (const k of ['m1', 'm2']) {
            const signer = privateKeyFromPem(fs.readFileSync(path.join(f.keys, `${k}.pem`), 'utf8'), k);
            env.signatures.push({ keyid: signer.keyid, sig: signer.signSync(Buffer.from(canonicalize(env.signed))) });
          }
        }
        fs.writeFileSync(b, JSON.stringify(bundle));
        await expectRefused(f, ['add', f.repo.dir, '--signed', b, w], c.error);
      });
    }

    it('refuses a file whose bytes differ from what the maintainers signed', async () => {
      const f = await fixture();
      const w = await f.wheel('beta', '1.0');
      const b = path.join(f.work, 'b.json');
      await sign(f, w, b, ['m1', 'm2']);
      const evil = await writeWheel(path.join(f.work, 'evil'), { name: 'beta', version: '1.0', body: 'import os  # not what was signed\n' });
      await expectRefused(f, ['add', f.repo.dir, '--signed', b, evil], /does not match the signed length and sha256/);
    });

    it('refuses a bundle whose signed content was changed before another maintainer adds a signature', async () => {
      const f = await fixture();
      const w = await f.wheel('beta', '1.0');
      const b = path.join(f.work, 'b.json');
      await sign(f, w, b, ['m1']);
      const bundle = JSON.parse(fs.readFileSync(b, 'utf8')) as ReleaseBundle;
      bundle.roles['project-beta'].signed.expires = '2099-01-01T00:00:00Z';
      fs.writeFileSync(b, JSON.stringify(bundle));
      const r = await tufpipRepo(['release', 'sign', '--add-signature', b, '--key', path.join(f.keys, 'm2.pem')]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/changed after it was signed/);
    });

    it('recently-claimed (online) then promote moves the project into claimed', async () => {
      const repo = await makeBackendRepo(kind);
      const keys = path.join(tmpDir(), 'k');
      expectOk(await tufpipRepo(['keygen', 'dev', '--out-dir', keys]));
      expectOk(await repo.run(['claim', repo.dir, 'Gamma_Pkg', '--recent', '--threshold', '1', '--key', path.join(keys, 'dev.pub.json')]));
      let st = JSON.parse(expectOk(await repo.run(['status', repo.dir, '--json'])).stdout) as { projects: { developerSigned: string[] } };
      expect(st.projects.developerSigned).to.deep.equal(['gamma-pkg']);
      expect((await publishedRole(repo, 'recently-claimed')).signed.delegations!.roles.map((d) => d.name)).to.deep.equal(['project-gamma-pkg']);
      const p = expectOk(await repo.run(['promote', repo.dir, '--offline-key', path.join(repo.dir, 'keys', 'claimed.pem'), '--json']));
      expect((JSON.parse(p.stdout) as { promoted: string[] }).promoted).to.deep.equal(['project-gamma-pkg']);
      // The published claimed role (the version the snapshot names) delegates it now; recently-claimed no longer does.
      expect((await publishedRole(repo, 'claimed')).signed.delegations!.roles.map((d) => d.name)).to.include('project-gamma-pkg');
      expect((await publishedRole(repo, 'recently-claimed')).signed.delegations?.roles.map((d) => d.name) ?? []).to.not.include('project-gamma-pkg');
      st = JSON.parse(expectOk(await repo.run(['status', repo.dir, '--json'])).stdout);
      expect(st.projects.developerSigned).to.deep.equal(['gamma-pkg']);
      expectOk(await repo.run(['verify', repo.dir]));
    });

    it('claim refuses a wrong offline key and a bad threshold', async () => {
      const f = await fixture();
      const k = ['--key', path.join(f.keys, 'm1.pub.json')];
      await expectRefused(f, ['claim', f.repo.dir, 'delta', ...k, '--threshold', '1', '--offline-key', path.join(f.keys, 'stranger.pem')], /is not a key of the claimed role/);
      await expectRefused(f, ['claim', f.repo.dir, 'delta', ...k, '--threshold', '2', '--offline-key', path.join(f.repo.dir, 'keys', 'claimed.pem')], /--threshold must be 1 to 1/);
    });
  });
}
