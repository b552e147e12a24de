// One open connection to the monitor socket: numbered requests matched to their responses, and
// exit events handed on. When the socket closes, every request still waiting fails with
// Unavailable: whether the monitor ran it is unknown, and the caller decides whether to retry.
import net from 'node:net';
import { NodeletError, unavailable, type ErrorKind } from '../common/errors';
import {
  encode,
  LineDecoder,
  PROTOCOL_VERSION,
  type ExitEventMessage,
  type Op,
  type ParamsOf,
  type Results,
  type ServerMessage,
} from './protocol';
import { parseResult, parseServerMessage } from './protocol_schema';

interface Pending {
  op: Op;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

export class MonitorConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    onEvent: (event: ExitEventMessage) => void,
    onClose: () => void,
  ) {
    const decoder = new LineDecoder(
      (message) => {
        let m: ServerMessage;
        try {
          m = parseServerMessage(message);
        } catch {
          return socket.destroy(); // a peer that speaks garbage is not a monitor we can trust
        }
        if ('event' in m) return onEvent(m);
        const waiter = this.pending.get(m.id);
        if (!waiter) return;
        this.pending.delete(m.id);
        if (!m.ok) return waiter.reject(new NodeletError(m.error.kind as ErrorKind, m.error.message));
        try {
          waiter.resolve(parseResult(waiter.op, m.result));
        } catch (err) {
          waiter.reject(err as Error);
        }
      },
      () => socket.destroy(),
    );
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', () => {}); // 'close' follows and says everything needed
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.pending.values()) {
        waiter.reject(unavailable(`Cannot ${waiter.op} through the monitor: the connection closed`));
      }
      this.pending.clear();
      onClose();
    });
  }

  static open(socketPath: string): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  request<O extends Op>(op: O, params: ParamsOf<O>): Promise<Results[O]> {
    if (this.closed)
      return Promise.reject(unavailable(`Cannot ${op} through the monitor: the connection closed`));
    const id = this.nextId++;
    return new Promise<Results[O]>((resolve, reject) => {
      this.pending.set(id, { op, resolve: resolve as (r: unknown) => void, reject });
      this.socket.write(encode({ v: PROTOCOL_VERSION, id, op, params }));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
