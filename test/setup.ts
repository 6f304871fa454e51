// Test setup, an entry point (docs/architecture.md): installs the linear @tufjs/models parsing
// (tuf/linear-models.ts) as the CLIs and the library entry do. Loaded first by mocha
// (.mocharc.json `require`) and imported by the test files that parse metadata in-process, so that
// running one file alone (`mocha --no-config FILE`) behaves the same.
import { installLinearModels } from '../tuf/linear-models.js';

installLinearModels();
