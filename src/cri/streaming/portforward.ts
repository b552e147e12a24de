// Port-forward (portforward.k8s.io): for each forwarded connection the client opens a pair of
// streams, `streamType: error` and `streamType: data`, with the same `requestID` and `port`
// headers. The data stream is spliced to a TCP connection to that port inside the pod's network
// namespace; a failure to connect is written on the error stream. Any number of pairs, for any
// ports, may be open on one connection at once.
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log';
import { runInBackground } from '../../common/background';
import { SpdyConnection, type SpdyStream } from './spdy';

export type Dialer = (port: number) => Promise<net.Socket>;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
}

export interface PortForwardOptions {
  dial: Dialer;
  log: Logger;
  /** The connection closes after this long without any stream open. */
  idleTimeoutMs: number;
}

/** Serves port-forward on an upgraded transport; resolves once the connection is gone. */
export function serveSpdyPortForward(io: Duplex, options: PortForwardOptions): Promise<void> {
  const pairs = new Map<string, Pair>();
  let idle: NodeJS.Timeout | undefined;
  const conn = new SpdyConnection(
    io,
    (stream) => {
      const type = stream.headers['streamtype'];
      const port = Number(stream.headers['port']);
      const key = stream.headers['requestid'] ?? `${port}`;
      if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port <= 0 || port > 65535) {
        options.log.debug({ headers: stream.headers }, 'port-forward stream with bad headers');
        stream.destroy();
        return;
      }
      stream.on('error', () => undefined);
      const pair = pairs.get(key) ?? {};
      pairs.set(key, pair);
      if (type === 'error') {
        // The client never writes on it; reading it lets its FIN through.
        pair.error = stream;
        stream.resume();
        return;
      }
      pair.data = stream;
      runInBackground(options.log, `forward port ${port}`, async () => {
        try {
          await forward(port, stream, pair, options);
        } finally {
          pairs.delete(key);
          armIdle();
        }
      });
      armIdle();
    },
    options.log,
  );
  const armIdle = () => {
    clearTimeout(idle);
    if (conn.streamCount === 0) idle = setTimeout(() => conn.close(), options.idleTimeoutMs);
  };
  armIdle();
  return new Promise((resolve) =>
    conn.onClose(() => {
      clearTimeout(idle);
      resolve();
    }),
  );
}

async function forward(
  port: number,
  data: SpdyStream,
  pair: Pair,
  options: PortForwardOptions,
): Promise<void> {
  let socket: net.Socket;
  try {
    socket = await options.dial(port);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    pair.error?.end(`an error occurred forwarding ${port} -> ${port}: ${reason}`);
    data.end();
    return;
  }
  await new Promise<void>((resolve) => {
    // Half-closes travel both ways: the client's FIN ends our write side, the peer's ends the stream.
    data.pipe(socket);
    socket.pipe(data);
    socket.on('error', (err) => {
      options.log.debug({ err, port }, 'port-forward connection failed');
      pair.error?.end(`an error occurred forwarding ${port} -> ${port}: ${err.message}`);
      data.end();
    });
    socket.once('close', () => {
      pair.error?.end();
      resolve();
    });
    data.once('close', () => socket.destroy());
  });
}
