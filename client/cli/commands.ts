// The `tufpip` commands: thin yargs modules (nx / lerna style). Handlers parse flags, call the
// implementation (imported lazily) and print; they throw on failure and never exit (main.ts maps
// errors to exit codes). `clientCommands` is the list main.ts registers; the pip-facing commands
// (fetch, install, proxy) come from pip-commands.ts.
import type { Argv, CommandModule } from 'yargs';
import { shortKeyId } from '../../metadata/short-key-id.js';
import { printJson, say, type OutputFlags } from '../../io/cli/output.js';
import { downloadProgress } from '../../io/cli/progress.js';
import { watchCommand } from '../commands/watch-commands.js';

/** Options every command sees (declared in main.ts). */
export interface GlobalFlags extends OutputFlags {
  'data-dir'?: string;
}

const json = <T>(y: Argv<T>) => y.option('json', { type: 'boolean', describe: 'print machine-readable JSON on stdout' });
const allowHttp = <T>(y: Argv<T>) =>
  y.option('allow-http', { type: 'boolean', describe: 'accept a plain-HTTP URL to a host other than loopback' });

// --- trust ---------------------------------------------------------------------------------------

type TrustAddFlags = GlobalFlags & { url: string; root: string; name?: string; 'allow-http'?: boolean; 'token-env'?: string; 'auth-env'?: string; check: boolean };

const trustAdd: CommandModule<object, TrustAddFlags> = {
  command: 'add <url>',
  describe: 'trust an index: store the root.json you got out of band (checked: self-signed to threshold)',
  builder: (y) =>
    allowHttp(json(y))
      .positional('url', { type: 'string', demandOption: true, describe: 'index base URL (metadata at URL/metadata/); USER:PASSWORD@ in it is stored apart (0600), never in the trust data' })
      .option('root', { type: 'string', demandOption: true, describe: 'the trusted root.json (e.g. 1.root.json from the operator)' })
      .option('name', { type: 'string', describe: 'name for the index (default: host[:port])' })
      .option('token-env', { type: 'string', describe: 'store the bearer token held by this environment variable as the index credentials' })
      .option('auth-env', { type: 'string', describe: 'store USER:PASSWORD held by this environment variable as the index credentials' })
      .option('check', { type: 'boolean', default: true, describe: 'with credentials (from any source), check them with a TUF update cycle first; --no-check skips it' }) as never,
  handler: async (a) => {
    const { trustAdd: add, describeCredentials } = await import('../commands/trust.js');
    const r = await add(a.url, a.root, { dataDir: a['data-dir'], name: a.name, allowHttp: a['allow-http'], tokenEnv: a['token-env'], authEnv: a['auth-env'], check: a.check });
    if (a.json) return printJson(r);
    say(a, `trusted ${r.name}: ${r.url}`);
    say(a, `  root version ${r.rootVersion}, sha256 ${r.initialRoot.sha256}`);
    say(a, `  stored in ${r.dir}`);
    if (r.credentials.source !== 'none') say(a, `  credentials: ${describeCredentials(r.credentials)}${r.checked ? ', checked against the index' : ', not checked'}`);
  },
};

const trustList: CommandModule<object, GlobalFlags> = {
  command: 'list',
  describe: 'list trusted indexes, their current root version and root history',
  builder: (y) => json(y) as never,
  handler: async (a) => {
    const { trustList: list, describeCredentials } = await import('../commands/trust.js');
    const all = await list({ dataDir: a['data-dir'] });
    if (a.json) return printJson(all);
    if (!all.length) return say(a, "no trusted indexes (add one with 'tufpip trust add URL --root ROOT.json')");
    for (const i of all) {
      say(a, `${i.name}  ${i.url}  root v${i.rootVersion} (expires ${i.rootExpires}; history ${i.rootHistory.join(', ')})  added ${i.addedAt}  credentials: ${describeCredentials(i.credentials)}`);
    }
  },
};

const trustRemove: CommandModule<object, GlobalFlags & { name: string }> = {
  command: 'remove <name>',
  describe: 'forget a trusted index (its root, cached metadata and root history)',
  builder: (y) => json(y).positional('name', { type: 'string', demandOption: true }) as never,
  handler: async (a) => {
    const { trustRemove: remove } = await import('../commands/trust.js');
    const r = await remove(a.name, { dataDir: a['data-dir'] });
    if (a.json) return printJson(r);
    say(a, `removed ${r.name} (${r.url})`);
  },
};

const trust: CommandModule = {
  command: 'trust <command>',
  describe: 'manage trusted indexes (roots obtained out of band)',
  builder: (y) => y.command([trustAdd, trustList, trustRemove] as CommandModule[]).demandCommand(1, 'give a trust command (add, list, remove)'),
  handler: () => undefined,
};

// --- tuf (conformance client CLI) ------------------------------------------------------------------

interface TufFlags extends GlobalFlags {
  'metadata-dir': string;
  'metadata-url'?: string;
  'allow-http'?: boolean;
  'idle-timeout'?: number;
}

async function tufCommon(a: TufFlags, progress?: (p: string, r: number, t: number) => void) {
  if (!a['metadata-url']) throw Object.assign(new Error('--metadata-url is required'), { code: 'USAGE' });
  const { idleTimeoutFromEnv } = await import('../../io/idle-timeout.js');
  return {
    metadataDir: a['metadata-dir'],
    metadataUrl: a['metadata-url'],
    allowHttp: a['allow-http'],
    idleTimeoutMs: a['idle-timeout'] !== undefined ? a['idle-timeout'] * 1000 : idleTimeoutFromEnv(),
    onProgress: progress,
  };
}

const tufInit: CommandModule<object, TufFlags & { 'trusted-root': string }> = {
  command: 'init <trusted-root>',
  describe: 'store TRUSTED_ROOT as METADATA_DIR/root.json (no network)',
  builder: (y) => json(y).positional('trusted-root', { type: 'string', demandOption: true }) as never,
  handler: async (a) => {
    const { tufInit: init } = await import('../commands/tuf.js');
    const r = await init(a['trusted-root'], a['metadata-dir']);
    if (a.json) return printJson(r);
    say(a, `initialised ${r.metadataDir} with root version ${r.version} (keys ${r.keyids.map(shortKeyId).join(', ')}, threshold ${r.threshold})`);
  },
};

const tufRefresh: CommandModule<object, TufFlags> = {
  command: 'refresh',
  describe: 'update top-level metadata from METADATA_URL (TUF client workflow 5.1-5.6)',
  builder: (y) => json(y) as never,
  handler: async (a) => {
    const { tufRefresh: refresh } = await import('../commands/tuf.js');
    const r = await refresh(await tufCommon(a));
    if (a.json) return printJson({ ok: true, ...r });
    say(a, `refreshed ${a['metadata-dir']}`);
  },
};

const tufDownload: CommandModule<object, TufFlags & { 'target-name': string[]; 'target-base-url': string; 'target-dir': string }> = {
  command: 'download',
  describe: 'refresh, then download and verify each --target-name into TARGET_DIR (a valid copy already there is kept)',
  builder: (y) =>
    json(y)
      .option('target-name', { type: 'string', array: true, demandOption: true, describe: 'TUF target path (repeatable)' })
      .option('target-base-url', { type: 'string', demandOption: true, describe: 'base URL of the target files' })
      .option('target-dir', { type: 'string', demandOption: true, describe: 'where verified files are written' }) as never,
  handler: async (a) => {
    const { tufDownload: download } = await import('../commands/tuf.js');
    const bar = downloadProgress(a);
    const r = await download({
      ...(await tufCommon(a, bar.onProgress)),
      targetNames: a['target-name'],
      targetBaseUrl: a['target-base-url'],
      targetDir: a['target-dir'],
    }).finally(() => bar.stop());
    if (a.json) return printJson(r);
    for (const t of r) {
      const v = t.vouchedBy;
      say(a, `${t.downloaded ? 'downloaded' : 'up to date'} ${t.path} -> ${t.file}  sha256:${t.sha256}  (${v.role}: ${v.signedBy.map(shortKeyId).join(', ')}, threshold ${v.threshold})`);
    }
  },
};

const tuf: CommandModule<object, TufFlags> = {
  command: 'tuf <command>',
  describe: 'low-level TUF client commands (the conformance client CLI: exit 0 success, 1 failure)',
  builder: (y) =>
    allowHttp(y)
      .option('metadata-dir', { type: 'string', demandOption: true, describe: 'local trusted metadata directory' })
      .option('metadata-url', { type: 'string', describe: 'base URL of the repository metadata' })
      .option('idle-timeout', { type: 'number', describe: 'seconds without data before a download is abandoned (default $TUFPIP_IDLE_TIMEOUT_MS ms, else 30 s)' })
      .command([tufInit, tufRefresh, tufDownload] as CommandModule[])
      .demandCommand(1, 'give a tuf command (init, refresh, download)') as never,
  handler: () => undefined,
};

/** The `tufpip` commands of this module; main.ts appends the pip-facing ones. */
export const clientCommands: CommandModule[] = [trust, watchCommand, tuf as CommandModule];
