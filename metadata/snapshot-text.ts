// A snapshot file read as text, in the one canonical shape tufpip writes (TUF spec "Document
// formats", canonical JSON; metadata/builders.ts canonicalSnapshot + serializeEnvelope):
//
//   {"signatures":[{"keyid":"<64 hex>","sig":"<hex>"},...],"signed":{"_type":"snapshot",
//    "expires":"YYYY-MM-DDTHH:MM:SSZ","meta":{"<role>.json":{"version":N},...},
//    "spec_version":"<x.y.z>","version":N}}
//
// Why: with PEP 458 hash bins the snapshot lists 16,385 roles (~0.5 MB). An `add` changes the
// version of one bin in it; parsing it into objects, building models and re-canonicalising every
// entry costs 50-90 ms here, and the budget for a whole add is 30 ms. Reading it as text
// costs ~3 ms: one regular expression checks every entry (known role name, integer version), one
// pass checks that the names are strictly increasing (sorted and unique: what canonical JSON
// requires), and entries are found by text search. The next version is the same text with digits
// replaced, which keeps it canonical. Anything not in exactly this shape is not recognised
// (`fromBytes` returns undefined) and callers take the full path: JSON.parse and @tufjs/models.
// Pure: no I/O.
import { canonicalString } from './canonical.js';
import { TARGETS_ROLE_PATTERN } from './roles.js';

const SIG = '\\{"keyid":"[0-9a-f]{64}","sig":"[0-9a-f]{2,2048}"\\}';
const VERSION = '[1-9][0-9]{0,14}'; // a positive safe integer (at most 15 digits < 2^53)
const VERSION_ONLY = new RegExp(`^${VERSION}$`);
const EXPIRES = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z';
const HEAD = new RegExp(`^\\{"signatures":\\[((?:${SIG}(?:,${SIG})*)?)\\],"signed":\\{"_type":"snapshot","expires":"(${EXPIRES})","meta":\\{`);
const TAIL = new RegExp(`\\},"spec_version":"([0-9]+\\.[0-9]+\\.[0-9]+)","version":(${VERSION})\\}\\}$`);
const ENTRY = `"${TARGETS_ROLE_PATTERN}\\.json":\\{"version":${VERSION}\\}`;
const ENTRIES = new RegExp(`^(?:${ENTRY}(?:,${ENTRY})*)?$`);
const SIG_PARTS = /\{"keyid":"([0-9a-f]{64})","sig":"([0-9a-f]+)"\}/g;

/** text[a0, a1) < text[b0, b1) in UTF-16 code units, as JavaScript's `<` on strings. */
function lessThan(text: string, a0: number, a1: number, b0: number, b1: number): boolean {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const ca = text.charCodeAt(a0 + i);
    const cb = text.charCodeAt(b0 + i);
    if (ca !== cb) return ca < cb;
  }
  return a1 - a0 < b1 - b0;
}

export interface SnapshotSignature {
  keyid: string;
  sig: string;
}

export class SnapshotText {
  /** The whole file (ASCII: the shape admits nothing else). */
  readonly text: string;
  readonly version: number;
  readonly expires: string;
  readonly specVersion: string;
  readonly signatures: SnapshotSignature[];
  /** Number of entries in `meta`. */
  readonly size: number;
  private readonly signedStart: number;
  private readonly metaStart: number;
  private readonly metaEnd: number;

  private constructor(text: string, f: { version: number; expires: string; specVersion: string; signatures: SnapshotSignature[]; size: number; signedStart: number; metaStart: number; metaEnd: number }) {
    this.text = text;
    this.version = f.version;
    this.expires = f.expires;
    this.specVersion = f.specVersion;
    this.signatures = f.signatures;
    this.size = f.size;
    this.signedStart = f.signedStart;
    this.metaStart = f.metaStart;
    this.metaEnd = f.metaEnd;
  }

  /** The snapshot in tufpip's canonical shape, or undefined for anything else. */
  static fromBytes(bytes: Buffer): SnapshotText | undefined {
    const frame = SnapshotText.frame(bytes);
    if (!frame) return undefined;
    const { text, metaStart, metaEnd } = frame;
    // Every entry: a role name of the role graph (DESIGN.md), a positive integer version.
    if (!ENTRIES.test(text.slice(metaStart, metaEnd))) return undefined;
    // Canonical JSON sorts keys (@tufjs/canonical-json: Array.prototype.sort, UTF-16 code units;
    // the names are ASCII) and a JSON object holds each once: the names must strictly increase.
    // Entries are `"name":{"version":N}` with no quote or brace inside a name (the pattern above).
    // Names are compared in place, char by char (no substring per entry).
    let size = 0;
    let prevStart = -1;
    let prevEnd = -1;
    for (let p = metaStart; p < metaEnd; ) {
      const start = p + 1;
      const end = text.indexOf('"', start);
      if (prevStart >= 0 && !lessThan(text, prevStart, prevEnd, start, end)) return undefined;
      prevStart = start;
      prevEnd = end;
      size++;
      p = text.indexOf('}', end) + 2; // past `}` and the `,` (or onto metaEnd)
    }
    return new SnapshotText(text, { ...frame, size });
  }

  /**
   * `bytes` in tufpip's canonical shape, given that they should differ from `prev` (itself in that
   * shape) only in the entries of `files`; undefined when they are not in that shape or differ
   * elsewhere. The same result as `fromBytes` for such bytes, without checking each of the 16,385
   * entries again: the envelope is matched as in `fromBytes`, each entry of `files` must be
   * `"<file>":{"version":N}` with N a positive integer, and the text between them must be the
   * text between them in `prev`, which holds only valid entries in strictly increasing order;
   * so the whole is canonical with the same names in the same order.
   */
  static fromEditOf(bytes: Buffer, prev: SnapshotText, files: readonly string[]): SnapshotText | undefined {
    const frame = SnapshotText.frame(bytes);
    if (!frame) return undefined;
    const next = new SnapshotText(frame.text, { ...frame, size: prev.size });
    for (const file of files) {
      const at = next.locate(file);
      if (!at) return undefined;
      const entry = next.text.slice(at.entry, at.end + 1);
      const head = `${canonicalString(file)}:{"version":`;
      if (!entry.startsWith(head) || !entry.endsWith('}') || !VERSION_ONLY.test(entry.slice(head.length, -1))) return undefined;
    }
    return next.sameEntriesExcept(prev, files) ? next : undefined;
  }

  /** The envelope around `meta`: signatures, expiry, spec version and version, or undefined. */
  private static frame(bytes: Buffer): { text: string; version: number; expires: string; specVersion: string; signatures: SnapshotSignature[]; signedStart: number; metaStart: number; metaEnd: number } | undefined {
    // latin1 maps each byte to one char: a non-ASCII byte cannot pass the patterns below.
    const text = bytes.toString('latin1');
    const head = HEAD.exec(text);
    // The tail is short: match it on the last bytes only (an unanchored search would try every offset).
    const tailFrom = Math.max(0, text.length - 128);
    const tail = TAIL.exec(text.slice(tailFrom));
    if (!head || !tail) return undefined;
    const metaStart = head[0].length;
    const metaEnd = tailFrom + tail.index;
    if (metaEnd < metaStart) return undefined;
    const signatures: SnapshotSignature[] = [];
    for (const m of head[1].matchAll(SIG_PARTS)) signatures.push({ keyid: m[1], sig: m[2] });
    // @tufjs/models refuses two signatures by one key ("multiple signatures found for keyid"): so
    // does the full path this leaves such a file to.
    if (new Set(signatures.map((x) => x.keyid)).size !== signatures.length) return undefined;
    return {
      text,
      version: Number(tail[2]),
      expires: head[2],
      specVersion: tail[1],
      signatures,
      signedStart: text.indexOf('"signed":') + '"signed":'.length,
      metaStart,
      metaEnd,
    };
  }

  /** The signed part, exactly as signed (canonical JSON). */
  get signedText(): string {
    return this.text.slice(this.signedStart, this.text.length - 1);
  }

  /**
   * Where `"<file>":{"version":N}` is (`entry` its first char, N from `start` to `end`), or
   * undefined when the snapshot does not list `file`. Binary search over the text: the names are
   * sorted, and `,"` occurs in meta only between two entries (no name holds a comma or a quote).
   */
  private locate(file: string): { entry: number; start: number; end: number } | undefined {
    if (file.includes('"') || file.includes('\\')) return undefined;
    const t = this.text;
    let lo = this.metaStart; // always the first char of an entry (or metaEnd)
    let hi = this.metaEnd;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // The entry holding `mid` (or, when `mid` is a separating comma, the one before it): it
      // starts after the last `,"` that begins before `mid`, or at lo. So lo <= entry <= mid < hi.
      const entry = Math.max(lo, t.lastIndexOf(',"', mid - 1) + 1);
      const nameEnd = t.indexOf('"', entry + 1);
      const name = t.slice(entry + 1, nameEnd);
      if (name === file) {
        const start = nameEnd + '":{"version":'.length;
        return { entry, start, end: t.indexOf('}', start) };
      }
      if (file < name) hi = entry;
      else lo = t.indexOf('}', nameEnd) + 2;
    }
    return undefined;
  }

  /** The version the snapshot lists for `file` ("<role>.json"). */
  versionOf(file: string): number | undefined {
    const at = this.locate(file);
    return at && Number(this.text.slice(at.start, at.end));
  }

  /**
   * The canonical signed text of the next snapshot: this one with a new version and expiry, and
   * the listed entries at their new versions. Undefined when an entry is not listed yet (a new
   * role changes the structure: callers build it in full).
   */
  next(version: number, expires: string, changes: ReadonlyMap<string, number>): string | undefined {
    if (!Number.isSafeInteger(version) || version < 1) throw new RangeError(`snapshot version must be a positive integer, got ${version}`);
    const edits: { start: number; end: number; version: number }[] = [];
    for (const [file, v] of changes) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`version of ${file} must be a positive integer, got ${v}`);
      const at = this.locate(file);
      if (!at) return undefined;
      edits.push({ ...at, version: v });
    }
    edits.sort((a, b) => a.start - b.start);
    let meta = '';
    let from = this.metaStart;
    for (const e of edits) {
      meta += this.text.slice(from, e.start) + String(e.version);
      from = e.end;
    }
    meta += this.text.slice(from, this.metaEnd);
    return `{"_type":"snapshot","expires":${canonicalString(expires)},"meta":{${meta}},"spec_version":${canonicalString(this.specVersion)},"version":${version}}`;
  }

  /**
   * True when this snapshot and `other` list the same entries, in the same text, apart from the
   * entries of `files` (each listed by both). TUF spec 5.5.5 uses it: nothing dropped, nothing
   * else changed. Segments between those entries are compared as slices (no copy).
   */
  sameEntriesExcept(other: SnapshotText, files: readonly string[]): boolean {
    const cutsOf = (s: SnapshotText) => {
      const cuts: { start: number; end: number }[] = [];
      for (const file of files) {
        const at = s.locate(file);
        if (!at) return undefined;
        cuts.push({ start: at.entry, end: at.end + 1 });
      }
      return cuts.sort((a, b) => a.start - b.start);
    };
    const a = cutsOf(this);
    const b = cutsOf(other);
    if (!a || !b || this.size !== other.size) return false;
    let fromA = this.metaStart;
    let fromB = other.metaStart;
    for (let k = 0; k <= a.length; k++) {
      const endA = k < a.length ? a[k].start : this.metaEnd;
      const endB = k < b.length ? b[k].start : other.metaEnd;
      if (this.text.slice(fromA, endA) !== other.text.slice(fromB, endB)) return false;
      if (k < a.length) {
        fromA = a[k].end;
        fromB = b[k].end;
      }
    }
    return true;
  }
}
