// `tufpip`: the installer's tool. The `tuf` commands follow the conformance convention: any
// failure exits 1 (usage errors included); other failures exit with metadata/errors.ts exitCodeFor.
import { exitCodeFor } from '../../metadata/errors.js';
import { runCli } from '../../io/cli/run-cli.js';
import { clientCommands } from './commands.js';
import { pipCommands } from './pip-commands.js';
import { lockCommands } from './lock-commands.js';

export function runClientCli(argv: string[]): Promise<number> {
  return runCli(
    {
      name: 'tufpip',
      about: 'Install Python packages from a TUF-protected index (PEP 458 + PEP 480): pip gets only verified files.',
      globalOptions: { 'data-dir': { type: 'string', describe: 'tufpip data directory (default $TUFPIP_DATA_DIR or $XDG_DATA_HOME/tufpip)' } },
      commands: [...clientCommands, ...pipCommands, ...lockCommands],
      // `watch` chooses its own exit codes (client/watch/watch-exit.ts: 1 alarms, 2 verification errors).
      exitCodeFor: (err, args) => (args[0] === 'tuf' ? 1 : ((err as { exitCode?: number } | null)?.exitCode ?? exitCodeFor(err))),
    },
    argv,
  );
}
