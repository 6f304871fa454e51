// `tufpip lock`: a thin yargs module (nx / lerna style) over client/commands/lock.ts. The handler
// throws on a refusal (exit 1, main.ts maps it) and never exits itself.
import type { CommandModule } from 'yargs';
import { TufpipError } from '../../metadata/errors.js';
import { printJson, say, note } from '../../io/cli/output.js';
import { common, indexOptions, policyOf, type IndexFlags } from './pip-commands.js';

interface LockFlags extends IndexFlags {
  reqs?: string[];
  requirement?: string[];
  output: string;
  check?: boolean;
  upgrade?: string[];
  'accept-signer-change'?: string[];
  'accept-root-change'?: boolean;
  strict?: boolean;
  '--'?: string[];
}

export const lockCommand: CommandModule<object, LockFlags> = {
  command: 'lock [reqs..]',
  describe: 'resolve through the verifying proxy and write a PEP 751 pylock.toml pinning who signed each package; --check for CI',
  builder: (y) =>
    indexOptions(y)
      .parserConfiguration({ 'populate--': true })
      .positional('reqs', { type: 'string', array: true, describe: 'requirement specifiers (default with an existing lock: the requirements it records)' })
      .option('requirement', { alias: 'r', type: 'string', array: true, describe: 'requirements file (repeatable)' })
      .option('output', { alias: 'o', type: 'string', default: 'pylock.toml', describe: 'the lock file' })
      .option('check', { type: 'boolean', describe: 're-resolve and exit 1, with a diff for review, if any signer pin would change (the lock is not written)' })
      .option('upgrade', { type: 'string', array: true, describe: 'record newer versions (of PKG... only, if given); a signer change is refused unless accepted' })
      .option('accept-signer-change', { type: 'string', array: true, describe: 'PKG whose signer change you reviewed: record its new pin' })
      .option('accept-root-change', { type: 'boolean', describe: "record pins under the index's new root keys (after reviewing the root change)" })
      .option('strict', { type: 'boolean', describe: 'a new package that is not developer-signed (PEP 480) is a change too' })
      .option('python', { type: 'string', describe: 'Python interpreter whose pip resolves (default python3)' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: "show pip's own output" })
      .epilog('After -- : pip options for resolution (--pre, --only-binary :all:, --platform X...).'),
  handler: async (a) => {
    let printed = false;
    try {
      await runLock(a, () => (printed = true));
    } catch (err) {
      // Under --json a failure is data too: `{ ok: false, error }` on stdout, then the error.
      if (a.json && !printed) {
        const e = err as { message?: string; kind?: string; code?: string; refusals?: unknown[] };
        printJson({ ok: false, error: { code: e.code, kind: e.kind, message: e.message ?? String(err) }, refusals: e.refusals ?? [] });
      }
      throw err;
    }
  },
};

async function runLock(a: LockFlags, jsonPrinted: () => void): Promise<void> {
  const { checkLock, writeOrUpgradeLock, refusedChanges } = await import('../commands/lock.js');
  const { describeChange, isAlarm } = await import('../../metadata/signer-pin.js');
  const o = {
    ...(await common(a)),
    reqs: a.reqs,
    requirements: a.requirement,
    pipArgs: a['--'],
    streamPip: a.verbose && !a.json,
    policy: await policyOf(a),
    output: a.output,
    strict: a.strict,
  };
  if (a.check && a.upgrade) throw new TufpipError('USAGE', 'give --check or --upgrade, not both');
  if (a.check) {
    const { file, diff } = await checkLock(o);
    const alarms = diff.changes.filter(isAlarm);
    const rotations = diff.changes.filter((c) => !isAlarm(c));
    if (a.json) {
      printJson({ ok: alarms.length === 0, file, changes: diff.changes, versions: diff.versions });
      jsonPrinted();
    }
    for (const v of diff.versions) note(a, `  ${v.name}: ${v.from ?? 'not locked'} -> ${v.to ?? 'no longer required'} (version only)`);
    for (const c of rotations) note(a, `  ${describeChange(c)}`);
    if (alarms.length) {
      throw new TufpipError('REFUSED', `lock check failed: ${alarms.length} signer change${alarms.length === 1 ? '' : 's'} against ${file}:\n${alarms.map((c) => `  ${describeChange(c)}`).join('\n')}\nreview each; record one with 'tufpip lock --upgrade --accept-signer-change PKG'`);
    }
    if (!a.json) say(a, `lock check passed: every signer pin in ${file} holds${rotations.length ? ` or moved along signed key transitions (${rotations.map((c) => c.name).join(', ')})` : ''}`);
    return;
  }
  const opts = { ...o, packages: a.upgrade ?? [], acceptSignerChange: a['accept-signer-change'], acceptRootChange: a['accept-root-change'] };
  const r = await writeOrUpgradeLock(opts);
  const refused = r.diff ? refusedChanges(opts, r.diff) : [];
  if (a.json) {
    printJson({ ok: r.written, file: r.file, written: r.written, changes: r.diff?.changes ?? [], accepted: r.accepted, refused, versions: r.diff?.versions ?? [], packages: r.lock.packages.length });
    jsonPrinted();
  }
  if (!r.written) {
    throw new TufpipError('REFUSED', `refused: ${refused.length} signer change${refused.length === 1 ? '' : 's'}; ${r.file} was not changed:\n${refused.map((c) => `  ${describeChange(c)}`).join('\n')}\nafter review, accept with --accept-signer-change PKG${refused.some((c) => c.kind === 'root-change') ? ' / --accept-root-change' : ''}`);
  }
  if (a.json) return;
  for (const c of r.accepted) say(a, `${isAlarm(c) ? 'accepted' : 'recorded'}: ${describeChange(c)}`);
  for (const v of r.diff?.versions ?? []) say(a, `${v.name}: ${v.from ?? 'new'} -> ${v.to ?? 'removed'}`);
  say(a, `locked ${r.lock.packages.length} package${r.lock.packages.length === 1 ? '' : 's'} in ${r.file}`);
}

export const lockCommands = [lockCommand] as CommandModule[];
