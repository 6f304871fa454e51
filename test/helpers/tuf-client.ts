// A real TUF client for tests: tuf-js's Updater over real HTTP, trusting only the root file it
// was given, plus an independent reader of what a repository publishes (plain JSON, none of
// repo-tools' code) so tests can enumerate every target and compare.
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';
import type { TargetFile } from '@tufjs/models';
import '../setup.js'; // linear @tufjs/models parsing, as the CLIs (test/setup.ts)
import { tmpDir } from './tmp.js';
import { sha256File } from './hash.js';

export interface PublishedTarget {
  length: number;
  sha256: string;
  /** The role that lists it. */
  role: string;
}

export interface PublishedState {
  timestampVersion: number;
  snapshotVersion: number;
  /** role name -> version named by the snapshot. */
  roles: Map<string, number>;
  /** target path -> info, from every targets role in the snapshot. */
  targets: Map<string, PublishedTarget>;
}

function readJson(file: string): { signed: Record<string, unknown> } {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { signed: Record<string, unknown> };
}

/** What `<repo>/site/metadata/timestamp.json` publishes, followed down to every targets role. */
export function readPublished(repoDir: string): PublishedState {
  const md = path.join(repoDir, 'site', 'metadata');
  const ts = readJson(path.join(md, 'timestamp.json')).signed as { version: number; meta: Record<string, { version: number }> };
  const snapVersion = ts.meta['snapshot.json'].version;
  const snap = readJson(path.join(md, `${snapVersion}.snapshot.json`)).signed as { meta: Record<string, { version: number }> };
  const roles = new Map<string, number>();
  const targets = new Map<string, PublishedTarget>();
  for (const [file, { version }] of Object.entries(snap.meta)) {
    const role = file.replace(/\.json$/, '');
    roles.set(role, version);
    const signed = readJson(path.join(md, `${version}.${role}.json`)).signed as { targets: Record<string, { length: number; hashes: { sha256: string } }> };
    for (const [p, info] of Object.entries(signed.targets)) {
      if (!targets.has(p)) targets.set(p, { length: info.length, sha256: info.hashes.sha256, role });
    }
  }
  return { timestampVersion: ts.version, snapshotVersion: snapVersion, roles, targets };
}


export interface ClientView {
  timestampVersion: number;
  snapshotVersion: number;
  /** Every asked-for path the client resolved, with the verified download's sha256. */
  resolved: Map<string, { length: number; sha256: string }>;
  /** Asked-for paths the client does not find. */
  missing: string[];
}

/**
 * A tuf-js client with its own metadata cache (metadataDir starts with only the given root).
 * Each `refresh()` builds a new Updater over the same cache, as a fresh client process would.
 */
export class TufClient {
  readonly metadataDir: string;
  readonly downloadDir: string;
  constructor(readonly baseUrl: string, rootFile: string) {
    const dir = tmpDir('tufpip-client-');
    this.metadataDir = path.join(dir, 'metadata');
    this.downloadDir = path.join(dir, 'downloads');
    fs.mkdirSync(this.metadataDir);
    fs.mkdirSync(this.downloadDir);
    fs.copyFileSync(rootFile, path.join(this.metadataDir, 'root.json'));
  }

  updater(): Updater {
    return new Updater({
      metadataDir: this.metadataDir,
      metadataBaseUrl: `${this.baseUrl}metadata/`,
      targetBaseUrl: this.baseUrl,
      targetDir: this.downloadDir,
    });
  }

  /** The versions this client's cache holds (what it accepted last). */
  cachedVersions(): { timestampVersion: number; snapshotVersion: number } {
    const ts = readJson(path.join(this.metadataDir, 'timestamp.json')).signed as { version: number; meta: Record<string, { version: number }> };
    return { timestampVersion: ts.version, snapshotVersion: ts.meta['snapshot.json'].version };
  }

  /** Refresh, then resolve, download and verify each path (tuf-js checks length and hashes). */
  async view(paths: Iterable<string>): Promise<ClientView> {
    const u = this.updater();
    await u.refresh();
    const resolved = new Map<string, { length: number; sha256: string }>();
    const missing: string[] = [];
    let i = 0;
    for (const p of paths) {
      const info: TargetFile | undefined = await u.getTargetInfo(p);
      if (!info) {
        missing.push(p);
        continue;
      }
      const dest = path.join(this.downloadDir, `t${i++}`);
      await u.downloadTarget(info, dest);
      const sha = sha256File(dest);
      if (sha !== info.hashes.sha256) throw new Error(`${p}: downloaded sha256 ${sha} but metadata says ${info.hashes.sha256}`);
      resolved.set(p, { length: fs.statSync(dest).size, sha256: sha });
      fs.rmSync(dest);
    }
    return { ...this.cachedVersions(), resolved, missing };
  }
}
