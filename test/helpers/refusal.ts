// The one check of a refused command, for both CLIs' bad-input tables: the exit code (1, or 2 for
// a usage error, which adds the line "run 'PROG --help' for usage"), one line on stderr that
// starts with "PROG: error: " and names the problem, no stack trace, nothing on stdout.
import { expect } from 'chai';
import type { RunResult } from './cli.js';

export interface Refused {
  /** Exit code (default 1). */
  code?: number;
  /** What the error says: matched against its first line after "PROG: error: " (a multi-line error: all of stderr). */
  error: RegExp;
  /** The error lists problems under its first line (verify, tuf download). */
  multiLine?: boolean;
  /** The command may print on stdout too (verify's report). */
  stdoutOk?: boolean;
}

/** Asserts that `r` is the refusal `c` of `prog`; `what` names the case in failure messages. */
export function expectRefused(r: RunResult, prog: 'tufpip-repo' | 'tufpip', c: Refused, what: string): void {
  const code = c.code ?? 1;
  const shown = `${what}: exit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
  expect(r.code, shown).to.equal(code);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const prefix = `${prog}: error: `;
  expect(lines[0], shown).to.match(new RegExp(`^${prog}: error: `));
  if (c.multiLine) expect(r.stderr, shown).to.match(c.error);
  else {
    expect(lines.length, `one line (plus the usage hint for usage errors):\n${shown}`).to.equal(code === 2 ? 2 : 1);
    expect(lines[0].slice(prefix.length), shown).to.match(c.error);
    if (code === 2) expect(lines[1], shown).to.equal(`run '${prog} --help' for usage`);
  }
  expect(r.stderr, `no stack trace:\n${shown}`).to.not.match(/\n\s+at /);
  if (!c.stdoutOk) expect(r.stdout, `nothing on stdout:\n${shown}`).to.equal('');
}
