// Exec, attach and port-forward over WebSocket. Exec and attach use the channel protocols: every
// binary message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; v5 adds
// 255 <channel> to half-close one); the base64 forms carry the same as text, the channel's digit
// and then the payload in base64. The session ends with the status on channel 3 and a normal
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

const SPDY_OVER_WEBSOCKET = 'SPDY/3.1+portforward.k8s.io';
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
  const chosen = offered.length === 0 ? '' : CHANNEL_SUBPROTOCOLS.find((p) => offered.includes(p));
  if (chosen === undefined) {
    return refuse(socket, 400, `Cannot stream: no supported protocol among '${offered.join(', ')}'`);
  }
  const ws = await accept(req, socket, chosen);
  await channelSession(ws, channelFraming(chosen), request, options);
}

/**
 * The channel subprotocols we speak, most preferred first: each remote-command version, and the
 * base64 forms (for clients that cannot send binary messages, such as browsers): text messages
 * whose first character is the channel's digit and whose rest is the payload in base64.
 */
const CHANNEL_SUBPROTOCOLS = [
  ...REMOTECOMMAND_PROTOCOLS,
  'v4.base64.channel.k8s.io',
  'base64.channel.k8s.io',
] as const;

interface ChannelFraming {
  protocol: RemoteCommandProtocol;
  base64: boolean;
}

function channelFraming(subprotocol: string): ChannelFraming {
  if (subprotocol === '') return { protocol: 'channel.k8s.io', base64: false };
  const base64 = subprotocol.includes('base64.');
  const protocol = (base64 ? subprotocol.replace('base64.', '') : subprotocol) as RemoteCommandProtocol;
  return { protocol, base64 };
}

/** One message on a channel, in the session's framing. */
function encodeMessage(framing: ChannelFraming, channel: number, payload: Buffer): Buffer | string {
  if (framing.base64) return String.fromCharCode(0x30 + channel) + payload.toString('base64');
  return Buffer.concat([Buffer.from([channel]), payload]);
}

function decodeMessage(
  framing: ChannelFraming,
  data: Buffer,
  isBinary: boolean,
): { channel: number; payload: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (!framing.base64) return isBinary ? { channel: data[0], payload: data.subarray(1) } : undefined;
  if (isBinary) return undefined;
  const text = data.toString('latin1');
  return { channel: text.charCodeAt(0) - 0x30, payload: Buffer.from(text.slice(1), 'base64') };
}

async function channelSession(
  ws: WebSocket,
  framing: ChannelFraming,
  request: Extract<StreamingRequest, { kind: 'exec' | 'attach' }>,
  options: WebSocketOptions,
): Promise<void> {
  const abort = new AbortController();
  const stdin = request.stdin ? new PassThrough() : undefined;
  const resize = request.tty ? new PassThrough() : undefined;
  const sizes = resizeHub();
  if (resize) resizeReader(resize, sizes.emit);
  const protocol = framing.protocol;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const message = decodeMessage(framing, data, isBinary);
    if (!message) return;
    const { channel, payload } = message;
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
    stdout: request.stdout ? channelWriter(ws, framing, 1) : undefined,
    stderr: request.stderr && !request.tty ? channelWriter(ws, framing, 2) : undefined,
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
    if (status.length > 0) ws.send(encodeMessage(framing, 3, status));
    ws.close(1000);
  }
}

/** Output on one channel; the write completes when ws has handed the message to the socket. */
function channelWriter(ws: WebSocket, framing: ChannelFraming, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (ws.readyState !== ws.OPEN) return done();
      ws.send(encodeMessage(framing, channel, chunk), { binary: !framing.base64 }, () => done());
    },
  });
}
