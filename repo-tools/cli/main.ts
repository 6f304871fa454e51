// `tufpip-repo`: the operator's and maintainer's tool (errors and exit codes: io/cli/run-cli.ts).
import { runCli } from '../../io/cli/run-cli.js';
import { repoCommands } from './commands.js';

export function runRepoCli(argv: string[]): Promise<number> {
  // A write over the file-size limit (RLIMIT_FSIZE, `ulimit -f`) must fail with EFBIG like any
  // other write error, which a transaction cleans up after. Node ignores SIGXFSZ, but signal-exit
  // (loaded by proper-lockfile for the repository lock) re-raises it and the process died; it
  // leaves a signal alone when someone else listens (test/repo-faults-disk.test.ts).
  process.on('SIGXFSZ', () => undefined);
  return runCli({ name: 'tufpip-repo', about: 'TUF (PEP 458 + PEP 480) for a self-hosted Python package index.', commands: repoCommands }, argv);
}
