// `npm run demo`: the whole main job on embedded defaults, with the real CLIs as a user runs them.
// Writes two wheels (a package and its dependency), builds an index with keys generated for the
// demo in its temporary directory (deleted at the end), serves it on loopback, trusts its root, runs
// `tufpip install` into a fresh venv, prints what was verified and the package's output, then
// stops the server and removes everything. Nothing outside one temporary directory is written.
// Runs the same from a clone (`npm run demo`) and from an installed package
// (`node "$(npm root -g)/tufpip/dist/demo/demo.js"`): it needs only bin/ and dist/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveRepo } from '../repo-tools/commands/serve.js';
import { writeWheel } from './demo-wheels.js';
import { freePort } from '../io/free-port.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PYTHON = process.env.TUFPIP_DEMO_PYTHON ?? 'python3';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function show(cmd: string, args: string[]): void {
  const quote = (a: string) => (/^[\w./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  process.stdout.write(`\n$ ${[cmd, ...args].map(quote).join(' ')}\n`);
}

/** Runs a command asynchronously (the index is served from this process), echoing its output. */
function run(cmd: string, args: string[], label = path.basename(cmd), shown = args): Promise<Run> {
  show(label, shown);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ code, stdout, stderr }) : reject(new Error(`${label} ${args[0]} exited ${code}`))));
  });
}

const tufpipRepo = (args: string[]) => run(process.execPath, [path.join(ROOT, 'bin', 'tufpip-repo.js'), ...args], 'tufpip-repo', args);
const tufpip = (args: string[]) => run(process.execPath, [path.join(ROOT, 'bin', 'tufpip.js'), ...args], 'tufpip', args);


async function main(): Promise<void> {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tufpip-demo-'));
  let stopServer: (() => Promise<void>) | undefined;
  try {
    process.stdout.write(`tufpip demo in ${tmp} (keys generated for the demo, deleted at the end)\n`);
    const wheels = path.join(tmp, 'wheels');
    const files = [
      await writeWheel(wheels, {
        name: 'demo-greeter',
        version: '1.0',
        deps: ['demo-colors>=1.0'],
        body: 'from demo_colors import paint\n\ndef greet():\n    return paint("hello from a package verified with TUF")\n',
      }),
      await writeWheel(wheels, { name: 'demo-colors', version: '1.0', body: 'def paint(text):\n    return "*** " + text + " ***"\n' }),
    ];

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const repo = path.join(tmp, 'repo');
    await tufpipRepo(['init', repo, '--url', url, '--bins', '16']);
    await tufpipRepo(['add', repo, ...files]);
    const server = await serveRepo(repo, { host: '127.0.0.1', port });
    stopServer = () => server.close();
    process.stdout.write(`\n(serving ${path.join(repo, 'site')} at ${server.url})\n`);

    const dataDir = path.join(tmp, 'tufpip-data');
    await tufpip(['--data-dir', dataDir, 'trust', 'add', server.url, '--root', path.join(repo, 'site', 'metadata', '1.root.json'), '--name', 'demo']);

    const venv = path.join(tmp, 'venv');
    await run(PYTHON, ['-m', 'venv', venv]);
    const python = path.join(venv, 'bin', 'python');
    await tufpip(['--data-dir', dataDir, 'install', '--index', 'demo', 'demo-greeter', '--python', python]);
    await run(python, ['-c', 'import demo_greeter; print(demo_greeter.greet())'], 'python');
    process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await stopServer?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
