// netrc files, read the way pip reads them (pip's requests: `get_netrc_auth` with Python's
// `netrc` module): $NETRC if set, else ~/.netrc, else ~/_netrc; the entry for the URL's host name
// (without the port), else the `default` entry; login (or, without one, account) and password.
// The npm netrc parsers split lines with regular expressions and know no `default`, quoting or
// `macdef`; this one follows CPython 3.11 Lib/netrc.py token by token (checked against it in
// test/client-netrc.test.ts). Pure parsing here; the file is read by netrcCredentialFor.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface NetrcEntry {
  login: string;
  account: string;
  password: string;
}

export class NetrcParseError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = 'NetrcParseError';
    this.line = line;
  }
}

const WHITESPACE = new Set(['\n', '\t', '\r', ' ']);

/** CPython `_netrclex`: whitespace-separated tokens, `"quoted strings"`, backslash escapes. */
class Lexer {
  pos = 0;
  line = 1;
  private readonly pushback: string[] = [];
  constructor(private readonly text: string) {}

  private read(): string {
    if (this.pos >= this.text.length) return '';
    const ch = this.text[this.pos++];
    if (ch === '\n') this.line++;
    return ch;
  }

  /** Skips the rest of the current line (a comment). */
  readLine(): string {
    const end = this.text.indexOf('\n', this.pos);
    const stop = end < 0 ? this.text.length : end + 1;
    const line = this.text.slice(this.pos, stop);
    this.pos = stop;
    if (end >= 0) this.line++;
    return line;
  }

  token(): string {
    if (this.pushback.length) return this.pushback.shift()!;
    let token = '';
    for (let ch = this.read(); ch !== ''; ch = this.read()) {
      if (WHITESPACE.has(ch)) continue;
      if (ch === '"') {
        for (ch = this.read(); ch !== ''; ch = this.read()) {
          if (ch === '"') return token;
          if (ch === '\\') ch = this.read();
          token += ch;
        }
        return token;
      }
      if (ch === '\\') ch = this.read();
      token += ch;
      for (ch = this.read(); ch !== ''; ch = this.read()) {
        if (WHITESPACE.has(ch)) return token;
        if (ch === '\\') ch = this.read();
        token += ch;
      }
      return token;
    }
    return token;
  }

  push(token: string): void {
    this.pushback.push(token);
  }
}

/** Parses a netrc file: host name (or `default`) -> entry. Throws NetrcParseError as CPython does. */
export function parseNetrc(text: string): Map<string, NetrcEntry> {
  const hosts = new Map<string, NetrcEntry>();
  const lex = new Lexer(text);
  for (;;) {
    const savedLine = lex.line;
    const top = lex.token();
    if (!top) break;
    let entry: string;
    if (top[0] === '#') {
      if (lex.line === savedLine && top.length === 1) lex.readLine();
      continue;
    } else if (top === 'machine') {
      entry = lex.token();
    } else if (top === 'default') {
      entry = 'default';
    } else if (top === 'macdef') {
      lex.token();
      // A macro runs until an empty line.
      for (;;) {
        const line = lex.readLine();
        if (!line) throw new NetrcParseError('Macro definition missing null line terminator.', lex.line);
        if (line === '\n') break;
      }
      continue;
    } else {
      throw new NetrcParseError(`bad toplevel token '${top}'`, lex.line);
    }
    if (!entry) throw new NetrcParseError(`missing '${top}' name`, lex.line);
    const e: NetrcEntry = { login: '', account: '', password: '' };
    for (;;) {
      const prevLine = lex.line;
      const tt = lex.token();
      if (tt.startsWith('#')) {
        if (lex.line === prevLine) lex.readLine();
        continue;
      }
      if (tt === '' || tt === 'machine' || tt === 'default' || tt === 'macdef') {
        hosts.set(entry, e);
        lex.push(tt);
        break;
      } else if (tt === 'login' || tt === 'user') {
        e.login = lex.token();
      } else if (tt === 'account') {
        e.account = lex.token();
      } else if (tt === 'password') {
        e.password = lex.token();
      } else {
        throw new NetrcParseError(`bad follower token '${tt}'`, lex.line);
      }
    }
  }
  return hosts;
}

/** The netrc file pip would read: $NETRC if set (even if missing), else ~/.netrc, else ~/_netrc. */
export function netrcFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NETRC !== undefined) return fs.existsSync(env.NETRC) ? path.resolve(env.NETRC) : undefined;
  const home = env.HOME || os.homedir();
  for (const name of ['.netrc', '_netrc']) {
    const file = path.join(home, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

export interface NetrcMatch {
  file: string;
  /** The entry that matched: the host name, or `default`. */
  machine: string;
  username: string;
  password: string;
}

/**
 * CPython netrc `_security_check`, for the default file only (not $NETRC): on POSIX, a file that
 * another user owns or that group or others may read is refused unless every login is
 * "anonymous"; pip's requests then skips the file.
 */
function isUnsafeDefaultFile(file: string, hosts: Map<string, NetrcEntry>): boolean {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return false;
  if ([...hosts.values()].every((e) => e.login === 'anonymous')) return false;
  const st = fs.statSync(file);
  return st.uid !== process.getuid() || (st.mode & 0o077) !== 0;
}

/**
 * Credentials for a host from the netrc file, as pip gets them: none when there is no file, no
 * entry, or the file cannot be read, parsed or trusted (pip's requests skips such a file too).
 */
export function netrcCredentialFor(hostname: string, env: NodeJS.ProcessEnv = process.env): NetrcMatch | undefined {
  const file = netrcFile(env);
  if (!file) return undefined;
  let hosts: Map<string, NetrcEntry>;
  try {
    hosts = parseNetrc(fs.readFileSync(file, 'utf8'));
    if (env.NETRC === undefined && isUnsafeDefaultFile(file, hosts)) return undefined;
  } catch {
    return undefined;
  }
  const host = hostname.replace(/^\[|\]$/g, '');
  const machine = hosts.has(host) ? host : hosts.has('default') ? 'default' : undefined;
  if (!machine) return undefined;
  const e = hosts.get(machine)!;
  return { file, machine, username: e.login || e.account, password: e.password };
}
