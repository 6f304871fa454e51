// The transaction journal (outside site/). A transaction records, before it replaces
// timestamp.json, what must happen after (plain-named simple pages, removals); a crash between
// the two is finished by the next command that takes the lock. Append-only JSON lines, fsynced.
import fsp from 'node:fs/promises';
import type { RepoLayout } from './layout.js';
import { linkOrCopy } from './fs-atomic.js';

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
  const fh = await fsp.open(layout.journalFile, 'a', 0o600);
  try {
    await fh.write(JSON.stringify(entry) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Last complete entry of the journal (a torn last line from a crash is ignored). */
export async function lastJournalEntry(layout: RepoLayout): Promise<JournalEntry | undefined> {
  let text: string;
  try {
    const fh = await fsp.open(layout.journalFile, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 4 * 1024 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      text = buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]) as JournalEntry;
    } catch {
      // torn line: keep looking further back
    }
  }
  return undefined;
}

export async function runPostSteps(layout: RepoLayout, steps: PostStep[]): Promise<void> {
  for (const s of steps) {
    if (s.op === 'copy') await linkOrCopy(layout.targetFile(s.from), layout.targetFile(s.to));
    else await fsp.rm(layout.targetFile(s.path), { force: true });
  }
}

/**
 * Finishes a transaction that published its timestamp but crashed before its post steps.
 * A prepared transaction whose timestamp was not published is abandoned (its new files are
 * unreferenced and `gc` removes them).
 */
export async function recoverJournal(layout: RepoLayout, publishedTimestampVersion: number): Promise<'none' | 'finished' | 'abandoned'> {
  const last = await lastJournalEntry(layout);
  if (!last || last.state === 'done') return 'none';
  if (last.timestampVersion === publishedTimestampVersion) {
    await runPostSteps(layout, last.post ?? []);
    await appendJournal(layout, { ...last, state: 'done', post: undefined, time: new Date().toISOString() });
    return 'finished';
  }
  await appendJournal(layout, { ...last, state: 'done', post: undefined, time: new Date().toISOString(), command: 'abandoned' });
  return 'abandoned';
}
