// Where an object-store repository lives (docs/object-storage.md): `s3://BUCKET/PREFIX` for the
// public objects (served anonymously, by a CDN), and a private prefix (default `<PREFIX>-private/`
// in the same bucket, or `s3://OTHER/PREFIX`) for the repository's private state: journal, record
// of withdrawn files, a copy of the public config. No credentials here: they come from the SDK's
// default chain only (s3-client.ts). Recorded in the local config.json as `storage`.
import { TufpipError } from '../../metadata/errors.js';

export interface S3Location {
  backend: 's3';
  bucket: string;
  /** Key prefix of the served tree: '' or ending in '/'. */
  prefix: string;
  privateBucket: string;
  /** Key prefix of the private state, ending in '/'; never inside `prefix` of the same bucket. */
  privatePrefix: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  /**
   * Plain-named targets for plain pip beside the hash-named copies (init `--plain-names`;
   * storage.ts `plainNames`). Absent: TUF clients only.
   */
  plainNames?: boolean;
}

/** `s3://BUCKET/PREFIX` -> bucket and prefix ('' or ending in '/'). */
export function parseS3Url(url: string, flag: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new TufpipError('USAGE', `${flag} must be s3://BUCKET/PREFIX with a valid bucket name, got ${JSON.stringify(url)}`);
  let prefix = (m[2] ?? '').replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (prefix.split('/').some((p, i, a) => (p === '' && i < a.length - 1) || p === '.' || p === '..')) {
    throw new TufpipError('USAGE', `${flag}: the prefix ${JSON.stringify(prefix)} has an empty, '.' or '..' segment`);
  }
  return { bucket: m[1], prefix };
}

export interface S3Flags {
  storage: string;
  private?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  plainNames?: boolean;
}

export function s3LocationFromFlags(f: S3Flags): S3Location {
  const pub = parseS3Url(f.storage, '--storage');
  const priv = f.private !== undefined ? parseS3Url(f.private, '--private') : { bucket: pub.bucket, prefix: `${pub.prefix === '' ? 'tufpip' : pub.prefix.slice(0, -1)}-private/` };
  if (priv.prefix === '') throw new TufpipError('USAGE', '--private needs a prefix (s3://BUCKET/PREFIX): the private state is never at the top of a bucket');
  if (priv.bucket === pub.bucket && (priv.prefix.startsWith(pub.prefix) || pub.prefix.startsWith(priv.prefix))) {
    throw new TufpipError('USAGE', `--private s3://${priv.bucket}/${priv.prefix} overlaps the public s3://${pub.bucket}/${pub.prefix}: private state must never be served`);
  }
  if (f.endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(f.endpoint);
    } catch {
      throw new TufpipError('USAGE', `--s3-endpoint must be an http(s) URL, got ${JSON.stringify(f.endpoint)}`);
    }
    if (!/^https?:$/.test(u.protocol) || u.username || u.password) throw new TufpipError('USAGE', '--s3-endpoint must be an http(s) URL without credentials');
  }
  return { backend: 's3', bucket: pub.bucket, prefix: pub.prefix, privateBucket: priv.bucket, privatePrefix: priv.prefix, endpoint: f.endpoint, region: f.region, pathStyle: f.pathStyle, plainNames: f.plainNames || undefined };
}

/** Checks a `storage` field read from config.json (throws a message naming the field). */
export function checkS3Location(v: unknown, bad: (field: string, want: string, got: unknown) => Error): S3Location {
  const o = v as Partial<S3Location> | null;
  if (!o || typeof o !== 'object' || o.backend !== 's3') throw bad('storage', 'an object with backend "s3"', v);
  for (const f of ['bucket', 'prefix', 'privateBucket', 'privatePrefix'] as const) if (typeof o[f] !== 'string') throw bad(`storage.${f}`, 'a string', o[f]);
  for (const f of ['endpoint', 'region'] as const) if (o[f] !== undefined && typeof o[f] !== 'string') throw bad(`storage.${f}`, 'a string', o[f]);
  for (const f of ['pathStyle', 'plainNames'] as const) if (o[f] !== undefined && typeof o[f] !== 'boolean') throw bad(`storage.${f}`, 'true or false', o[f]);
  return o as S3Location;
}

export function describeS3(l: S3Location): string {
  return `s3://${l.bucket}/${l.prefix}`;
}

/** The object key of a published object: `<prefix>metadata/<name>` or `<prefix><target path>`. */
export function s3ObjectKey(loc: S3Location, area: 'metadata' | 'targets', name: string): string {
  return `${loc.prefix}${area === 'metadata' ? 'metadata/' : ''}${name}`;
}
