// `tufpip trust add/list/remove`: bootstrapping trust out of band (DESIGN.md "Client").
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import { TrustStore, type TrustedIndexStatus } from '../trust-store.js';
import { parseIndexUrl, verifyTransport } from '../index-url.js';

export interface TrustAddOptions {
  dataDir?: string;
  name?: string;
  allowHttp?: boolean;
}

export async function trustAdd(indexUrl: string, rootFile: string, opts: TrustAddOptions = {}): Promise<TrustedIndexStatus> {
  const { url } = parseIndexUrl(indexUrl);
  verifyTransport(url, opts.allowHttp);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(rootFile);
  } catch (err) {
    throw new TufpipError('NOT_FOUND', `cannot read root file ${rootFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const store = new TrustStore(opts.dataDir);
  const index = await store.add(url, bytes, { name: opts.name, rootSource: path.resolve(rootFile) });
  return store.status(index);
}

export async function trustList(opts: { dataDir?: string } = {}): Promise<TrustedIndexStatus[]> {
  const store = new TrustStore(opts.dataDir);
  return Promise.all((await store.list()).map((i) => store.status(i)));
}

export async function trustRemove(name: string, opts: { dataDir?: string } = {}): Promise<{ name: string; url: string }> {
  const removed = await new TrustStore(opts.dataDir).remove(name);
  return { name: removed.name, url: removed.url };
}
