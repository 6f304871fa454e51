// Test-only preload (`node --import <LOCK_PROBE> ...`): prints `lock-busy <path>` on stderr the
// first time the process tries to create a lock directory (proper-lockfile takes a lock with an
// atomic mkdir, via graceful-fs's copy of fs.mkdir) and finds it taken. A test that holds a lock
// waits for this line (the other process is now waiting for the lock) instead of sleeping.
import fs from 'node:fs';
import path from 'node:path';

const seen = new Set<string>();
const mkdir = fs.mkdir as (...args: unknown[]) => void;
fs.mkdir = ((...args: unknown[]) => {
  const cb = args.pop() as (err: NodeJS.ErrnoException | null, made?: string) => void;
  const dir = String(args[0]);
  mkdir(...args, (err: NodeJS.ErrnoException | null, made?: string) => {
    if (err?.code === 'EEXIST' && !seen.has(dir)) {
      seen.add(dir);
      process.stderr.write(`lock-busy ${path.resolve(dir)}\n`);
    }
    cb(err, made);
  });
}) as typeof fs.mkdir;

