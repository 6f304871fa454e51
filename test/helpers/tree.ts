// Fingerprints of a folder tree, to prove that a refused command changed nothing: every entry's
// relative path, kind, size, mtime and (for files) sha256, plus a few files' exact bytes.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface TreeSnapshot {
  /** One line per entry: `d path` or `f path size mtimeMs sha256`, sorted. */
  entries: string[];
  /** Exact bytes of chosen files (relative path -> base64), absent files as null. */
  bytes: Record<string, string | null>;
}

function walk(root: string, rel: string, out: string[]): void {
  const abs = path.join(root, rel);
  for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const p = path.join(root, r);
    if (e.isDirectory()) {
      out.push(`d ${r}`);
      walk(root, r, out);
    } else if (e.isSymbolicLink()) {
      out.push(`l ${r} -> ${fs.readlinkSync(p)}`);
    } else {
      const st = fs.statSync(p);
      const sha = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      out.push(`f ${r} ${st.size} ${st.mtimeMs} ${sha}`);
    }
  }
}

/** Snapshot of everything under `root`; `exact` lists files (relative) whose bytes are kept. */
export function snapshotTree(root: string, exact: string[] = []): TreeSnapshot {
  const entries: string[] = [];
  if (fs.existsSync(root)) walk(root, '', entries);
  entries.sort();
  const bytes: Record<string, string | null> = {};
  for (const f of exact) {
    const p = path.join(root, f);
    bytes[f] = fs.existsSync(p) ? fs.readFileSync(p).toString('base64') : null;
  }
  return { entries, bytes };
}

/** Human-readable difference of two snapshots (empty when equal). */
export function diffTrees(before: TreeSnapshot, after: TreeSnapshot): string[] {
  const a = new Set(before.entries);
  const b = new Set(after.entries);
  const out: string[] = [];
  for (const e of before.entries) if (!b.has(e)) out.push(`- ${e}`);
  for (const e of after.entries) if (!a.has(e)) out.push(`+ ${e}`);
  for (const f of new Set([...Object.keys(before.bytes), ...Object.keys(after.bytes)])) {
    if (before.bytes[f] !== after.bytes[f]) out.push(`~ ${f} bytes differ`);
  }
  return out;
}
