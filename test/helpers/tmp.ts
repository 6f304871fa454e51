// Temporary folders for tests, removed after the run (kept with TUFPIP_KEEP_TMP=1 for debugging).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'tufpip-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTmp(): void {
  if (process.env.TUFPIP_KEEP_TMP) return;
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

process.on('exit', cleanupTmp);
