#!/usr/bin/env node
// Guards first: whatever fails later ends with one line and an exit code, no stack trace.
import { installCliGuards } from '../dist/io/cli/process-guards.js';
installCliGuards('tufpip');
// `fetch` and `install` start pip's interpreter before the CLI loads (client/pip-prewarm.ts).
const { prewarmPipFor } = await import('../dist/client/pip-runner.js');
prewarmPipFor(process.argv.slice(2));
const { runClientCli } = await import('../dist/client/cli/main.js');
process.exitCode = await runClientCli(process.argv.slice(2));
