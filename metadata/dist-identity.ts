// Which distribution a filename stands for, whatever its spelling, and whether two filenames of
// one project stand for the same one. PyPI keeps one sdist per release and one wheel per
// (version, build tag, compatibility tag); an index that accepted `foo-1.0.tar.gz` next to
// `Foo-1.0.0.tar.gz`, or `foo-1.0-py3-none-any.whl` next to `foo-1.0.0-py2.py3-none-any.whl`,
// would let pip pick either set of bytes for `foo==1.0`.
import { parseDistFilename, type DistFilename } from './pep503.js';
import { versionKey } from './pep440.js';

export interface DistIdentity {
  filename: string;
  kind: DistFilename['kind'];
  /** PEP 440 canonical version (metadata/pep440.ts). */
  version: string;
  /** Wheel build tag (binary distribution format: a number then an optional string), '' if none. */
  build: string;
  /** Every `python-abi-platform` tag the wheel is for, compressed tag sets expanded. */
  tags: Set<string>;
}

/**
 * Binary distribution format, "Compressed Tag Sets": `py2.py3-none-any` stands for
 * `py2-none-any` and `py3-none-any`. Tags compare lower-cased, as pip's packaging.tags does.
 */
export function expandWheelTags(python: string, abi: string, platform: string): Set<string> {
  const out = new Set<string>();
  for (const p of python.toLowerCase().split('.')) {
    for (const a of abi.toLowerCase().split('.')) {
      for (const pl of platform.toLowerCase().split('.')) out.add(`${p}-${a}-${pl}`);
    }
  }
  return out;
}

export function distIdentity(filename: string): DistIdentity {
  const d = parseDistFilename(filename);
  const version = versionKey(d.version);
  if (d.kind === 'sdist') return { filename, kind: d.kind, version, build: '', tags: new Set() };
  const parts = filename.slice(0, -'.whl'.length).split('-');
  const [python, abi, platform] = parts.slice(-3);
  const build = parts.length === 6 ? parts[2].replace(/^0*(\d)/, '$1').toLowerCase() : '';
  return { filename, kind: d.kind, version, build, tags: expandWheelTags(python, abi, platform) };
}

/** Whether two differently spelled filenames of one project stand for the same distribution. */
export function sameDistribution(a: DistIdentity, b: DistIdentity): boolean {
  if (a.kind !== b.kind || a.version !== b.version) return false;
  if (a.kind === 'sdist') return true; // one sdist per version
  if (a.build !== b.build) return false;
  for (const t of a.tags) if (b.tags.has(t)) return true;
  return false;
}

/**
 * The first pair (incoming, other) of one project's filenames that spell the same distribution
 * differently: each incoming filename against the published ones and the other incoming ones.
 * The same filename twice is not a conflict (its bytes are compared elsewhere).
 */
export function findSpellingConflict(published: string[], incoming: string[]): [string, string] | undefined {
  // Grouped by (kind, version, build): only those can be the same distribution.
  const groups = new Map<string, DistIdentity[]>();
  const add = (id: DistIdentity) => {
    const k = `${id.kind}|${id.version}|${id.build}`;
    const g = groups.get(k);
    if (g) g.push(id);
    else groups.set(k, [id]);
    return groups.get(k)!;
  };
  for (const name of published) add(distIdentity(name));
  for (const name of incoming) {
    const id = distIdentity(name);
    const group = groups.get(`${id.kind}|${id.version}|${id.build}`) ?? [];
    const other = group.find((s) => s.filename !== name && sameDistribution(id, s));
    if (other) return [name, other.filename];
    add(id);
  }
  return undefined;
}
