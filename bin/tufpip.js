#!/usr/bin/env node
import { runClientCli } from '../dist/client/cli/main.js';
process.exitCode = await runClientCli(process.argv.slice(2));
