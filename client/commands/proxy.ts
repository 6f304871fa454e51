// `tufpip proxy`: the verifying proxy as a long-running service, so pip, uv or poetry can use it
// as their index URL (DESIGN.md "Client"). It re-runs the TUF update cycle periodically, so new
// releases appear and a frozen index is noticed (TUF spec 5.3.10, 5.4.4: expiry is checked on
// every update).
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TufpipError } from '../../metadata/errors.js';
import type { IndexClient } from '../lib/index-client.js';
import { isLoopbackHost } from '../lib/index-url.js';
import { NO_POLICY, checkPolicy, type Policy } from '../lib/policy.js';
import type { Refusal } from '../lib/refusal.js';
import { proxyPipCommand, proxyPipConfig } from '../proxy/proxy-pip-config.js';
import { VerifyingProxy } from '../proxy/verifying-proxy.js';
import { openTrustedIndex, type IndexChoice } from './open-index.js';

export const DEFAULT_REFRESH_SECONDS = 60;
/** pip's read timeout in the printed command: a file is answered once downloaded and verified. */
export const PIP_TIMEOUT_SECONDS = 300;

export interface ProxyCommandOptions extends IndexChoice {
  host?: string;
  port?: number;
  /** Seconds between update cycles (default 60). */
  refreshSeconds?: number;
  policy?: Policy;
  log?: (line: string) => void;
  onRefusal?: (r: Refusal) => void;
  onLocalError?: (err: Error) => void;
}

export interface ProxyService {
  proxy: VerifyingProxy;
  client: IndexClient;
  /** The pip configuration for this run (0600, holds the secret): pip's only source is the proxy. */
  pipConfig: string;
  /** The pip command to print (proxy-pip-config.ts); PACKAGE stands for the requirements. */
  pipCommand: string;
  /** Stops the server, closes connections and removes the verified cache. */
  stop(): Promise<void>;
}

export async function startProxyService(o: ProxyCommandOptions): Promise<ProxyService> {
  const host = o.host ?? '127.0.0.1';
  // pip would reach a non-loopback proxy over plain HTTP: the same rule as for index URLs.
  if (!isLoopbackHost(host) && !o.allowHttp) {
    throw new TufpipError('USAGE', `--host ${host} is not a loopback address: pip would reach the proxy over plain HTTP; pass --allow-http to accept that`);
  }
  const refresh = o.refreshSeconds ?? DEFAULT_REFRESH_SECONDS;
  if (!(refresh > 0)) throw new TufpipError('USAGE', `--refresh must be a positive number of seconds, got ${refresh}`);
  const client = await openTrustedIndex(o);
  const cacheDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tufpip-proxy-'));
  const policy = o.policy ?? NO_POLICY;
  let proxy: VerifyingProxy;
  try {
    proxy = await VerifyingProxy.start({
      source: client,
      cacheDir: path.join(cacheDir, 'verified'),
      host,
      port: o.port ?? 0,
      refreshIntervalMs: refresh * 1000,
      check: (project, target) => checkPolicy(policy, project, target),
      log: o.log,
      onRefusal: o.onRefusal,
      onLocalError: o.onLocalError,
    });
  } catch (err) {
    await client.close();
    await fsp.rm(cacheDir, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new TufpipError('USAGE', `port ${o.port} on ${host} is in use`, { cause: err });
    throw err;
  }
  // In the private 0700 temporary folder; 0600, as it holds the proxy's secret.
  const pipConfig = path.join(cacheDir, 'pip.conf');
  try {
    await fsp.writeFile(pipConfig, proxyPipConfig(proxy.indexUrl, PIP_TIMEOUT_SECONDS), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await proxy.close();
    await client.close();
    await fsp.rm(cacheDir, { recursive: true, force: true });
    throw err;
  }
  return {
    proxy,
    client,
    pipConfig,
    pipCommand: proxyPipCommand(pipConfig, new URL(proxy.url).hostname),
    async stop() {
      await proxy.close();
      await client.close();
      await fsp.rm(cacheDir, { recursive: true, force: true });
    },
  };
}
