// A TCP port free on 127.0.0.1 right now, for a program that must be told its port before it
// starts (the demo's index server, tests' child servers). Another process may take it before the
// caller binds it: callers bind at once.
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
