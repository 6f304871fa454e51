// Where tufpip keeps per-user state (DESIGN.md "Client"): $TUFPIP_DATA_DIR, else
// $XDG_DATA_HOME/tufpip (XDG Base Directory: only an absolute XDG_DATA_HOME counts), else
// ~/.local/share/tufpip. The environment is passed in so that callers and tests choose.
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TUFPIP_DATA_DIR) return path.resolve(env.TUFPIP_DATA_DIR);
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'tufpip');
  return path.join(env.HOME || os.homedir(), '.local', 'share', 'tufpip');
}
