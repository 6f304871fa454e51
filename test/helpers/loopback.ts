// Loopback servers for client tests (127.0.0.1 only): a plain HTTP(S) server with a handler, and
// a forward proxy (absolute-URI requests and CONNECT tunnels) that counts what went through it.
// Every server is closed by the test that started it (close() also destroys open sockets).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../io/free-port.js';

export interface Loopback {
  url: string;
  port: number;
  close(): Promise<void>;
}

function track(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export async function startHttp(handler: http.RequestListener, tls?: { key: string | Buffer; cert: string | Buffer }): Promise<Loopback> {
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const close = track(server);
  const port = await listen(server);
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/`, port, close };
}

export interface CountingProxy extends Loopback {
  /** Absolute-URI requests forwarded (plain-HTTP targets). */
  forwarded: string[];
  /** CONNECT tunnels opened (host:port). */
  tunnels: string[];
}

export async function startProxy(): Promise<CountingProxy> {
  const forwarded: string[] = [];
  const tunnels: string[] = [];
  const server = http.createServer((req, res) => {
    forwarded.push(req.url ?? '');
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const up = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  const close = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/`, port, close, forwarded, tunnels };
}

/** A self-signed certificate for a loopback HTTPS server (undefined when openssl is missing). */
export function selfSignedCert(dir: string, altName = 'IP:127.0.0.1'): { key: string; cert: string; certFile: string } | undefined {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', `/CN=${altName.replace(/^\w+:/, '')}`, '-addext', `subjectAltName=${altName}`], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8'), certFile: cert };
}


export { freePort };
