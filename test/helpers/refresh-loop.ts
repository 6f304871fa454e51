// Child process for the concurrency test: refreshes one trusted index N times (sharing the data
// directory with another such process) and looks up a target each time. Prints one JSON line per
// failure; exits 0 only if every round succeeded.
import { IndexClient } from '../../client/index.js';

const [dataDir, indexUrl, rounds, target] = process.argv.slice(2);
let failures = 0;
for (let i = 0; i < Number(rounds); i++) {
  const c = await IndexClient.open({ indexUrl, dataDir });
  try {
    await c.refresh();
    await c.lookup(target);
  } catch (err) {
    failures++;
    process.stdout.write(JSON.stringify({ round: i, error: String((err as Error).message) }) + '\n');
  } finally {
    await c.close();
  }
}
process.exitCode = failures ? 1 : 0;
