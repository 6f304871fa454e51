#!/usr/bin/env node
// Guards first: whatever fails later ends with one line and an exit code, no stack trace.
import { installCliGuards } from '../dist/io/cli/process-guards.js';
installCliGuards('tufpip-repo');
// Linear @tufjs/models parsing before any metadata is read (dist/tuf/linear-models.js).
const { installLinearModels } = await import('../dist/tuf/linear-models.js');
installLinearModels();
const { runRepoCli } = await import('../dist/repo-tools/cli/main.js');
process.exitCode = await runRepoCli(process.argv.slice(2));
