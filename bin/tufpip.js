#!/usr/bin/env node
// `fetch` and `install` start pip's interpreter before the CLI loads (client/pip-prewarm.ts).
import { prewarmPipFor } from '../dist/client/pip-runner.js';
prewarmPipFor(process.argv.slice(2));
const { runClientCli } = await import('../dist/client/cli/main.js');
process.exitCode = await runClientCli(process.argv.slice(2));
