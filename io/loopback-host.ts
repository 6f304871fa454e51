// Whether a host name or address is this machine's loopback (RFC 6761 `localhost` names,
// 127.0.0.0/8, ::1 and its IPv4-mapped form): plain HTTP there never crosses a network.
import net from 'node:net';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}
