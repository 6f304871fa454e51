// python-tuf's ngclient (the reference TUF client) for tests: scripts/python-tuf.sh prepares it
// from Debian's packages (pinned sha256), test/fixtures/ngclient.py runs its Updater against an
// index URL. A second client implementation, independent of tuf-js and of this project's code.
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from './cli.js';
import { PROJECT_ROOT } from './python.js';
import { tmpDir } from './tmp.js';

const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'python-tuf.sh');
const RUNNER = path.join(PROJECT_ROOT, 'test', 'fixtures', 'ngclient.py');
const PYTHON = '/usr/bin/python3';

let prepared: Promise<string> | undefined;

/** The PYTHONPATH folder of python-tuf (installed by the script on first use); rejects with the script's own message. */
export function pythonTufPath(): Promise<string> {
  prepared ??= (async () => {
    const install = await runCommand('bash', [SCRIPT, 'install'], { timeoutMs: 600_000 });
    if (install.code !== 0) throw new Error(`scripts/python-tuf.sh install failed (${install.code ?? install.signal}): ${install.stderr.trim()}`);
    const p = await runCommand('bash', [SCRIPT, 'path']);
    if (p.code !== 0) throw new Error(`scripts/python-tuf.sh path failed: ${p.stderr.trim()}`);
    return p.stdout.trim();
  })();
  return prepared;
}

export type NgTarget = { path: string; sha256: string } | { path: string; error: string; message: string };

export interface NgResult {
  code: number | null;
  /** "python-tuf VERSION": the client that ran. */
  client: string;
  stderr: string;
  refresh: 'ok' | { error: string; message: string };
  targets: NgTarget[];
  /** The sha256 of each target downloaded and verified (refused ones absent). */
  verified: Map<string, string>;
  /** Error class name of each refused target. */
  refused: Map<string, string>;
  /** The trusted timestamp/snapshot/root versions python-tuf persisted in its metadata folder. */
  versions: { timestamp?: number; snapshot?: number; root?: number };
}

/** A python-tuf client with its own trusted-metadata folder (seeded with `rootFile`), for an index at `baseUrl`. */
export class NgClient {
  readonly metadataDir = path.join(tmpDir('tufpip-ngclient-'), 'metadata');

  constructor(readonly rootFile: string, readonly baseUrl: string) {}

  /** Refreshes (TUF spec 5.3-5.6), then downloads and verifies each of `paths` (5.7). */
  async fetch(paths: string[]): Promise<NgResult> {
    const env = { ...process.env, PYTHONPATH: await pythonTufPath() };
    const r = await runCommand(PYTHON, [RUNNER, this.metadataDir, this.rootFile, `${this.baseUrl}metadata/`, this.baseUrl, ...paths], { env, timeoutMs: 300_000 });
    let out: { client: string; refresh: NgResult['refresh']; targets: NgTarget[] };
    try {
      out = JSON.parse(r.stdout) as typeof out;
    } catch {
      throw new Error(`ngclient.py printed no result (${r.code ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    }
    const verified = new Map<string, string>();
    const refused = new Map<string, string>();
    for (const t of out.targets) {
      if ('sha256' in t) verified.set(t.path, t.sha256);
      else refused.set(t.path, t.error);
    }
    const version = (role: string) => {
      const f = path.join(this.metadataDir, `${role}.json`);
      return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as { signed: { version: number } }).signed.version : undefined;
    };
    return { code: r.code, stderr: r.stderr, ...out, verified, refused, versions: { timestamp: version('timestamp'), snapshot: version('snapshot'), root: version('root') } };
  }
}
