// `tufpip`: the installer's tool. The one place that turns errors into messages and exit codes
// (metadata/errors.ts exitCodeFor). The `tuf` commands follow the conformance convention: any
// failure exits 1 (usage errors included).
import { createRequire } from 'node:module';
import type yargsFactory from 'yargs';
import { exitCodeFor } from '../../metadata/errors.js';
import { packageVersion } from '../package-version.js';
import { installCliGuards, reportError } from './process-guards.js';
import { clientCommands } from './commands.js';
import { pipCommands } from './pip-commands.js';

// yargs's CommonJS build, which loads in about half the time of its ESM build (~30 ms against
// ~60 ms here): start-up is on the path of every command, and `tufpip fetch` starts pip after it.
const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof yargsFactory;

export async function runClientCli(argv: string[]): Promise<number> {
  installCliGuards('tufpip');
  // `--version` alone: package.json's version. Not a yargs global option, because commands use
  // `--version` for a package version (`remove DIR P --version 1.0`).
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('tufpip')
    .usage('$0 <command> [options]\n$0 --version\n\nInstall Python packages from a TUF-protected index (PEP 458 + PEP 480): pip gets only verified files.')
    .option('data-dir', { type: 'string', global: true, describe: 'tufpip data directory (default $TUFPIP_DATA_DIR or $XDG_DATA_HOME/tufpip)' })
    .command([...clientCommands, ...pipCommands])
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
    exitCode = argv[0] === 'tuf' ? 1 : exitCodeFor(err);
    // Credentials are redacted once more at the boundary (reportError), whatever produced the message.
    reportError('tufpip', err);
    if (exitCodeFor(err) === 2) process.stderr.write("run 'tufpip --help' for usage\n");
  }
  return exitCode;
}
