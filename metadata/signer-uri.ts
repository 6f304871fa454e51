// Signer URIs (securesystemslib `Signer.from_priv_key_uri`): `SCHEME:REST`, e.g.
// `file:keys/online.pem` or `env:TUFPIP_ONLINE_KEY` (repo-tools/keys/signer.ts loads them). A
// string without a scheme is a key file path, as if `file:` were written: no colon, a one-letter
// "scheme" (a Windows drive, `C:\keys\online.pem`), or text before the first colon that is not a
// URI scheme (RFC 3986 3.1: a letter, then letters, digits, `+`, `-`, `.`), as in `./a:b/key.pem`.

export interface SignerUri {
  /** As written (`file`, `env`, or another registered scheme). */
  scheme: string;
  /** The part after `SCHEME:` (for `file`, a path; relative paths resolve against a base directory). */
  rest: string;
}

export function parseSignerUri(uri: string): SignerUri {
  const m = /^([a-z][a-z0-9+.-]+):/i.exec(uri);
  return m ? { scheme: m[1], rest: uri.slice(m[0].length) } : { scheme: 'file', rest: uri };
}

/** The URI with its scheme written out (`keys/online.pem` -> `file:keys/online.pem`). */
export function signerUriText(uri: string): string {
  const p = parseSignerUri(uri);
  return `${p.scheme}:${p.rest}`;
}

/** The key file a signer URI names (relative as written), or undefined for other schemes. */
export function signerKeyFile(uri: string): string | undefined {
  const p = parseSignerUri(uri);
  return p.scheme === 'file' ? p.rest : undefined;
}
