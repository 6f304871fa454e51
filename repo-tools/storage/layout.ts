// Folders and files of a repository directory (DESIGN.md "The served tree"): `config.json`
// (public), `site/` (served), `journal`, `retired-files`, `lock`, and by default (demo only) `keys/`.
import path from 'node:path';
import fs from 'node:fs';
import fse from 'fs-extra';
import { TufpipError } from '../../metadata/errors.js';
import { EXPIRY_KEYS, defaultExpiryDays, verifyBinCount, type ExpiryKey } from '../../metadata/profile.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { checkS3Location, type S3Location } from './s3-location.js';
import { DEFAULT_CACHE_POLICY, type CachePolicy } from '../../metadata/cache-policy.js';

export const CONFIG_FORMAT = 'tufpip-repo/1';

/** Public configuration: never secrets (key material stays in key files / the environment). */
export interface RepoConfig {
  format: typeof CONFIG_FORMAT;
  url: string;
  bins: number;
  expires: Record<ExpiryKey, number>;
  /** Signer URI of the online key (`file:...` relative to the repository, or `env:VAR`). */
  onlineSigner: string;
  /** Name of the environment variable holding the online key's passphrase, if encrypted. */
  onlinePassphraseEnv?: string;
  /** Where offline keys were generated (a hint for operators; they belong offline). */
  keysDir?: string;
  /** Where the served tree and private state live when not in this folder (storage/s3-location.ts). */
  storage?: S3Location;
  /** HTTP caching of the public area, seconds (metadata/cache-policy.ts; default 60 and 60). */
  cache?: Partial<CachePolicy>;
}

/** The repository's cache policy: config.json `cache` over the defaults. */
export function cachePolicyOf(config: RepoConfig): CachePolicy {
  return { ...DEFAULT_CACHE_POLICY, ...config.cache };
}

export class RepoLayout {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }
  get configFile(): string {
    return path.join(this.dir, 'config.json');
  }
  get site(): string {
    return path.join(this.dir, 'site');
  }
  get metadataDir(): string {
    return path.join(this.site, 'metadata');
  }
  get journalFile(): string {
    return path.join(this.dir, 'journal');
  }
  /** Withdrawn package files and their hashes (storage/retired-files.ts); never under site/. */
  get retiredFile(): string {
    return path.join(this.dir, 'retired-files');
  }
  metadataFile(name: string): string {
    return path.join(this.metadataDir, name);
  }
  /** Absolute path of a target path (or hashed target path) under site/. */
  targetFile(targetPath: string): string {
    return path.join(this.site, ...targetPath.split('/'));
  }
  /** True if p is inside site/ (private material must never be). */
  isUnderSite(p: string): boolean {
    const rel = path.relative(this.site, path.resolve(p));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  }

  async loadConfig(): Promise<RepoConfig> {
    let raw: string;
    try {
      raw = fs.readFileSync(this.configFile, 'utf8'); // one small file: no thread-pool round trip
    } catch (err) {
      throw new TufpipError('NOT_FOUND', `${this.dir} is not a tufpip repository (no config.json); create one with 'tufpip-repo init'`, { cause: err });
    }
    let cfg: RepoConfig;
    try {
      cfg = JSON.parse(raw) as RepoConfig;
    } catch (err) {
      throw new TufpipError('BAD_INPUT', `${this.configFile} is not valid JSON`, { cause: err });
    }
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new TufpipError('BAD_INPUT', `${this.configFile} is not a JSON object`);
    if (cfg.format !== CONFIG_FORMAT) throw new TufpipError('BAD_INPUT', `${this.configFile}: unknown format ${JSON.stringify(cfg.format)}`);
    // Every field is checked here, so a hand-edited or damaged config.json fails with the field
    // named instead of "Invalid time value" or "uri.indexOf is not a function" in the middle of a
    // transaction (found by test/repo-faults-bad-input.test.ts).
    const bad = (field: string, want: string, got: unknown) => new TufpipError('BAD_INPUT', `${this.configFile}: ${field} must be ${want}, got ${JSON.stringify(got)}`);
    if (typeof cfg.url !== 'string' || !/^https?:\/\//.test(cfg.url)) throw bad('url', 'an http(s) URL', cfg.url);
    try {
      verifyBinCount(cfg.bins);
    } catch {
      throw bad('bins', 'a power of two from 2 to 16384', cfg.bins);
    }
    if (typeof cfg.onlineSigner !== 'string' || cfg.onlineSigner === '') throw bad('onlineSigner', 'a signer URI (file:PATH or env:VAR)', cfg.onlineSigner);
    for (const f of ['onlinePassphraseEnv', 'keysDir'] as const) if (cfg[f] !== undefined && typeof cfg[f] !== 'string') throw bad(f, 'a string', cfg[f]);
    if (cfg.expires !== undefined && (typeof cfg.expires !== 'object' || cfg.expires === null || Array.isArray(cfg.expires))) throw bad('expires', 'an object of ROLE: DAYS', cfg.expires);
    for (const [k, v] of Object.entries(cfg.expires ?? {})) {
      if (!(EXPIRY_KEYS as readonly string[]).includes(k)) throw bad(`expires.${k}`, `one of ${EXPIRY_KEYS.join(', ')}`, k);
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`expires.${k}`, 'a positive number of days', v);
    }
    if (cfg.storage !== undefined) checkS3Location(cfg.storage, bad);
    if (cfg.cache !== undefined && (typeof cfg.cache !== 'object' || cfg.cache === null || Array.isArray(cfg.cache))) throw bad('cache', 'an object of headMaxAge / mutableMaxAge seconds', cfg.cache);
    for (const [k, v] of Object.entries(cfg.cache ?? {})) {
      if (!(k in DEFAULT_CACHE_POLICY)) throw bad(`cache.${k}`, 'headMaxAge or mutableMaxAge', k);
      if (!Number.isInteger(v) || (v as number) < 0) throw bad(`cache.${k}`, 'a whole number of seconds', v);
    }
    cfg.expires = { ...defaultExpiryDays, ...cfg.expires };
    return cfg;
  }

  async saveConfig(cfg: RepoConfig): Promise<void> {
    await writeFileAtomic(this.configFile, JSON.stringify(cfg, null, 2) + '\n');
  }
}
