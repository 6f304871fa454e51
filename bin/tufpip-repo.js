#!/usr/bin/env node
import { runRepoCli } from '../dist/repo-tools/cli/main.js';
process.exitCode = await runRepoCli(process.argv.slice(2));
