// The `tufpip watch` yargs modules (thin: implementations in watch.ts and client/watch/).
import type { Argv, CommandModule } from 'yargs';
import { printJson, say, note } from '../../io/cli/output.js';
import type { GlobalFlags } from '../cli/commands.js';

type IndexFlags = GlobalFlags & { index?: string; 'allow-http'?: boolean };
const withIndex = <T>(y: Argv<T>) =>
  y
    .option('index', { type: 'string', describe: 'trusted index name or URL (default: the only trusted index; run: every watched index)' })
    .option('json', { type: 'boolean', describe: 'machine-readable output on stdout' });

const add: CommandModule<object, IndexFlags & { patterns?: string[] }> = {
  command: 'add [patterns..]',
  describe: 'watch projects (PROJECT or PREFIX*) of a trusted index; none: every project',
  builder: (y) => withIndex(y).positional('patterns', { type: 'string', array: true }) as never,
  handler: async (a) => {
    const { watchAdd } = await import('./watch.js');
    const r = await watchAdd(a.patterns ?? [], { index: a.index, dataDir: a['data-dir'] });
    if (a.json) return printJson(r);
    say(a, `watching ${r.patterns.join(', ')} on ${r.index} (${r.url}); run 'tufpip watch run' (from cron) to report changes`);
  },
};

const remove: CommandModule<object, IndexFlags & { patterns?: string[] }> = {
  command: 'remove [patterns..]',
  describe: 'stop watching these patterns; none: stop watching the index (its watch state is removed)',
  builder: (y) => withIndex(y).positional('patterns', { type: 'string', array: true }) as never,
  handler: async (a) => {
    const { watchRemove } = await import('./watch.js');
    const r = await watchRemove(a.patterns ?? [], { index: a.index, dataDir: a['data-dir'] });
    if (a.json) return printJson(r);
    say(a, `stopped watching ${r.removed.join(', ')} on ${r.index}${r.watching ? '' : ' (the index is no longer watched)'}`);
  },
};

const list: CommandModule<object, GlobalFlags> = {
  command: 'list',
  describe: 'list watched indexes, patterns, expectations and the last run',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output on stdout' }) as never,
  handler: async (a) => {
    const { watchList } = await import('./watch.js');
    const all = await watchList({ dataDir: a['data-dir'] });
    if (a.json) return printJson(all);
    if (!all.length) return say(a, "nothing watched (add with 'tufpip watch add --index NAME [PROJECT|PREFIX*...]')");
    for (const w of all) {
      const expect = Object.entries(w.expect).map(([p, n]) => `${p}: ${n}`).join(', ');
      say(a, `${w.index}  ${w.url}  watching ${w.patterns.join(', ')}${expect ? `  expected hashes ${expect}` : ''}  ${w.lastRun ? `last run ${w.lastRun} at snapshot ${w.snapshotVersion}` : 'never run'}`);
    }
  },
};

const expect: CommandModule<object, IndexFlags & { project: string; sha256?: string[]; from?: string }> = {
  command: 'expect <project>',
  describe: 'pre-authorize files of a project by sha256: others appearing index-signed are alarms',
  builder: (y) =>
    withIndex(y)
      .positional('project', { type: 'string', demandOption: true })
      .option('sha256', { type: 'string', array: true, describe: 'expected file hash (repeatable)' })
      .option('from', { type: 'string', describe: 'file of hashes: one per line, or sha256sum output' }) as never,
  handler: async (a) => {
    const { watchExpect, readExpectedHashes } = await import('./watch.js');
    const r = await watchExpect(a.project, await readExpectedHashes(a.sha256 ?? [], a.from), { index: a.index, dataDir: a['data-dir'] });
    if (a.json) return printJson(r);
    say(a, `${r.project} on ${r.index}: ${r.added} hash(es) added, ${r.expected} expected`);
  },
};

const exportCmd: CommandModule<object, IndexFlags & { out?: string }> = {
  command: 'export',
  describe: "write this watcher's observed (role, version, sha256) log as JSON lines (for another watcher's compare)",
  builder: (y) => withIndex(y).option('out', { type: 'string', describe: 'write to FILE (default stdout)' }) as never,
  handler: async (a) => {
    const { watchExport, exportLines } = await import('./watch.js');
    const r = await watchExport({ index: a.index, dataDir: a['data-dir'] });
    const text = exportLines(r.observations);
    if (a.out) {
      const { writeFileAtomic } = await import('../../io/atomic-file.js');
      await writeFileAtomic(a.out, text);
      note(a, `wrote ${r.observations.length} observations of ${r.index} to ${a.out}`);
    } else process.stdout.write(text);
  },
};

const compare: CommandModule<object, IndexFlags & { file: string }> = {
  command: 'compare <file>',
  describe: "compare another watcher's exported log with this one's: a version seen with different bytes is a fork (exit 1)",
  builder: (y) => withIndex(y).positional('file', { type: 'string', demandOption: true }) as never,
  handler: async (a) => {
    const { watchCompare } = await import('./watch.js');
    const { WatchExit } = await import('../watch/watch-exit.js');
    const r = await watchCompare(a.file, { index: a.index, dataDir: a['data-dir'] });
    if (a.json) for (const e of r.forks) process.stdout.write(JSON.stringify(e) + '\n');
    else {
      for (const e of r.forks) say(a, `ALARM  fork  ${e.message}`);
      say(a, `compared ${r.compared} observations, ${r.common} in common: ${r.forks.length ? `${r.forks.length} FORK(S)` : 'no disagreement'}`);
    }
    if (r.forks.length) throw new WatchExit(1, `${r.forks.length} fork(s) found: the index showed the two watchers different histories`);
  },
};

type RunFlags = IndexFlags & { atom?: string; webhook?: string; 'expiry-days': number; every?: string };

const run: CommandModule<object, RunFlags> = {
  command: 'run',
  describe: 'verify the index and report what changed since the last run (exit 0 no alarm, 1 alarms, 2 verification errors)',
  builder: (y) =>
    withIndex(y)
      .option('allow-http', { type: 'boolean', describe: 'accept a plain-HTTP URL to a host other than loopback' })
      .option('atom', { type: 'string', describe: 'write the latest events as an Atom feed to FILE' })
      .option('webhook', { type: 'string', describe: 'POST each event as JSON to URL (retried; undelivered events are sent by the next run)' })
      .option('expiry-days', { type: 'number', default: 14, describe: 'warn when an offline role expires within this many days' })
      .option('every', { type: 'string', describe: 'keep running, one cycle every DURATION (5m, 1h, 30s)' }) as never,
  handler: async (a) => {
    const { runWatchCommand } = await import('../watch/watch-command.js');
    await runWatchCommand({
      index: a.index,
      dataDir: a['data-dir'],
      allowHttp: a['allow-http'],
      json: a.json,
      quiet: a.quiet,
      atom: a.atom,
      webhook: a.webhook,
      expiryDays: a['expiry-days'],
      every: a.every,
    });
  },
};

export const watchCommand: CommandModule = {
  command: 'watch <command>',
  describe: 'watch an index: releases, signer changes, expiry and forks, reported as they happen',
  builder: (y) => y.command([add, list, remove, expect, run, exportCmd, compare] as CommandModule[]).demandCommand(1, 'give a watch command (add, list, remove, expect, run, export, compare)'),
  handler: () => undefined,
};
