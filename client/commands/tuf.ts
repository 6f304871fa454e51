// `tufpip tuf init/refresh/download`: the TUF ecosystem's client-under-test CLI convention
// (tuf-conformance CLIENT-CLI.md; also what tuf-js and python-tuf expose for conformance runs), on
// the same hardened client as everything else. Exit 0 on success, 1 on any failure.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import type { VerifiedTarget } from '../lib/api.js';
import type { IndexClient } from '../lib/index-client.js';
import { checkRootBytes, type RootSummary } from '../lib/root-check.js';
import { writeFileAtomicSync } from '../../io/atomic-file.js';

export interface TufCommonOptions {
  metadataDir: string;
  metadataUrl: string;
  allowHttp?: boolean;
  idleTimeoutMs?: number;
  onProgress?: (path: string, received: number, total: number) => void;
}

/** Stores the trusted root as METADATA_DIR/root.json (no request is made; TUF spec 5.2). */
export async function tufInit(trustedRoot: string, metadataDir: string): Promise<RootSummary & { metadataDir: string }> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(trustedRoot);
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read trusted root ${trustedRoot}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const summary = checkRootBytes(bytes, trustedRoot);
  await fsp.mkdir(metadataDir, { recursive: true });
  writeFileAtomicSync(path.join(metadataDir, 'root.json'), bytes);
  return { ...summary, metadataDir: path.resolve(metadataDir) };
}

async function openDir(o: TufCommonOptions, targetBaseUrl?: string): Promise<IndexClient> {
  try {
    await fsp.access(path.join(o.metadataDir, 'root.json'));
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `no root.json in ${o.metadataDir}: run 'tufpip tuf init TRUSTED_ROOT --metadata-dir ${o.metadataDir}' first`, { cause: err });
  }
  const { IndexClient } = await import('../index.js'); // the library entry (linear parsing installed)
  return IndexClient.openMetadataDir({
    metadataDir: o.metadataDir,
    metadataBaseUrl: o.metadataUrl,
    targetBaseUrl,
    allowHttp: o.allowHttp,
    idleTimeoutMs: o.idleTimeoutMs,
    onProgress: o.onProgress,
  });
}

/** TUF spec 5.1-5.6 against METADATA_URL, persisting into METADATA_DIR (non-versioned names). */
export async function tufRefresh(o: TufCommonOptions): Promise<{ requests: number }> {
  const client = await openDir(o);
  try {
    await client.refresh();
    return { requests: client.requests.length };
  } finally {
    await client.close();
  }
}

export interface TufDownloadResult extends VerifiedTarget {
  file: string;
  /** False when a valid copy already in TARGET_DIR was kept. */
  downloaded: boolean;
}

/**
 * Refreshes, then downloads each target into TARGET_DIR under its URL-encoded target path (the
 * name tuf-js and python-tuf use), skipping one whose valid copy is already there.
 */
export async function tufDownload(o: TufCommonOptions & { targetNames: string[]; targetBaseUrl: string; targetDir: string }): Promise<TufDownloadResult[]> {
  const client = await openDir(o, o.targetBaseUrl);
  try {
    await client.refresh();
    await fsp.mkdir(o.targetDir, { recursive: true });
    const out: TufDownloadResult[] = [];
    for (const name of o.targetNames) {
      const file = path.resolve(o.targetDir, encodeURIComponent(name));
      // encodeURIComponent keeps '.' and '..': such a name would write TARGET_DIR itself or its
      // parent (found by test/repo-faults-bad-input.test.ts).
      if (path.dirname(file) !== path.resolve(o.targetDir)) {
        throw new TufpipError('USAGE', `--target-name ${JSON.stringify(name)} is not a file name inside the target directory`);
      }
      const { target, downloaded } = await client.ensureDownloaded(name, file);
      out.push({ ...target, file, downloaded });
    }
    return out;
  } finally {
    await client.close();
  }
}
