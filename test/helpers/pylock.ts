// PEP 751 checks for the lock tests: every lock a test writes is validated by packaging.pylock
// (packaging >= 26, in this machine's Python), and read back as TOML.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { parse } from 'smol-toml';
import { basePython } from './python.js';

const VALIDATE = [
  'import sys, tomllib',
  'from packaging.pylock import Pylock',
  'lock = Pylock.from_dict(tomllib.load(open(sys.argv[1], "rb")))',
  'lock.validate()',
  'print(len(lock.packages))',
].join('\n');

/** Validates FILE with packaging.pylock; returns the number of packages it holds. Throws if invalid. */
export function validatePylock(file: string): number {
  return Number(execFileSync(basePython(), ['-c', VALIDATE, file]).toString().trim());
}

export interface LockDoc {
  'lock-version': string;
  'created-by': string;
  'requires-python'?: string;
  packages: Array<{
    name: string;
    version: string;
    index: string;
    wheels?: Array<{ name: string; url: string; size: number; hashes: { sha256: string } }>;
    sdist?: { name: string; url: string; size: number; hashes: { sha256: string } };
    tool: { tufpip: { index: string; 'root-keyids': string[]; 'root-threshold': number; 'vouched-by': string; role: string; keyids: string[]; threshold: number } };
  }>;
}

export function readLock(file: string): LockDoc {
  return parse(fs.readFileSync(file, 'utf8')) as unknown as LockDoc;
}
