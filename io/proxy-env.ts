// Which proxy a URL goes through, from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY (lower case
// wins; an https URL uses HTTPS_PROXY, never HTTP_PROXY, as curl and pip/requests do). Node 20's fetch ignores these variables (one of the
// tuf-js 5.0.1 gaps, DESIGN.md "Runtime and dependencies"). Pure: the environment is passed in.

export interface ProxyEnv {
  httpProxy?: string;
  httpsProxy?: string;
  allProxy?: string;
  noProxy?: string;
}

export function proxyEnvFrom(env: NodeJS.ProcessEnv): ProxyEnv {
  const pick = (name: string) => {
    const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
    return v && v.trim() ? v.trim() : undefined;
  };
  return { httpProxy: pick('http_proxy'), httpsProxy: pick('https_proxy'), allProxy: pick('all_proxy'), noProxy: pick('no_proxy') };
}

const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** NO_PROXY: `*`, host names (`example.com` also matches subdomains), `.example.com`, `host:port`, IPs. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || DEFAULT_PORT[url.protocol] || 0;
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    if (m[2] && Number(m[2]) !== port) continue;
    const name = m[1].replace(/^\[|\]$/g, '').replace(/^\*?\./, '.');
    if (name.startsWith('.')) {
      if (host.endsWith(name) || host === name.slice(1)) return true;
    } else if (host === name || host.endsWith(`.${name}`)) {
      return true;
    }
  }
  return false;
}

/** The proxy URL for a request URL, or undefined for a direct connection. */
export function proxyFor(url: URL, env: ProxyEnv): string | undefined {
  if (bypassesProxy(url, env.noProxy)) return undefined;
  if (url.protocol === 'https:') return env.httpsProxy ?? env.allProxy;
  if (url.protocol === 'http:') return env.httpProxy ?? env.allProxy;
  return undefined;
}
