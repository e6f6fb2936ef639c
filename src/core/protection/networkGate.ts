// A network limited to named hosts (`sandbox.network: [huggingface.co, '*.hf.co']`). The sandboxed run gets a
// network namespace of its own, so nothing it starts can reach past its loopback; the one way out is an HTTP proxy
// the engine runs for that run, on a Unix socket bound into the sandbox. A small bridge inside the sandbox (Node,
// the same binary the engine runs on) listens on the run's loopback and forwards to that socket, and the run's
// proxy variables point at it. The proxy lets through CONNECT tunnels and plain HTTP requests to the listed hosts
// and refuses every other with 403, naming the host and the config key. A program that ignores the proxy variables
// gets no network at all: the list is enforced by the namespace, not by the program's good manners.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The port the bridge listens on inside the run's own network namespace. */
export const BRIDGE_PORT = 3128;

/** Written inside the sandbox's private /tmp when the bridge listens; the command starts after it. */
const READY = '/tmp/.autoresearch-proxy-ready';

/** Whether `host` is on the list: exactly, or as a subdomain of a `*.` entry. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e;
  });
}

// The bridge, run inside the sandbox: loopback port → the gate's socket, one pipe per connection.
const BRIDGE = `'use strict';
const net = require('node:net');
const fs = require('node:fs');
const [sock, port, ready] = process.argv.slice(2);
net.createServer((c) => {
  const up = net.connect(sock);
  c.pipe(up).pipe(c);
  c.on('error', () => up.destroy());
  up.on('error', () => c.destroy());
}).listen(Number(port), '127.0.0.1', () => fs.writeFileSync(ready, ''));
`;

// Starts the bridge in the background, waits (up to 5 s) until it listens, runs the command, and ends the bridge
// with it, passing on the command's exit code. (A budget's or a stop's signal reaches all three: one process group.)
// Arguments: the Node binary, the bridge, the socket, the port, then the command and its arguments.
const LAUNCHER = `node="$1"; bridge="$2"; sock="$3"; port="$4"; shift 4
ELECTRON_RUN_AS_NODE=1 "$node" "$bridge" "$sock" "$port" ${READY} </dev/null >/dev/null 2>&1 &
b=$!
i=0; while [ ! -e ${READY} ] && [ "$i" -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
[ -e ${READY} ] || echo "[autoresearch] the sandbox's network proxy did not start; the run has no network" >&2
"$@"
rc=$?
kill "$b" 2>/dev/null
exit "$rc"`;

/** The proxy of one run: started before it, closed after it; `refused` names the hosts it turned away. */
export class NetworkGate {
  readonly refused = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly allowed: readonly string[],
  ) {}

  /** Listens on a fresh socket in its own folder (short, for the 108-byte limit of socket paths). */
  static async open(allowed: readonly string[]): Promise<NetworkGate> {
    const dir = mkdtempSync(join(tmpdir(), 'ar-net-'));
    writeFileSync(join(dir, 'bridge.cjs'), BRIDGE);
    const server = createServer();
    const gate = new NetworkGate(server, dir, allowed);
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => gate.tunnel(req, socket, head));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => gate.forward(req, res));
    server.on('connection', (s: Socket) => {
      gate.sockets.add(s);
      s.on('close', () => gate.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(gate.socketPath, () => resolve());
    });
    // A run the controller abandons must not keep the engine's process alive.
    server.unref();
    return gate;
  }

  get socketPath(): string {
    return join(this.dir, 'proxy.sock');
  }

  /** bubblewrap arguments: the gate's folder, read-only, and the proxy variables every common client reads. */
  sandboxArgs(): string[] {
    const url = `http://127.0.0.1:${BRIDGE_PORT}`;
    const env = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'].flatMap((k) => ['--setenv', k, url]);
    return ['--ro-bind', this.dir, this.dir, ...env, '--setenv', 'NO_PROXY', 'localhost,127.0.0.1', '--setenv', 'no_proxy', 'localhost,127.0.0.1'];
  }

  /** What runs inside the sandbox before the command: the command's argv follows it. */
  launcher(node = process.execPath): string[] {
    return ['/bin/sh', '-c', LAUNCHER, 'autoresearch-network', node, join(this.dir, 'bridge.cjs'), this.socketPath, String(BRIDGE_PORT)];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private refuse(host: string): string {
    this.refused.add(host);
    return `autoresearch sandbox: ${host} is not in sandbox.network; add it there to let runs reach it\n`;
  }

  private tunnel(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const target = splitHostPort(req.url ?? '', 443);
    socket.on('error', () => undefined);
    if (!target || !hostAllowed(target.host, this.allowed)) {
      const body = this.refuse(target?.host ?? String(req.url));
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const up = connect(target.port, target.host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket).pipe(up);
    });
    this.sockets.add(up);
    up.on('close', () => this.sockets.delete(up));
    up.on('error', (e) => socket.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${e.message}\n`));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? '');
    } catch {
      url = null;
    }
    if (!url || url.protocol !== 'http:' || !hostAllowed(url.hostname, this.allowed)) {
      res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' }).end(this.refuse(url?.hostname || String(req.url)));
      return;
    }
    const up = httpRequest({ host: url.hostname, port: url.port || 80, method: req.method, path: url.pathname + url.search, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`${e.message}\n`);
    });
    req.pipe(up);
  }
}

function splitHostPort(authority: string, defaultPort: number): { host: string; port: number } | null {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(authority);
  if (!m) return null;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
}
