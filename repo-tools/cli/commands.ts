// The `tufpip-repo` commands: thin yargs modules (nx / lerna style). Handlers parse flags, call
// the implementation and print; they throw on failure and never exit (main.ts maps errors).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { TufpipError } from '../../metadata/errors.js';
import { EXPIRY_KEYS, type ExpiryKey } from '../../metadata/profile.js';
import { shortKeyId } from '../../metadata/keys.js';
import { printJson, say, note, type OutputFlags } from '../../io/cli/output.js';
import { progressBar } from '../../io/cli/progress.js';
import { offlineCommands } from './offline-commands.js';
import type { S3Location } from '../storage/s3-location.js';

interface Common extends OutputFlags {
  dir: string;
  'online-key'?: string;
}

const json = (y: Argv) => y.option('json', { type: 'boolean', describe: 'print machine-readable JSON on stdout' });
const dirArg = (y: Argv) => y.positional('dir', { type: 'string', demandOption: true, describe: 'repository directory' });
const onlineKey = (y: Argv) =>
  y.option('online-key', { type: 'string', describe: 'signer URI of the online key (file:PATH or env:VAR); default from config.json' });

export function parseExpires(list: string[] | undefined): Partial<Record<ExpiryKey, number>> {
  const out: Partial<Record<ExpiryKey, number>> = {};
  for (const item of list ?? []) {
    const m = /^([a-z-]+)=(\d+(?:\.\d+)?)$/.exec(item);
    if (!m || !(EXPIRY_KEYS as readonly string[]).includes(m[1])) {
      throw new TufpipError('USAGE', `--expires takes ROLE=DAYS with ROLE one of ${EXPIRY_KEYS.join(', ')}: got ${JSON.stringify(item)}`);
    }
    out[m[1] as ExpiryKey] = Number(m[2]);
  }
  return out;
}

const keygen: CommandModule<object, OutputFlags & { name: string; 'out-dir': string; 'passphrase-env'?: string }> = {
  command: 'keygen <name>',
  describe: 'create an ed25519 key pair: NAME.pem (PKCS#8, 0600) and NAME.pub.json (TUF key)',
  builder: (y) =>
    json(y)
      .positional('name', { type: 'string', demandOption: true })
      .option('out-dir', { type: 'string', default: '.', describe: 'where to write the key files' })
      .option('passphrase-env', { type: 'string', describe: 'encrypt the private key with the passphrase in this environment variable' }) as never,
  handler: async (a) => {
    const { writeNewKey } = await import('../keys/keygen.js');
    const { passphraseFromEnv } = await import('../keys/signer.js');
    const k = await writeNewKey(a['out-dir'], a.name, passphraseFromEnv(a['passphrase-env']));
    if (a.json) printJson({ keyid: k.keyid, private: k.privatePath, public: k.publicPath, publicKey: k.publicKey, encrypted: !!a['passphrase-env'] });
    else say(a, `key ${shortKeyId(k.keyid)} (${k.keyid})\n  private: ${k.privatePath} (mode 0600${a['passphrase-env'] ? ', encrypted' : ''})\n  public:  ${k.publicPath}`);
  },
};

/** Where an object store repository lives: init --storage, move --to (storage/s3-location.ts). */
interface S3Args {
  private?: string;
  's3-endpoint'?: string;
  's3-region'?: string;
  's3-path-style'?: boolean;
  'plain-names'?: boolean;
}

function s3Options(with_: string) {
  return {
    private: { type: 'string', describe: `with ${with_}: where the private state goes, s3://BUCKET/PREFIX (default: PREFIX-private/ in the same bucket; never publicly readable)` },
    's3-endpoint': { type: 'string', describe: `with ${with_}: URL of an S3-compatible server (default: AWS)` },
    's3-region': { type: 'string', describe: `with ${with_}: the region (default: AWS_REGION, else us-east-1)` },
    's3-path-style': { type: 'boolean', describe: `with ${with_}: path-style addressing (ENDPOINT/BUCKET/KEY), as most self-hosted servers need` },
    'plain-names': { type: 'boolean', describe: `with ${with_}: also publish plain-named pages and files for plain pip (3 more object writes per add; default: TUF clients only, docs/object-storage.md)` },
  } as const;
}

/** The S3 location named by `url` and the S3 flags; undefined (and no S3 flag given) for the local disk. */
async function s3LocationOf(url: string | undefined, a: S3Args, flag: string): Promise<S3Location | undefined> {
  if (!url) {
    if (a.private || a['s3-endpoint'] || a['s3-region'] || a['s3-path-style'] || a['plain-names'] !== undefined) {
      throw new TufpipError('USAGE', `--private, --s3-endpoint, --s3-region, --s3-path-style and --plain-names go with ${flag} s3://BUCKET/PREFIX (a local repository always has plain names)`);
    }
    return undefined;
  }
  const { s3LocationFromFlags } = await import('../storage/s3-location.js');
  return s3LocationFromFlags({ storage: url, private: a.private, endpoint: a['s3-endpoint'], region: a['s3-region'], pathStyle: a['s3-path-style'], plainNames: a['plain-names'] });
}

const init: CommandModule<object, Common & { url: string; bins?: number; 'root-keys'?: number; 'root-threshold'?: number; 'keys-dir'?: string; expires?: string[]; 'passphrase-env'?: string; 'allow-single-root-key'?: boolean; storage?: string } & S3Args> = {
  command: 'init <dir>',
  describe: 'create a repository: keys it is not given, the first signed metadata, an empty simple index',
  builder: (y) =>
    json(dirArg(y))
      .option('url', { type: 'string', demandOption: true, describe: 'base URL the site/ folder will be served at' })
      .option('bins', { type: 'number', describe: 'number of hash bins, a power of two from 2 to 16384 (default 256)' })
      .option('root-keys', { type: 'number', describe: 'number of root keys (default 3)' })
      .option('root-threshold', { type: 'number', describe: 'root signatures required (default 2)' })
      .option('allow-single-root-key', { type: 'boolean', describe: 'accept a root threshold of 1 (demo only)' })
      .option('keys-dir', { type: 'string', describe: 'where keys are read from or generated (default DIR/keys; move offline keys offline!)' })
      .option('expires', { type: 'string', array: true, describe: `ROLE=DAYS, ROLE one of ${EXPIRY_KEYS.join(', ')}` })
      .option('passphrase-env', { type: 'string', describe: 'passphrase for generated/read private keys, from this environment variable' })
      .option('storage', { type: 'string', describe: 'publish to object storage s3://BUCKET/PREFIX instead of DIR/site (DIR keeps the local config and keys; docs/object-storage.md)' })
      .options(s3Options('--storage')) as never,
  handler: async (a) => {
    const { initRepo } = await import('../commands/init.js');
    const storage = await s3LocationOf(a.storage, a, '--storage');
    const { passphraseFromEnv } = await import('../keys/signer.js');
    const r = await initRepo({
      dir: a.dir,
      url: a.url,
      bins: a.bins,
      rootKeys: a['root-keys'],
      rootThreshold: a['root-threshold'],
      allowSingleRootKey: a['allow-single-root-key'],
      keysDir: a['keys-dir'],
      expires: parseExpires(a.expires),
      passphrase: passphraseFromEnv(a['passphrase-env']),
      passphraseEnv: a['passphrase-env'],
      storage,
    });
    if (a.json) return printJson(r);
    say(a, `created repository ${r.dir} (${r.bins} bins, root threshold ${r.rootThreshold} of ${r.keyids.root.length})`);
    say(a, r.storage ? `published to ${r.storage}: serve it at ${r.url}` : `serve ${path.join(r.dir, 'site')} at ${r.url}`);
    say(a, `root to distribute to clients (out of band): ${r.root}\n  sha256 ${r.rootSha256}`);
    if (r.generatedKeys.length) say(a, `generated keys in ${r.keysDir}: ${r.generatedKeys.join(', ')}`);
    note(a, `warning: ${r.keysDir} holds OFFLINE keys (root, targets, claimed, bins): move them to offline storage; cron needs only online.pem`);
  },
};

const add: CommandModule<object, Common & { files: string[]; signed?: string }> = {
  command: 'add <dir> <files..>',
  describe: 'publish wheels/sdists in one atomic transaction (--signed: a maintainer-signed PEP 480 release)',
  builder: (y) =>
    onlineKey(json(dirArg(y)).positional('files', { type: 'string', array: true, demandOption: true })).option('signed', {
      type: 'string',
      describe: 'release bundle signed by the project\'s maintainers (tufpip-repo release sign)',
    }) as never,
  handler: async (a) => {
    if (a.signed) {
      const { addSigned } = await import('../commands/add-signed.js');
      const r = await addSigned(a.dir, a.signed, a.files, { onlineKey: a['online-key'] });
      if (a.json) return printJson(r);
      for (const x of r.roles) say(a, `verified ${x.role} v${x.version}: ${x.signedBy} of ${x.threshold} maintainer signatures`);
      for (const f of r.added) say(a, `added     packages/${r.project}/${f}`);
      say(a, `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
      return;
    }
    const { addFiles } = await import('../commands/add.js');
    const bar = progressBar(a);
    const r = await addFiles(a.dir, a.files, { onProgress: bar.update, onlineKey: a['online-key'] }).finally(() => bar.stop());
    if (a.json) return printJson(r);
    for (const f of r.files) say(a, `${f.status === 'unchanged' ? 'unchanged' : f.status.padEnd(9)} ${f.targetPath}  sha256:${f.sha256}${f.status === 'restored' ? '  (withdrawn before; identical bytes restored)' : ''}`);
    say(a, r.commit.noop ? 'nothing to publish' : `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
  },
};

const sync: CommandModule<object, Common & { folder: string; strict?: boolean }> = {
  command: 'sync <dir> <folder>',
  describe: 'publish every distribution under FOLDER in one transaction (adopt an existing index folder)',
  builder: (y) =>
    onlineKey(json(dirArg(y)).positional('folder', { type: 'string', demandOption: true }))
      .option('strict', { type: 'boolean', describe: 'all or nothing: refuse the whole folder if it has a new file of a developer-signed project' })
      .epilog(
        'New files of developer-signed (PEP 480) projects are left out, one line each, and everything else is published; the exit code is then 5 ("partial"). Files already published with the same bytes are no-ops. --strict refuses the whole folder instead (exit 1).',
      ) as never,
  handler: async (a) => {
    const { syncFolder, partialSyncError } = await import('../commands/add.js');
    const bar = progressBar(a);
    const r = await syncFolder(a.dir, a.folder, { onProgress: bar.update, onlineKey: a['online-key'], strict: a.strict }).finally(() => bar.stop());
    if (a.json) printJson({ ...r, partial: r.leftOut.length > 0 });
    else {
      for (const f of r.leftOut) note(a, `left out ${f.file}: ${f.reason}`);
      const added = r.files.filter((f) => f.status === 'added').length;
      const restored = r.files.filter((f) => f.status === 'restored').length;
      say(a, `${added} added, ${restored ? `${restored} restored (identical bytes of withdrawn files), ` : ''}${r.files.length - added - restored} unchanged, ${r.skipped.length} other files skipped${r.leftOut.length ? `, ${r.leftOut.length} left out (developer-signed projects)` : ''}`);
      say(a, r.commit.noop ? 'nothing to publish' : `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
    }
    if (r.leftOut.length) throw partialSyncError(r.leftOut);
  },
};

const remove: CommandModule<object, Common & { project: string; version?: string; file?: string }> = {
  command: 'remove <dir> <project>',
  describe: 'withdraw a project, one version (--version) or one file (--file)',
  builder: (y) =>
    onlineKey(json(dirArg(y)).positional('project', { type: 'string', demandOption: true }))
      .option('version', { type: 'string', describe: 'remove every file that ==VERSION selects (PEP 440: 1.0 matches 1.0.0 and 1.0+local)' })
      .option('file', { type: 'string', describe: 'remove this one file' })
      .conflicts('version', 'file') as never,
  handler: async (a) => {
    const { removeFiles } = await import('../commands/remove.js');
    const r = await removeFiles(a.dir, a.project, { version: a.version, file: a.file, onlineKey: a['online-key'] });
    if (a.json) return printJson(r);
    for (const f of r.removed) say(a, `removed ${f}`);
    if (r.projectRemoved) say(a, `project ${r.project} has no files left and was removed from the index`);
    say(a, `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
  },
};

type YankArgs = Common & { project: string; version: string; reason?: string };
const yankBuilder = (y: Argv, reason: boolean) => {
  const b = onlineKey(json(dirArg(y)).positional('project', { type: 'string', demandOption: true })).option('version', {
    type: 'string',
    demandOption: true,
    describe: 'every file of this version (compared as normalised versions)',
  });
  return reason ? b.option('reason', { type: 'string', describe: 'PEP 592 reason installers are shown (one line)' }) : b;
};
function printYank(a: YankArgs, r: import('../commands/yank.js').YankResult, verb: string): void {
  if (a.json) return printJson(r);
  for (const f of r.changed) say(a, `${verb} ${f}`);
  for (const f of r.unchanged) say(a, `already ${verb} ${f}`);
  say(a, r.commit.noop ? 'nothing to publish' : `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
}

const yank: CommandModule<object, YankArgs> = {
  command: 'yank <dir> <project>',
  describe: 'PEP 592: mark every file of a version as yanked on the simple page (pip skips it unless pinned with ==); any project, developer-signed ones too',
  builder: (y) => yankBuilder(y, true) as never,
  handler: async (a) => {
    const { yankVersion } = await import('../commands/yank.js');
    printYank(a, await yankVersion(a.dir, a.project, { version: a.version, reason: a.reason, onlineKey: a['online-key'] }), 'yanked');
  },
};

const unyank: CommandModule<object, YankArgs> = {
  command: 'unyank <dir> <project>',
  describe: 'PEP 592: undo yank for every file of a version',
  builder: (y) => yankBuilder(y, false) as never,
  handler: async (a) => {
    const { unyankVersion } = await import('../commands/yank.js');
    printYank(a, await unyankVersion(a.dir, a.project, { version: a.version, onlineKey: a['online-key'] }), 'unyanked');
  },
};

const bumpCmd: CommandModule<object, Common & { force?: boolean }> = {
  command: 'bump <dir>',
  describe: 'cron job: re-sign online roles with less than half their period left; warn (exit 3) on expiring offline roles',
  builder: (y) => onlineKey(json(dirArg(y)).option('force', { type: 'boolean', describe: 're-sign every online role now' })) as never,
  handler: async (a) => {
    const { bump, offlineWarningError } = await import('../commands/bump.js');
    const r = await bump(a.dir, { force: a.force, onlineKey: a['online-key'] });
    if (a.json) printJson(r);
    else say(a, r.commit.noop ? 'nothing due' : `re-signed ${summariseRoles(r.resigned)}; timestamp ${r.commit.timestampVersion}`);
    if (r.warnings.length) throw offlineWarningError(r.warnings);
  },
};

function summariseRoles(roles: string[]): string {
  const bins = roles.filter((r) => /^bin-/.test(r)).length;
  const rest = roles.filter((r) => !/^bin-/.test(r));
  return [...(bins ? [`${bins} bin${bins > 1 ? 's' : ''}`] : []), ...rest].join(', ');
}

const status: CommandModule<object, Common> = {
  command: 'status <dir>',
  describe: 'per role: version, expiry, keys, threshold, signatures, size against client limits, warnings',
  builder: (y) => json(dirArg(y)) as never,
  handler: async (a) => {
    const { repoStatus } = await import('../commands/status.js');
    const r = await repoStatus(a.dir);
    if (a.json) return printJson(r);
    say(a, `${r.dir}  ${r.url}  (${r.bins} bins; published at ${r.storage.where}${r.storage.plainNames ? '' : ', hash-named only: TUF clients'})`);
    say(a, `${'role'.padEnd(24)} ${'ver'.padStart(5)} ${'expires'.padEnd(21)} ${'days'.padStart(6)}  sigs  keys                  bytes`);
    for (const s of r.roles) {
      say(a, `${s.role.padEnd(24)} ${String(s.version).padStart(5)} ${s.expires.padEnd(21)} ${String(s.daysLeft).padStart(6)}  ${s.validSignatures}/${s.threshold}   ${s.keyids.join(',').padEnd(21)} ${s.bytes}${s.limit ? `/${s.limit}` : ''}`);
    }
    say(a, `${'bin-*'.padEnd(24)} ${String(r.binsSummary.count).padStart(5)} bins, earliest expiry ${r.binsSummary.earliestExpiry}, ${r.binsSummary.targets} targets, largest ${r.binsSummary.largestBytes} bytes`);
    if (r.projects.developerSigned.length) say(a, `developer-signed projects (PEP 480): ${r.projects.developerSigned.join(', ')}`);
    const h = r.history;
    say(a, `history: snapshots ${h.oldestSnapshot}..${h.newestSnapshot} published (${h.versions} versions${h.oldestWritten ? `, oldest written ${h.oldestWritten}` : ''}); 'gc --keep' removes older ones: watchers ('tufpip watch run') must run more often than that`);
    for (const w of r.warnings) say(a, `warning: ${w}`);
  },
};

const verify: CommandModule<object, OutputFlags & { dir?: string; url?: string; root?: string }> = {
  command: 'verify [dir]',
  describe: 'check the published repository the way a client does (local DIR, or --url with --root)',
  builder: (y) =>
    json(y)
      .positional('dir', { type: 'string', describe: 'repository directory' })
      .option('url', { type: 'string', describe: 'verify a served repository at this base URL instead' })
      .option('root', { type: 'string', describe: 'trusted root.json to start from (required with --url)' }) as never,
  handler: async (a) => {
    const { verifyRepo, verifyFailedError } = await import('../commands/verify.js');
    const bar = progressBar(a);
    let r;
    if (a.url) {
      if (!a.root) throw new TufpipError('USAGE', 'verify --url needs --root ROOT.json (the root you trust)');
      const { verifyRemote } = await import('../commands/verify-remote.js');
      r = await verifyRemote(a.url, a.root, { onProgress: bar.update }).finally(() => bar.stop());
    } else {
      if (!a.dir) throw new TufpipError('USAGE', 'verify needs a repository DIR, or --url URL --root ROOT.json');
      r = await verifyRepo(a.dir, { root: a.root, onProgress: bar.update }).finally(() => bar.stop());
    }
    if (a.json) printJson(r);
    else {
      say(a, `root v${r.rootVersion}, timestamp v${r.timestampVersion}, snapshot v${r.snapshotVersion}: ${r.roles} roles, ${r.targets} targets, ${r.filesChecked} files checked`);
      for (const w of r.warnings) say(a, `warning: [${w.kind}] ${w.message}`);
      if (r.ok) say(a, 'OK');
    }
    if (!r.ok) throw verifyFailedError(r);
  },
};

const serve: CommandModule<object, Common & { host: string; port: number; 'timestamp-max-age'?: number; 'page-max-age'?: number }> = {
  command: 'serve <dir>',
  describe: 'serve site/ over plain HTTP, on loopback unless --host says otherwise (production: TLS in front, docs/serving.md)',
  builder: (y) =>
    dirArg(y)
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on: 127.0.0.1 (loopback only), 0.0.0.0 or :: for every interface, or one address' })
      .option('port', { type: 'number', default: 8080, describe: 'port to listen on (0: any free port)' })
      .option('quiet', { type: 'boolean', describe: 'do not log requests' })
      .option('timestamp-max-age', { type: 'number', describe: 'seconds a cache (CDN) may serve timestamp.json (default: config.json cache.headMaxAge, else 60; docs/cdn.md)' })
      .option('page-max-age', { type: 'number', describe: 'seconds a cache may serve plain-named pages and files (default: config.json cache.mutableMaxAge, else 60)' }) as never,
  handler: async (a) => {
    const { serveRepo } = await import('../commands/serve.js');
    const { isLoopbackHost } = await import('../../io/loopback-host.js');
    const cache: { headMaxAge?: number; mutableMaxAge?: number } = {};
    for (const [flag, key] of [['timestamp-max-age', 'headMaxAge'], ['page-max-age', 'mutableMaxAge']] as const) {
      const v = a[flag];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 0) throw new TufpipError('USAGE', `--${flag} takes a whole number of seconds, got ${JSON.stringify(v)}`);
      cache[key] = v;
    }
    const s = await serveRepo(a.dir, { host: a.host, port: a.port, cache, log: a.quiet ? undefined : (l) => process.stderr.write(l + '\n') });
    process.stdout.write(`serving ${path.resolve(a.dir, 'site')} at ${s.url} (pip: --index-url ${s.url}simple/)\n`);
    if (!isLoopbackHost(a.host)) process.stderr.write('note: plain HTTP on a network address: in production put a TLS reverse proxy in front and listen on loopback (docs/serving.md)\n');
    await new Promise<void>((resolve) => {
      const stop = () => void s.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};

const move: CommandModule<object, Common & { to: string; url?: string } & S3Args> = {
  command: 'move <dir>',
  describe: 'move the published tree and private state to a bucket (--to s3://BUCKET/PREFIX) or back to DIR/site (--to local); the old copy is kept',
  builder: (y) =>
    json(dirArg(y))
      .option('to', { type: 'string', demandOption: true, describe: "the destination: s3://BUCKET/PREFIX, or 'local' for DIR/site" })
      .option('url', { type: 'string', describe: 'the URL the destination is served at (default: config.json url, unchanged)' })
      .options(s3Options('--to s3://...')) as never,
  handler: async (a) => {
    const { moveRepo } = await import('../commands/move.js');
    if (a.to !== 'local' && !a.to.startsWith('s3://')) throw new TufpipError('USAGE', `--to takes s3://BUCKET/PREFIX or 'local', got ${JSON.stringify(a.to)}`);
    const to = await s3LocationOf(a.to === 'local' ? undefined : a.to, a, '--to');
    const bar = progressBar(a);
    const r = await moveRepo(a.dir, { to, url: a.url, onProgress: (done, total) => bar.update(done, total, 'moving') }).finally(() => bar.stop());
    if (a.json) return printJson(r);
    say(a, `moved ${r.from} -> ${r.to}: ${r.metadataObjects} metadata files, ${r.contentObjects} hash-named pages and files, ${r.plainNames} plain names, timestamp ${r.timestampVersion}`);
    say(a, `serve it at ${r.url}; the old copy stays at ${r.sourceKept} (remove it once clients use the new URL)`);
  },
};

const gc: CommandModule<object, Common & { keep: string; 'dry-run'?: boolean }> = {
  command: 'gc <dir>',
  describe: 'remove unreferenced old metadata versions and files (never a root)',
  builder: (y) =>
    json(dirArg(y))
      .option('keep', { type: 'string', default: '7d', describe: 'keep unreferenced files younger than this (7d, 12h, 30m)' })
      .option('dry-run', { type: 'boolean', describe: 'list what would be removed' }) as never,
  handler: async (a) => {
    const { gcRepo, parseDuration } = await import('../commands/gc.js');
    const r = await gcRepo(a.dir, { keepMs: parseDuration(a.keep), dryRun: a['dry-run'] });
    if (a.json) return printJson(r);
    for (const f of r.removed) say(a, `${r.dryRun ? 'would remove' : 'removed'} ${f}`);
    say(a, `${r.removed.length} files (${r.bytesFreed} bytes) ${r.dryRun ? 'would be ' : ''}removed, ${r.kept} unreferenced files kept (younger than --keep)`);
  },
};

const claim: CommandModule<object, Common & { project: string; key: string[]; threshold: number; 'offline-key'?: string; recent?: boolean; 'passphrase-env'?: string }> = {
  command: 'claim <dir> <project>',
  describe: 'PEP 480: make a project developer-signed (its maintainers\' keys and threshold); same command to change them',
  builder: (y) =>
    onlineKey(json(dirArg(y)).positional('project', { type: 'string', demandOption: true }))
      .option('key', { type: 'string', array: true, demandOption: true, describe: 'a maintainer public key (NAME.pub.json); repeat' })
      .option('threshold', { type: 'number', demandOption: true, describe: 'signatures a release needs' })
      .option('offline-key', { type: 'string', describe: 'the claimed role\'s offline private key (PEM file)' })
      .option('passphrase-env', { type: 'string', describe: 'passphrase of the offline key, from this environment variable' })
      .option('recent', { type: 'boolean', describe: 'record it in the online recently-claimed role (no offline key; promote later)' })
      .conflicts('recent', 'offline-key') as never,
  handler: async (a) => {
    const { claimProject } = await import('../commands/claim.js');
    const r = await claimProject(a.dir, a.project, { keyFiles: a.key, threshold: a.threshold, offlineKey: a['offline-key'], passphraseEnv: a['passphrase-env'], recent: a.recent, onlineKey: a['online-key'] });
    if (a.json) return printJson(r);
    say(a, `${r.project} is developer-signed: ${r.role} in ${r.delegatedBy}, ${r.threshold} of keys ${r.keyids.map(shortKeyId).join(', ')}`);
    if (r.afterTakedown) note(a, `${r.project} was taken down: until its maintainers publish a release signed with these keys (release sign --fresh --index URL, then add --signed), TUF clients refuse its files`);
    if (r.revived.length) note(a, `warning: ${r.revived.join(', ')} (left in the snapshot by a takedown) verify with these keys and are delegated again, with the releases they list, until the maintainers publish a release signed with release sign --fresh`);
    if (r.unsignedFiles.length) say(a, `${r.unsignedFiles.length} file(s) published before the claim stay on disk but are served to TUF clients only once a maintainer signs them: ${r.unsignedFiles.join(', ')}`);
    say(a, 'maintainers publish with: tufpip-repo release sign ... then tufpip-repo add DIR --signed P.release.json FILES');
  },
};

const takedown: CommandModule<object, Common & { project: string; 'offline-key'?: string; 'passphrase-env'?: string }> = {
  command: 'takedown <dir> <project>',
  describe: 'emergency takedown of a developer-signed project (PEP 480): revoke its maintainers\' keys (the name stays delegated to the operator\'s key), remove its files, in one transaction',
  builder: (y) =>
    onlineKey(json(dirArg(y)).positional('project', { type: 'string', demandOption: true }))
      .option('offline-key', { type: 'string', describe: 'the claimed role\'s offline private key (PEM file); not needed for a recently-claimed project' })
      .option('passphrase-env', { type: 'string', describe: 'passphrase of the offline key, from this environment variable' })
      .epilog(
        'Its page keeps listing the files: TUF installers (tufpip install, tufpip proxy) asking for the project then get missing-developer-signature ("the index may be compromised"), on purpose; plain pip gets 404 for the files. ' +
          'The maintainers re-establish the project with: claim (new keys), release sign --fresh --index URL, add --signed (docs/runbook.md, "Emergency takedown").',
      ) as never,
  handler: async (a) => {
    const { takedownProject } = await import('../commands/takedown.js');
    const r = await takedownProject(a.dir, a.project, { offlineKey: a['offline-key'], passphraseEnv: a['passphrase-env'], onlineKey: a['online-key'] });
    if (a.json) return printJson(r);
    say(a, `revoked the maintainers' keys of ${r.project}: project-${r.project} in ${r.revokedFrom} now names only key ${shortKeyId(r.keyid)}, and its version ${r.projectVersion} lists nothing`);
    for (const f of r.removed) say(a, `removed ${f}`);
    say(a, `the page of ${r.project} stays, listing the removed files: TUF installers get the missing-developer-signature alarm; ${r.orphanedRoles.length} release role(s) stay in the snapshot, no longer delegated`);
    say(a, `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
  },
};

const promote: CommandModule<object, Common & { 'offline-key'?: string; 'passphrase-env'?: string }> = {
  command: 'promote <dir>',
  describe: 'PEP 480: move every recently-claimed project into the offline claimed role',
  builder: (y) =>
    onlineKey(json(dirArg(y)))
      .option('offline-key', { type: 'string', demandOption: true, describe: 'the claimed role\'s offline private key (PEM file)' })
      .option('passphrase-env', { type: 'string' }) as never,
  handler: async (a) => {
    const { promoteProjects } = await import('../commands/claim.js');
    const r = await promoteProjects(a.dir, { offlineKey: a['offline-key'], passphraseEnv: a['passphrase-env'], onlineKey: a['online-key'] });
    if (a.json) return printJson(r);
    say(a, r.promoted.length ? `promoted ${r.promoted.join(', ')} to claimed` : 'nothing recently claimed');
  },
};

type ReleaseArgs = OutputFlags & { action: string; transition?: string[]; previous?: string; 'old-key'?: string[]; 'old-threshold'?: number; 'new-key'?: string[]; 'new-threshold'?: number; files?: string[]; project?: string; key?: string; out?: string; from?: string; index?: string; root?: string; 'maintainer-key'?: string[]; threshold?: number; expires?: number; 'add-signature'?: string; 'passphrase-env'?: string; fresh?: boolean };
const release: CommandModule<object, ReleaseArgs> = {
  command: 'release <action> [files..]',
  describe: 'PEP 480 maintainers: `release sign` a release, `release sign --add-signature`, `release status BUNDLE [--index URL]`, `release rotate-keys` (a key transition lockfiles accept)',
  builder: (y) =>
    json(y)
      .positional('action', { choices: ['sign', 'status', 'rotate-keys'], demandOption: true })
      .positional('files', { type: 'string', array: true, describe: 'release files (sign) or the bundle (status)' })
      .option('project', { type: 'string', describe: 'project name' })
      .option('key', { type: 'string', describe: 'your private key (PEM file)' })
      .option('passphrase-env', { type: 'string', describe: 'passphrase of your key, from this environment variable' })
      .option('out', { type: 'string', describe: 'bundle to write (P.release.json)' })
      .option('from', { type: 'string', describe: 'current project metadata: the previous bundle, or a copy of the index\'s metadata folder' })
      .option('index', { type: 'string', describe: 'read the current project metadata from this index URL' })
      .option('root', { type: 'string', describe: "the index's root.json you trust, to verify the keys it registered for the project (default: its 1.root.json)" })
      .option('maintainer-key', { type: 'string', array: true, describe: 'every maintainer public key (first release, or to change keys)' })
      .option('threshold', { type: 'number', describe: 'signatures a release needs (with --maintainer-key)' })
      .option('expires', { type: 'number', describe: 'days until the signed metadata expires (default 365)' })
      .option('add-signature', { type: 'string', describe: 'add your signature to this existing bundle' })
      .option('fresh', { type: 'boolean', describe: 'start the project over (after a takedown): carry no earlier release, continue the version numbers read from --index/--from' })
      .option('transition', { type: 'string', array: true, describe: 'sign: key transition file(s) from rotate-keys for the project role to list (publish them with add --signed)' })
      .option('previous', { type: 'string', describe: "rotate-keys: the project's previous transition file (its new keys are the old keys now)" })
      .option('old-key', { type: 'string', array: true, describe: "rotate-keys: every current maintainer public key (first transition)" })
      .option('old-threshold', { type: 'number', describe: 'rotate-keys: signatures the current keys need (with --old-key)' })
      .option('new-key', { type: 'string', array: true, describe: 'rotate-keys: every new maintainer public key' })
      .option('new-threshold', { type: 'number', describe: 'rotate-keys: signatures the new keys need' }) as never,
  handler: async (a) => {
    const rel = await import('../commands/release.js');
    let status;
    if (a.action === 'rotate-keys') {
      if (!a.key || !a.out) throw new TufpipError('USAGE', 'release rotate-keys needs --key and --out (the transition file: written if absent, else signed)');
      const { rotateKeys } = await import('../commands/rotate-keys.js');
      const r = await rotateKeys({ project: a.project, key: a.key, passphraseEnv: a['passphrase-env'], out: a.out, previous: a.previous, oldKeys: a['old-key'], oldThreshold: a['old-threshold'], newKeys: a['new-key'], newThreshold: a['new-threshold'] });
      if (a.json) return printJson(r);
      say(a, `${r.project} key transition ${r.sequence}: old keys ${r.old.signed} of ${r.old.threshold}, new keys ${r.new.signed} of ${r.new.threshold} signatures${r.complete ? ' — complete' : ' — needs more'}`);
      return;
    }
    if (a.action === 'status') {
      const file = a.files?.[0];
      if (!file) throw new TufpipError('USAGE', 'release status BUNDLE.json');
      const bundle = await rel.loadBundle(file);
      if (a.index || a.from) {
        // Count the project role against what the index registers now (it may differ from the bundle's note).
        const { registeredMaintainers } = await import('../commands/registered-maintainers.js');
        const registered = await registeredMaintainers({ index: a.index, from: a.from }, bundle.project, a.root);
        if (registered) bundle.registered = registered;
      }
      status = rel.bundleStatus(bundle);
    } else if (a['add-signature']) {
      if (!a.key) throw new TufpipError('USAGE', '--add-signature needs --key');
      status = await rel.releaseAddSignature(a['add-signature'], a.key, a['passphrase-env']);
    } else {
      if (!a.project || !a.key || !a.out) throw new TufpipError('USAGE', 'release sign needs --project, --key, --out and the release files');
      status = (await rel.releaseSign({ project: a.project, key: a.key, passphraseEnv: a['passphrase-env'], files: a.files ?? [], out: a.out, from: a.from, index: a.index, root: a.root, maintainerKeys: a['maintainer-key'], threshold: a.threshold, expiresDays: a.expires, fresh: a.fresh, transitions: a.transition })).status;
    }
    if (a.json) return printJson(status);
    for (const s of status) {
      say(a, `${s.role} v${s.version}: ${s.signedBy.length} of ${s.threshold} signatures (${s.signedBy.map(shortKeyId).join(', ') || 'none'})${s.complete ? '' : ' — needs more'}`);
    }
  },
};

export const repoCommands = [keygen, init, add, sync, remove, yank, unyank, bumpCmd, status, verify, serve, gc, move, claim, takedown, promote, release, ...offlineCommands] as CommandModule[];
