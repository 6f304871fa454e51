// Runs the real `tufpip-repo serve DIR --port 0` as a child process and reads the URL it prints.
// stop() sends SIGTERM (the command closes its server and exits) and waits for the exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_BIN } from './cli.js';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Every request line the server logged (method, URL, status). */
  requests: string[];
  stop(): Promise<number | null>;
}

/** `extraArgs`: further `serve` flags (--timestamp-max-age...). */
export function startServeCli(repoDir: string, timeoutMs = 20_000, extraArgs: string[] = []): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REPO_BIN, 'serve', repoDir, '--host', '127.0.0.1', '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const requests: string[] = [];
    let out = '';
    let err = '';
    let exited = false;
    const exit = new Promise<number | null>((res) => child.on('exit', (code) => {
      exited = true;
      res(code);
    }));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tufpip-repo serve printed no URL in ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const lines = err.split('\n');
      err = lines.pop()!;
      requests.push(...lines.filter((l) => /^(GET|HEAD) /.test(l)));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          child,
          requests,
          stop: async () => {
            if (!exited) child.kill('SIGTERM');
            return exit;
          },
        });
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    void exit.then((code) => {
      clearTimeout(timer);
      if (!/at http/.test(out)) reject(new Error(`tufpip-repo serve exited (${code}) before serving:\n${out}\n${err}`));
    });
  });
}
