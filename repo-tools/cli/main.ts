// `tufpip-repo`: the operator's and maintainer's tool. The one place that turns errors into
// messages and exit codes (metadata/errors.ts exitCodeFor).
import { createRequire } from 'node:module';
import type yargsFactory from 'yargs';
import { hideBin } from 'yargs/helpers';
import { exitCodeFor } from '../../metadata/errors.js';
import { packageVersion } from '../../client/package-version.js';
import { installCliGuards, reportError } from '../../client/cli/process-guards.js';
import { repoCommands } from './commands.js';

// yargs's CommonJS build, which loads in about half the time of its ESM build (~30 ms against
// ~60 ms here): start-up is on the path of every command, and `tufpip fetch` starts pip after it.
const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof yargsFactory;

export async function runRepoCli(argv: string[]): Promise<number> {
  // A write over the file-size limit (RLIMIT_FSIZE, `ulimit -f`) must fail with EFBIG like any
  // other write error, which a transaction cleans up after. Node ignores SIGXFSZ, but signal-exit
  // (loaded by proper-lockfile for the repository lock) re-raises it and the process died; it
  // leaves a signal alone when someone else listens (found by test/repo-faults-disk.test.ts).
  process.on('SIGXFSZ', () => undefined);
  installCliGuards('tufpip-repo');
  // `--version` alone: package.json's version. Not a yargs global option, because commands use
  // `--version` for a package version (`remove DIR P --version 1.0`).
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('tufpip-repo')
    .usage('$0 <command> [options]\n$0 --version\n\nTUF (PEP 458 + PEP 480) for a self-hosted Python package index.')
    .command(repoCommands)
    .demandCommand(1, 'give a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? Object.assign(new Error(msg), { code: 'USAGE' });
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    exitCode = exitCodeFor(err);
    reportError('tufpip-repo', err);
    if (exitCode === 2) process.stderr.write("run 'tufpip-repo --help' for usage\n");
  }
  return exitCode;
}

export { hideBin };
