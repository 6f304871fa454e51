// The record of withdrawn package files (metadata/filename-record.ts), private state outside
// site/: `retired-files`, one JSON line per file, append-only, fsynced. A publication appends
// what it withdraws BEFORE it replaces timestamp.json, so a removal is never published without
// its record. A crash between the two leaves lines naming files that are in fact still published
// with exactly those bytes: true facts, which block nothing honest (re-adding the same bytes is
// always allowed). Nothing is recorded for files being added, so a crashed add never blocks the
// re-add of a corrected file.
import fs from 'node:fs';
import type { RepoLayout } from './layout.js';
import { fsyncDir } from '../../io/atomic-file.js';
import type { RetiredFile } from '../../metadata/filename-record.js';

function recordFile(layout: RepoLayout): string {
  return layout.retiredFile;
}

/** Target path -> every sha256 it was published with before it was withdrawn. */
export type RetiredRecord = Map<string, Set<string>>;

/** Reads the record (an absent file is an empty record; a torn last line, from a crash, is skipped). */
export function loadRetired(layout: RepoLayout): RetiredRecord {
  const out: RetiredRecord = new Map();
  let text: string;
  try {
    text = fs.readFileSync(recordFile(layout), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let e: Partial<RetiredFile>;
    try {
      e = JSON.parse(line) as Partial<RetiredFile>;
    } catch {
      continue; // a torn line: written by a transaction that crashed before publishing
    }
    if (typeof e.path !== 'string' || typeof e.sha256 !== 'string') continue;
    const set = out.get(e.path) ?? new Set<string>();
    set.add(e.sha256);
    out.set(e.path, set);
  }
  return out;
}

/**
 * Appends entries and fsyncs them (and the folder, when the file is new). Returns the size the
 * file had (-1: it did not exist), so a transaction that fails before publishing can undo it.
 */
export async function appendRetired(layout: RepoLayout, entries: RetiredFile[], time: string, command: string): Promise<number> {
  const file = recordFile(layout);
  let size = -1;
  let lastByte = '\n';
  try {
    size = fs.statSync(file).size;
    if (size > 0) {
      const fd = fs.openSync(file, 'r');
      try {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, size - 1);
        lastByte = b.toString('latin1');
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch {
    // no record yet
  }
  // After a torn line (a crash mid-append) start on a new line, so no entry is glued to it.
  const text = (lastByte === '\n' ? '' : '\n') + entries.map((e) => JSON.stringify({ ...e, time, command })).join('\n') + '\n';
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (size === -1) await fsyncDir(layout.dir);
  return size;
}

/** Undoes an append (a transaction that failed before publishing): back to `size`, or no file. */
export function truncateRetired(layout: RepoLayout, size: number): void {
  try {
    if (size < 0) fs.rmSync(recordFile(layout), { force: true });
    else fs.truncateSync(recordFile(layout), size);
  } catch {
    // nothing to undo
  }
}
