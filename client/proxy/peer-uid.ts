// Linux: which user owns the other end of a TCP connection to the verifying proxy, from the
// kernel's socket tables (/proc/net/tcp and /proc/net/tcp6: one line per socket, with its local
// and remote "ADDR:PORT" (port in hex) and its owner uid). The complement to the per-run secret
// (proxy-secret.ts): a secret that leaked (a process list, a log) still does not let another
// local user in. Where the tables cannot be read (not Linux), the secret alone decides.
import fsp from 'node:fs/promises';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
const ESTABLISHED = '01';

/**
 * Uids owning a socket whose local port is `peerPort` and remote port `ourPort` (the client's
 * end of a connection to us), from the text of one table. Pure.
 */
export function ownersOf(table: string, peerPort: number, ourPort: number): number[] {
  const out: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[3] !== ESTABLISHED) continue;
    const local = parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16);
    const remote = parseInt(f[2].slice(f[2].lastIndexOf(':') + 1), 16);
    if (local === peerPort && remote === ourPort) out.push(Number(f[7]));
  }
  return out;
}

/**
 * Why a connection must be refused: its client socket belongs to another user than this
 * process's. Undefined when it is ours, or when it cannot be told (no /proc, no getuid, or the
 * client is not in this network namespace's tables).
 */
export async function otherUserReason(peerPort: number | undefined, ourPort: number | undefined): Promise<string | undefined> {
  const uid = process.getuid?.();
  if (uid === undefined || peerPort === undefined || ourPort === undefined) return undefined;
  const owners: number[] = [];
  for (const t of TABLES) {
    const text = await fsp.readFile(t, 'utf8').catch(() => undefined);
    if (text !== undefined) owners.push(...ownersOf(text, peerPort, ourPort));
  }
  const other = owners.find((o) => o !== uid);
  return other === undefined ? undefined : `connection from another local user (uid ${other})`;
}
