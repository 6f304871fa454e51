// The transaction journal (outside site/). A transaction records, before it replaces
// timestamp.json, what must happen after (plain-named simple pages, removals); a crash between
// the two is finished by the next command that takes the lock (txn/pipeline.ts
// recoverPublication). Append-only JSON lines, fsynced.
import fs from 'node:fs';
import type { RepoLayout } from './layout.js';

export type PostStep =
  | { op: 'copy'; from: string; to: string } // target paths under site/
  | { op: 'remove'; path: string };

export interface JournalEntry {
  txn: string;
  state: 'prepared' | 'done';
  command?: string;
  timestampVersion: number;
  time: string;
  post?: PostStep[];
}

export async function appendJournal(layout: RepoLayout, entry: JournalEntry): Promise<void> {
  // Synchronous inside: three short system calls, cheaper than three thread-pool round trips.
  const fd = fs.openSync(layout.journalFile, 'a', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(entry) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Last complete entry of the journal (a torn last line from a crash is ignored). Reads the tail
 * only (64 KB, growing to 4 MB for a long entry): the journal grows by a line or two per
 * transaction and every mutating command reads its end.
 */
export async function lastJournalEntry(layout: RepoLayout): Promise<JournalEntry | undefined> {
  let fd: number;
  try {
    fd = fs.openSync(layout.journalFile, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const max = Math.min(size, 4 * 1024 * 1024);
    for (let len = Math.min(size, 64 * 1024); ; len = Math.min(max, len * 4)) {
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      const lines = buf.toString('utf8').split('\n');
      // The first piece is a whole line only when the tail read is the whole file.
      const first = len === size ? 0 : 1;
      for (let i = lines.length - 1; i >= first; i--) {
        if (lines[i].trim() === '') continue;
        try {
          return JSON.parse(lines[i]) as JournalEntry;
        } catch {
          // torn line: keep looking further back
        }
      }
      if (len >= max) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
