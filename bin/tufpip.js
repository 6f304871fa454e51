#!/usr/bin/env node
// Guards first: whatever fails later ends with one line and an exit code, no stack trace.
import { installCliGuards } from '../dist/io/cli/process-guards.js';
installCliGuards('tufpip');
// `fetch` and `install` start pip's interpreter before the CLI loads (client/pip/pip-prewarm.ts).
const { prewarmPipFor } = await import('../dist/client/pip/pip-runner.js');
prewarmPipFor(process.argv.slice(2));
// The linear @tufjs/models parsing (dist/tuf/linear-models.js) is installed by the library entry
// (dist/client/index.js), through which the commands load the client library: after pip is
// spawned, as tuf-js and its models take ~100 ms to load (docs/design-decisions.md "pip starts first").
const { runClientCli } = await import('../dist/client/cli/main.js');
process.exitCode = await runClientCli(process.argv.slice(2));
