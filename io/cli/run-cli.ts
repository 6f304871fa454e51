// The one yargs runner and error boundary of both CLIs (`tufpip`, `tufpip-repo`): the place that
// turns errors into one line on stderr and an exit code (metadata/errors.ts exitCodeFor; STYLE.md
// "Errors"). A usage error (exit code 2) adds a pointer to --help.
import { createRequire } from 'node:module';
import type yargsFactory from 'yargs';
import type { CommandModule, Options } from 'yargs';
import { exitCodeFor } from '../../metadata/errors.js';
import { packageVersion } from '../package-version.js';
import { installCliGuards, reportError } from './process-guards.js';

// yargs's CommonJS build, which loads in about half the time of its ESM build (~30 ms against
// ~60 ms here): start-up is on the path of every command, and `tufpip fetch` starts pip after it.
const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof yargsFactory;

export interface CliSpec {
  /** The program name (`tufpip`), in usage lines and error messages. */
  name: string;
  /** What the program is for: the paragraph under the usage lines of --help. */
  about: string;
  commands: CommandModule[];
  /** Options every command accepts. */
  globalOptions?: Record<string, Options>;
  /** The exit code of a failure; default exitCodeFor(err). */
  exitCodeFor?: (err: unknown, argv: string[]) => number;
}

/** Runs one command line and returns the process exit code (never throws). */
export async function runCli(spec: CliSpec, argv: string[]): Promise<number> {
  installCliGuards(spec.name);
  // `--version` alone: package.json's version. Not a yargs global option, because commands use
  // `--version` for a package version (`remove DIR P --version 1.0`).
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let parser = yargs(argv)
    .scriptName(spec.name)
    .usage(`$0 <command> [options]\n$0 --version\n\n${spec.about}`);
  for (const [key, opt] of Object.entries(spec.globalOptions ?? {})) parser = parser.option(key, { ...opt, global: true });
  parser = parser
    .command(spec.commands)
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
    return 0;
  } catch (err) {
    // Credentials are redacted once more at the boundary (reportError), whatever produced the message.
    reportError(spec.name, err);
    if (exitCodeFor(err) === 2) process.stderr.write(`run '${spec.name} --help' for usage\n`);
    return spec.exitCodeFor ? spec.exitCodeFor(err, argv) : exitCodeFor(err);
  }
}
