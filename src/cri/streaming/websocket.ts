// Exec, attach and port-forward over WebSocket. Exec and attach use the channel protocols: every
// binary message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; v5 adds
// 255 <channel> to half-close one). The session ends with the status on channel 3 and a normal
// close, which is also what ends the client's output readers. Port-forward speaks
// "SPDY/3.1+portforward.k8s.io": SPDY frames tunnelled in binary messages, served by the same code
// as over TCP (or the kubelet's older channel form, websocket_portforward.ts).
import type http from 'node:http';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from '../../common/log';
import {
  REMOTECOMMAND_PROTOCOLS,
  resizeHub,
  resizeReader,
  statusPayload,
  type RemoteCommandProtocol,
} from './remotecommand';
import type { SessionIo, SessionResult } from './remotecommand';
import { serveSpdyPortForward } from './portforward';
import type { StreamingBackend } from './server';
import { refuse } from './http_reply';
import { LEGACY_PORTFORWARD_PROTOCOL, queryPorts, serveLegacyPortForward } from './websocket_portforward';
import type { StreamingRequest } from './tokens';

export const SPDY_OVER_WEBSOCKET = 'SPDY/3.1+portforward.k8s.io';
const CLOSE_SIGNAL = 255;

export interface WebSocketOptions {
  backend: StreamingBackend;
  log: Logger;
  idleTimeoutMs: number;
}

export function isWebSocketUpgrade(req: http.IncomingMessage): boolean {
  return String(req.headers['upgrade'] ?? '').toLowerCase() === 'websocket';
}

function offeredProtocols(req: http.IncomingMessage): string[] {
  return String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

function accept(req: http.IncomingMessage, socket: Duplex, protocol: string): Promise<WebSocket> {
  // ws refuses subprotocols that are not RFC 7230 tokens, and "SPDY/3.1+portforward.k8s.io" has a
  // '/': the choice is made here, so ws is shown a placeholder and answers with the real name.
  req.headers['sec-websocket-protocol'] = 'k8s';
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: () => protocol,
  });
  return new Promise((resolve) => wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => resolve(ws)));
}

export async function serveWebSocket(
  req: http.IncomingMessage,
  socket: Duplex,
  request: StreamingRequest,
  options: WebSocketOptions,
): Promise<void> {
  const offered = offeredProtocols(req);
  if (request.kind === 'portforward') {
    if (!offered.includes(SPDY_OVER_WEBSOCKET)) {
      const ports = queryPorts(req.url);
      const legacy = offered.length === 0 || offered.includes(LEGACY_PORTFORWARD_PROTOCOL);
      if (!legacy || !ports || ports.length === 0) {
        const want = `${SPDY_OVER_WEBSOCKET}, or ${LEGACY_PORTFORWARD_PROTOCOL} with ?port=`;
        return refuse(socket, 400, `Cannot port-forward over WebSocket: expected ${want}`);
      }
      const ws = await accept(req, socket, offered.length === 0 ? '' : LEGACY_PORTFORWARD_PROTOCOL);
      return serveLegacyPortForward(ws, ports, options.backend.portForward(request), options.log);
    }
    const ws = await accept(req, socket, SPDY_OVER_WEBSOCKET);
    const io = createWebSocketStream(ws);
    const dial = options.backend.portForward(request);
    return serveSpdyPortForward(io, { dial, log: options.log, idleTimeoutMs: options.idleTimeoutMs });
  }
  // No subprotocol at all means the first version, as the kubelet's server does.
  const protocol: RemoteCommandProtocol | undefined =
    offered.length === 0 ? 'channel.k8s.io' : REMOTECOMMAND_PROTOCOLS.find((p) => offered.includes(p));
  if (!protocol) {
    return refuse(socket, 400, `Cannot stream: no supported protocol among '${offered.join(', ')}'`);
  }
  const ws = await accept(req, socket, protocol);
  await channelSession(ws, protocol, request, options);
}

async function channelSession(
  ws: WebSocket,
  protocol: RemoteCommandProtocol,
  request: Extract<StreamingRequest, { kind: 'exec' | 'attach' }>,
  options: WebSocketOptions,
): Promise<void> {
  const abort = new AbortController();
  const stdin = request.stdin ? new PassThrough() : undefined;
  const resize = request.tty ? new PassThrough() : undefined;
  const sizes = resizeHub();
  if (resize) resizeReader(resize, sizes.emit);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === CLOSE_SIGNAL && protocol === 'v5.channel.k8s.io') {
      if (payload[0] === 0) stdin?.end();
      return;
    }
    if (channel === 0 && stdin && !stdin.writableEnded) {
      // No window to shrink: when the process reads slowly, stop reading the socket instead.
      if (!stdin.write(payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (channel === 4 && resize) resize.write(payload);
  });
  ws.on('error', (err) => options.log.debug({ err }, 'streaming WebSocket error'));
  ws.once('close', () => {
    abort.abort();
    stdin?.end();
  });
  const session: SessionIo = {
    stdin,
    stdout: request.stdout ? channelWriter(ws, 1) : undefined,
    stderr: request.stderr && !request.tty ? channelWriter(ws, 2) : undefined,
    tty: request.tty,
    onResize: sizes.onResize,
    signal: abort.signal,
  };
  let result: SessionResult;
  try {
    result =
      request.kind === 'exec'
        ? await options.backend.exec(request, session)
        : await options.backend.attach(request, session);
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err) };
  }
  if (ws.readyState === ws.OPEN) {
    const what = request.kind === 'exec' ? `command [${request.cmd.join(' ')}]` : 'attach';
    const status = statusPayload(protocol, result, what);
    if (status.length > 0) ws.send(Buffer.concat([Buffer.from([3]), status]));
    ws.close(1000);
  }
}

/** Output on one channel; the write completes when ws has handed the message to the socket. */
function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (ws.readyState !== ws.OPEN) return done();
      ws.send(Buffer.concat([Buffer.from([channel]), chunk]), { binary: true }, () => done());
    },
  });
}
