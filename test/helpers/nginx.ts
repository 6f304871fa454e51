// Debian's nginx as a caching reverse proxy (the CDN) in front of an origin on loopback, through
// the project's own script (scripts/cdn-nginx.sh: runs as the current user, everything under its
// data folder). stop() returns once nginx has exited; every test that starts one stops it.
import path from 'node:path';
import { runCommand } from './cli.js';
import { PROJECT_ROOT } from './python.js';
import { tmpDir } from './tmp.js';
import { freePort } from '../../io/free-port.js';

export const CDN_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'cdn-nginx.sh');

export interface Cdn {
  /** The CDN's base URL (ends with '/'). */
  url: string;
  /** Its data folder (configuration, cache, access.log). */
  dir: string;
  stop(): Promise<void>;
}

export { freePort };

/** CDNs started and not stopped yet (test/setup.ts fails the run on any left at its end). */
const running = new Set<Cdn>();

/** Stops every CDN a test left running; returns their URLs. */
export async function stopLeftCdns(): Promise<string[]> {
  const left = [...running];
  for (const c of left) await c.stop().catch(() => undefined);
  return left.map((c) => c.url);
}

/** Starts nginx in front of `origin` (a base URL); resolves once it listens. */
export async function startCdn(origin: string): Promise<Cdn> {
  const dir = path.join(tmpDir('tufpip-cdn-'), 'nginx');
  // The port the kernel just freed may be taken again before nginx binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const r = await runCommand('bash', [CDN_SCRIPT, 'start', origin, String(port), dir]);
    if (r.code === 0) {
      const cdn: Cdn = {
        url: `http://127.0.0.1:${port}/`,
        dir,
        stop: async () => {
          const s = await runCommand('bash', [CDN_SCRIPT, 'stop', origin, String(port), dir]);
          if (s.code !== 0) throw new Error(`cdn-nginx.sh stop failed: ${s.stderr}`);
          running.delete(cdn);
        },
      };
      running.add(cdn);
      return cdn;
    }
    if (attempt >= 3 || !/Address already in use/.test(r.stderr + r.stdout)) throw new Error(`cdn-nginx.sh start failed (${r.code}): ${r.stderr}${r.stdout}`);
  }
}
