// The streaming server: Exec, Attach and PortForward hand out `<base>/<kind>/<token>` URLs on it,
// and the client (kubelet, crictl, critest) upgrades a request to that URL to SPDY/3.1 or to a
// WebSocket. The token is taken on the first request, so a URL works once.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log';
import { invalidArgument } from '../../common/errors';
import { TokenCache, type StreamingRequest } from './tokens';
import {
  REMOTECOMMAND_PROTOCOLS,
  type RemoteCommandProtocol,
  type SessionIo,
  type SessionResult,
} from './remotecommand';
import { serveSpdySession } from './spdy_session';
import { serveSpdyPortForward, type Dialer } from './portforward';
import { serveWebSocket, isWebSocketUpgrade } from './websocket';
import { listHeader, refuse } from './http_reply';

/** What the server asks of the runtime; the CRI layer implements it. */
export interface StreamingBackend {
  exec(req: Extract<StreamingRequest, { kind: 'exec' }>, session: SessionIo): Promise<SessionResult>;
  attach(req: Extract<StreamingRequest, { kind: 'attach' }>, session: SessionIo): Promise<SessionResult>;
  /** A dialer into the pod's network namespace (checked once, when the connection arrives). */
  portForward(req: Extract<StreamingRequest, { kind: 'portforward' }>): Dialer;
}

export interface StreamingServerOptions {
  /** host:port; port 0 takes a free one. */
  address: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  backend: StreamingBackend;
  log: Logger;
  tokens?: TokenCache;
  streamCreationTimeoutMs?: number;
  /**
   * A connection with no traffic for this long is closed, and a port-forward connection with no
   * open stream too (default 4 h, as the kubelet's streamIdleTimeout).
   */
  idleTimeoutMs?: number;
}

const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

export class StreamingServer {
  private readonly tokens: TokenCache;
  private readonly sockets = new Set<Duplex>();
  private baseUrl = '';

  private constructor(
    private readonly server: http.Server | https.Server,
    private readonly options: StreamingServerOptions,
  ) {
    this.tokens = options.tokens ?? new TokenCache();
  }

  static async start(options: StreamingServerOptions): Promise<StreamingServer> {
    const { host, port } = splitAddress(options.address);
    const server = options.tls ? https.createServer(options.tls) : http.createServer();
    const s = new StreamingServer(server, options);
    server.on('request', (req, res) => s.plainRequest(req, res));
    server.on('upgrade', (req, socket, head) => s.upgrade(req, socket, head));
    server.on('connection', (socket: net.Socket) => {
      s.sockets.add(socket);
      socket.once('close', () => s.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    s.baseUrl = `${options.tls ? 'https' : 'http'}://${urlHost}:${bound.port}`;
    return s;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Stores the request and returns the absolute URL the client connects to. */
  urlFor(request: StreamingRequest): string {
    return `${this.baseUrl}/${request.kind}/${this.tokens.insert(request)}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private plainRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Without an upgrade there is nothing to stream; the token is left for the real attempt.
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('Upgrade to SPDY/3.1 or websocket required\n');
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.options.log.debug({ err }, 'streaming socket error'));
    const match = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)(?:\?.*)?$/.exec(req.url ?? '');
    const request = match ? this.tokens.consume(match[2]) : undefined;
    if (!match || !request || request.kind !== match[1])
      return refuse(socket, 404, 'unknown or expired stream token');
    if (head.length > 0) socket.unshift(head);
    // Nothing in either direction for this long (the kubelet's stream idle timeout): give up.
    const idleMs = this.sessionOptions().idleTimeoutMs;
    (socket as net.Socket).setTimeout?.(idleMs, () => {
      this.options.log.info({ kind: request.kind }, 'closing an idle streaming connection');
      socket.destroy();
    });
    const done = isWebSocketUpgrade(req)
      ? serveWebSocket(req, socket, request, this.sessionOptions())
      : this.spdy(req, socket, request);
    done.catch((err: unknown) => {
      this.options.log.warn({ err, kind: request.kind }, 'streaming session failed');
      socket.destroy();
    });
  }

  private sessionOptions() {
    return {
      backend: this.options.backend,
      log: this.options.log,
      streamCreationTimeoutMs: this.options.streamCreationTimeoutMs ?? 30_000,
      idleTimeoutMs: this.options.idleTimeoutMs ?? 4 * 60 * 60_000,
    };
  }

  private async spdy(req: http.IncomingMessage, socket: Duplex, request: StreamingRequest): Promise<void> {
    if (!/^spdy\/3\.1$/i.test(String(req.headers['upgrade'] ?? ''))) {
      return refuse(socket, 400, `unsupported upgrade '${String(req.headers['upgrade'])}'`);
    }
    const offered = listHeader(req.headers['x-stream-protocol-version']);
    const o = this.sessionOptions();
    if (request.kind === 'portforward') {
      if (offered.length > 0 && !offered.includes(PORTFORWARD_PROTOCOL)) {
        return refuse(socket, 403, `none of the protocols ${offered.join(', ')} is ${PORTFORWARD_PROTOCOL}`);
      }
      switchProtocols(socket, PORTFORWARD_PROTOCOL);
      const dial = o.backend.portForward(request);
      return serveSpdyPortForward(socket, { dial, log: o.log, idleTimeoutMs: o.idleTimeoutMs });
    }
    // v5 adds only the WebSocket close signal: over SPDY it is v4 (as the kubelet does).
    const protocol = negotiate(offered.map((p) => (p === 'v5.channel.k8s.io' ? 'v4.channel.k8s.io' : p)));
    if (!protocol) return refuse(socket, 403, `no supported protocol among '${offered.join(', ')}'`);
    switchProtocols(socket, protocol);
    const what = request.kind === 'exec' ? `command [${request.cmd.join(' ')}]` : 'attach';
    await serveSpdySession(socket, { ...o, protocol, wants: request, what }, (session) =>
      request.kind === 'exec' ? o.backend.exec(request, session) : o.backend.attach(request, session),
    );
  }
}

function negotiate(offered: string[]): RemoteCommandProtocol | undefined {
  // Old clients send no header at all: they speak the first version.
  if (offered.length === 0) return 'channel.k8s.io';
  return REMOTECOMMAND_PROTOCOLS.find((p) => p !== 'v5.channel.k8s.io' && offered.includes(p));
}

function switchProtocols(socket: Duplex, protocol: string): void {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
}

function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw invalidArgument(`Cannot listen on '${address}': expected host:port`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}
