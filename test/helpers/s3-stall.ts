// Test-only preload (`node --import <this file> bin/tufpip-repo.js ...`): with
// TUFPIP_TEST_STOP_BEFORE_COMMIT=1 the process stops itself (SIGSTOP) right before its first
// PUT of timestamp.json, the S3 backend's commit point (storage/s3.ts), after printing
// "stopped before commit" on stderr: a writer paused at the worst moment, resumed by SIGCONT.
import fs from 'node:fs';
import http from 'node:http';

if (process.env.TUFPIP_TEST_STOP_BEFORE_COMMIT === '1') {
  let stopped = false;
  const request = http.request;
  http.request = ((...args: Parameters<typeof http.request>) => {
    const o = args[0] as http.RequestOptions;
    if (!stopped && typeof o === 'object' && o.method === 'PUT' && typeof o.path === 'string' && o.path.split('?')[0].endsWith('/timestamp.json')) {
      stopped = true;
      fs.writeSync(2, 'stopped before commit\n');
      process.kill(process.pid, 'SIGSTOP'); // delivered before kill(2) returns; resumes on SIGCONT
    }
    return request(...args);
  }) as typeof http.request;
}
