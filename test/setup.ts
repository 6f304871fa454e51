// Test setup, an entry point (docs/architecture.md): installs the linear @tufjs/models parsing
// (tuf/linear-models.ts) as the CLIs and the library entry do. Loaded first by mocha
// (.mocharc.json `require`) and imported by the test files that parse metadata in-process, so that
// running one file alone (`mocha --no-config FILE`) behaves the same.
import { installLinearModels } from '../tuf/linear-models.js';
import { stopLeftCdns } from './helpers/nginx.js';

installLinearModels();

// Root hooks (this file is mocha's `require`): every server a test starts, the test stops. A CDN
// (nginx) still running at the end is stopped here and fails the run, naming it.
export const mochaHooks = {
  async afterAll(): Promise<void> {
    const left = await stopLeftCdns();
    if (left.length > 0) throw new Error(`tests left ${left.length} nginx CDN(s) running (stopped now): ${left.join(', ')}`);
  },
};
