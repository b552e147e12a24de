// Port-forward in the kubelet's older WebSocket form (`?port=80&port=443`, protocol
// v4.channel.k8s.io or none): channel 2i carries the data of the i-th port and 2i+1 its errors; the
// first message on each is the port as a little-endian uint16. One connection per port.
import type net from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../../common/log';
import type { Dialer } from './portforward';

export const LEGACY_PORTFORWARD_PROTOCOL = 'v4.channel.k8s.io';

/** The ports of a legacy request's query; undefined when one is not a port number. */
export function queryPorts(url: string | undefined): number[] | undefined {
  const params = new URL(url ?? '/', 'http://x').searchParams.getAll('port');
  const ports = params.map(Number);
  return ports.every((p) => Number.isInteger(p) && p > 0 && p <= 65535) ? ports : undefined;
}

export async function serveLegacyPortForward(
  ws: WebSocket,
  ports: number[],
  dial: Dialer,
  log: Logger,
): Promise<void> {
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  const sockets = new Map<number, net.Socket>();
  ws.on('message', (data: Buffer) => {
    if (data.length === 0 || data[0] % 2 !== 0) return;
    const socket = sockets.get(data[0] / 2);
    if (socket && data.length > 1 && !socket.write(data.subarray(1))) {
      ws.pause();
      socket.once('drain', () => ws.resume());
    }
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await Promise.all(
    ports.map(async (port, i) => {
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port, 0);
      send(2 * i, portBytes);
      send(2 * i + 1, portBytes);
      let socket: net.Socket;
      try {
        socket = await dial(port);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        send(2 * i + 1, Buffer.from(`an error occurred forwarding ${port} -> ${port}: ${reason}`));
        return;
      }
      sockets.set(i, socket);
      socket.on('data', (chunk: Buffer) => send(2 * i, chunk));
      socket.on('error', (err) => log.debug({ err, port }, 'port-forward connection failed'));
      await Promise.race([new Promise((resolve) => socket.once('close', resolve)), closed]);
      socket.destroy();
    }),
  );
  if (ws.readyState === ws.OPEN) ws.close(1000);
}
