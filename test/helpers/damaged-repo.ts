// A damaged repository, the one table both CLIs' bad-input tests use: each row damages a copy of
// an intact repository (truncated or non-JSON metadata, wrong types, changes after signing, roles
// outside the role graph, some validly re-signed with the repository's own keys, a damaged
// config.json), and says what `tufpip-repo` must answer (add, bump, status; verify) and, for the
// rows a client can meet, the class of the client's refusal (test/repo-bad-input.test.ts,
// test/client-bad-input.test.ts).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { copyRepo, makeRepo } from './repo.js';
import { writeSdist, writeWheel } from './wheels.js';
import { signRole } from '../../repo-tools/txn/transaction.js';
import { loadSigner } from '../../repo-tools/keys/signer.js';
import { canonicalize } from '../../metadata/canonical.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Files the test re-signed with the repository's own keys: a client may keep those (they verify). */
export const validlySigned: Buffer[] = [];

export const md = (repo: string) => path.join(repo, 'site', 'metadata');
export const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
export const tsFile = (repo: string) => path.join(md(repo), 'timestamp.json');
export const snapFile = (repo: string) => path.join(md(repo), `${readJson(tsFile(repo)).signed.meta['snapshot.json'].version}.snapshot.json`);
/** The current version of the bin that lists alpha's wheel. */
export function alphaBinFile(repo: string): string {
  const meta = readJson(snapFile(repo)).signed.meta as Record<string, { version: number }>;
  for (const [f, { version }] of Object.entries(meta)) {
    if (!f.startsWith('bin-')) continue;
    const file = path.join(md(repo), `${version}.${f}`);
    if (readJson(file).signed.targets['packages/alpha/alpha-1.0-py3-none-any.whl']) return file;
  }
  throw new Error('no bin lists alpha');
}
export const editJson = (file: string, edit: (j: Json) => void) => {
  const j = readJson(file);
  edit(j);
  fs.writeFileSync(file, JSON.stringify(j));
};
export const truncate = (file: string) => {
  const b = fs.readFileSync(file);
  fs.writeFileSync(file, b.subarray(0, b.length >> 1));
};
/** Re-signs `file` after `edit` with the repository's own keys (valid signatures, bad content). */
export async function resign(repo: string, file: string, keys: string[], edit: (signed: Json) => void): Promise<Buffer> {
  const j = readJson(file);
  edit(j.signed);
  const signers = await Promise.all(keys.map((k) => loadSigner(`file:keys/${k}.pem`, { baseDir: repo })));
  const bytes = await signRole(canonicalize(j.signed), signers);
  fs.writeFileSync(file, bytes);
  validlySigned.push(bytes);
  return bytes;
}
/** After the snapshot changed: a timestamp that names it (length, hash), re-signed. */
export async function renameSnapshotInTimestamp(repo: string): Promise<void> {
  const snap = fs.readFileSync(snapFile(repo));
  await resign(repo, tsFile(repo), ['online'], (s) => {
    s.meta['snapshot.json'].length = snap.length;
    s.meta['snapshot.json'].hashes = { sha256: createHash('sha256').update(snap).digest('hex') };
  });
}

export interface RepoDamage {
  damage: (repo: string) => void | Promise<void>;
  /** What add, bump and status say (verify has its own message, `verify`). */
  error: RegExp;
  verify: RegExp;
  /** The client's refusal class when this repository is served (absent: not a client row). */
  client?: RegExp;
  /** The client only meets the damage when it looks a target up (a bin). */
  clientNeedsTarget?: boolean;
  /** Also try `tufpip fetch` against it. */
  fetch?: boolean;
}
export const repoDamages: Record<string, RepoDamage> = {
  'timestamp.json truncated': { damage: (r) => truncate(tsFile(r)), error: /timestamp\.json is not valid JSON/, verify: /refresh failed: SyntaxError.*\(reading metadata\/timestamp\.json\)/, client: /refused \(metadata\)/, fetch: true },
  'timestamp.json not JSON at all': { damage: (r) => fs.writeFileSync(tsFile(r), '<html>502 Bad Gateway</html>'), error: /timestamp\.json is not valid JSON/, verify: /refresh failed: SyntaxError/, client: /refused \(metadata\)/ },
  'timestamp.json with a version that is a string': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.version = String(j.signed.version))), error: /timestamp\.json is not valid timestamp metadata: version must be a number/, verify: /version must be a number/, client: /refused \(metadata\)/ },
  'timestamp.json with meta of the wrong type': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.meta = [])), error: /timestamp\.json is not valid timestamp metadata: missing snapshot\.json in meta/, verify: /missing snapshot\.json in meta/, client: /refused \(metadata\)/ },
  'timestamp.json changed after signing (version 1e300)': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.version = 1e300)), error: /timestamp\.json failed verification \(timestamp was signed by 0\/1 keys\)/, verify: /UnsignedMetadataError: timestamp was signed by 0\/1 keys/, client: /refused \(bad-signature\)/, fetch: true },
  'timestamp.json naming an unknown role (not covered by its signature)': { damage: (r) => editJson(tsFile(r), (j) => (j.signed.meta['evil.json'] = { version: 1 })), error: /timestamp\.json names metadata other than snapshot\.json \(evil\.json\)/, verify: /timestamp\.json names metadata other than snapshot\.json: evil\.json/ },
  'timestamp.json of 20 MB (endless data)': {
    damage: (r) => {
      fs.rmSync(tsFile(r));
      fs.writeFileSync(tsFile(r), '{"signed": ');
      fs.truncateSync(tsFile(r), 20 * 1024 * 1024);
    },
    error: /timestamp\.json is not valid JSON/,
    verify: /refresh failed: .*Max length reached/,
    client: /refused \(endless-data\)/,
  },
  'snapshot truncated': { damage: (r) => truncate(snapFile(r)), error: /\d+\.snapshot\.json is not the snapshot timestamp\.json names \(Expected length \d+ but got \d+\)/, verify: /Expected length \d+ but got \d+/, client: /refused \(hash-mismatch\)/, fetch: true },
  'snapshot with meta of the wrong type': { damage: (r) => editJson(snapFile(r), (j) => (j.signed.meta = 'all of them')), error: /snapshot\.json is not the snapshot timestamp\.json names/, verify: /Unable to load snapshot metadata/, client: /refused \((hash-mismatch|endless-data)\)/ },
  'snapshot listing an unknown role, validly re-signed with the online key': {
    damage: async (r) => {
      await resign(r, snapFile(r), ['online'], (s) => (s.meta['evil.json'] = { version: 1 }));
      await renameSnapshotInTimestamp(r);
    },
    error: /snapshot\.json lists an unknown role "evil\.json"; refusing to build on it/,
    verify: /snapshot lists a role outside the role graph: evil/,
  },
  'snapshot naming a bin version as a string, validly re-signed': {
    damage: async (r) => {
      await resign(r, snapFile(r), ['online'], (s) => (s.meta['bin-0.json'] = { version: '1' }));
      await renameSnapshotInTimestamp(r);
    },
    error: /snapshot\.json: version of bin-0\.json must be a positive integer, got "1"/,
    verify: /version must be a number/,
    client: /refused \(metadata\)/,
  },
  'a bin truncated': { damage: (r) => truncate(alphaBinFile(r)), error: /\d+\.bin-\d\.json is not valid JSON/, verify: /role bin-\d: .*SyntaxError/, client: /refused \(metadata\)/, clientNeedsTarget: true },
  'a bin with targets of the wrong type': { damage: (r) => editJson(alphaBinFile(r), (j) => (j.signed.targets = 'x')), error: /\d+\.bin-\d\.json is not valid targets metadata: targets must be an object/, verify: /targets must be an object/, client: /refused \(metadata\)/, clientNeedsTarget: true },
  'a bin with a target injected after signing (would be re-signed by bump)': {
    damage: (r) =>
      editJson(alphaBinFile(r), (j) => {
        j.signed.targets['packages/alpha/alpha-6.6.6-py3-none-any.whl'] = { length: 3, hashes: { sha256: 'a'.repeat(64) } };
      }),
    error: /\d+\.bin-\d\.json failed verification \(bin-\d was signed by 0\/1 keys\): it was changed after signing/,
    verify: /bin-\d was signed by 0\/1 keys/,
    client: /refused \(bad-signature\)/,
    clientNeedsTarget: true,
    fetch: true,
  },
  'a bin with a target length of the wrong type, validly re-signed': {
    damage: async (r) => {
      await resign(r, alphaBinFile(r), ['online'], (s) => (s.targets['packages/alpha/alpha-1.0-py3-none-any.whl'].length = '12'));
    },
    error: /\d+\.bin-\d\.json is not valid targets metadata: .*length/,
    verify: /length/,
    client: /refused \(metadata\)/,
    clientNeedsTarget: true,
  },
  '1.root.json truncated': { damage: (r) => truncate(path.join(md(r), '1.root.json')), error: /1\.root\.json is not valid JSON/, verify: /trusted root .*1\.root\.json is not valid root metadata: SyntaxError/ },
  '1.root.json with roles of the wrong type': { damage: (r) => editJson(path.join(md(r), '1.root.json'), (j) => (j.signed.roles = [])), error: /1\.root\.json is not valid root metadata: missing top-level role/, verify: /trusted root .*1\.root\.json is not valid root metadata: .*missing top-level role/ },
  '1.root.json with an unknown role, validly re-signed by two root keys': {
    damage: async (r) => void (await resign(r, path.join(md(r), '1.root.json'), ['root-1', 'root-2'], (s) => (s.roles.evil = { keyids: [], threshold: 1 }))),
    error: /1\.root\.json names unknown top-level roles \(evil\)/,
    verify: /root names unknown top-level roles: evil/,
  },
  'a 2.root.json that is not JSON next to the real root': { damage: (r) => fs.writeFileSync(path.join(md(r), '2.root.json'), '{"signed": {"_type": "root", '), error: /2\.root\.json is not valid JSON/, verify: /refresh failed: SyntaxError.*\(reading metadata\/2\.root\.json\)/, client: /refused \(metadata\)/ },
  'config.json truncated': { damage: (r) => truncate(path.join(r, 'config.json')), error: /config\.json is not valid JSON/, verify: /config\.json is not valid JSON/ },
  'config.json with bins as a string': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.bins = '4')), error: /config\.json: bins must be a power of two from 2 to 16384, got "4"/, verify: /bins must be a power of two/ },
  'config.json with an expiry that is not a number': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.expires = { timestamp: 'one day' })), error: /config\.json: expires\.timestamp must be a positive number of days, got "one day"/, verify: /expires\.timestamp/ },
  'config.json with an unknown expiry role': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.expires = { evil: 3 })), error: /config\.json: expires\.evil must be one of/, verify: /expires\.evil/ },
  'config.json with an online signer that is not a string': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => (j.onlineSigner = 42)), error: /config\.json: onlineSigner must be a signer URI .*got 42/, verify: /onlineSigner/ },
  'config.json with no url': { damage: (r) => editJson(path.join(r, 'config.json'), (j) => delete j.url), error: /config\.json: url must be an http\(s\) URL, got undefined/, verify: /url must be/ },
  'config.json that is an array': { damage: (r) => fs.writeFileSync(path.join(r, 'config.json'), '[1, 2]'), error: /config\.json is not a JSON object/, verify: /not a JSON object/ },
};


/**
 * An intact repository (4 bins: alpha 1.0 as wheel and sdist, beta 1.0) at BASE/gold, a valid
 * wheel not published yet, and `copy()`: a fresh copy of the intact repository to damage.
 */
export async function goldRepo(base: string): Promise<{ gold: string; inputs: string; fresh: string; copy: () => string }> {
  const gold = path.join(base, 'gold');
  const inputs = path.join(base, 'in');
  const alpha = await writeWheel(path.join(inputs, 'a'), { name: 'alpha', version: '1.0' });
  const beta = await writeWheel(path.join(inputs, 'a'), { name: 'beta', version: '1.0' });
  await makeRepo({ dir: gold, bins: 4, files: [alpha, beta, writeSdist(path.join(inputs, 'a'), 'alpha', '1.0')] });
  const fresh = await writeWheel(path.join(inputs, 'fresh'), { name: 'fresh', version: '1.0' });
  let n = 0;
  const copy = () => copyRepo(gold, path.join(base, `r${n++}`));
  return { gold, inputs, fresh, copy };
}
