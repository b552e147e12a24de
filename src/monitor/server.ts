// The monitor's side of the socket: reads requests, runs them on the supervisor, answers, and pushes
// exit events to every connection that subscribed. Errors travel as { kind, message } so the
// daemon rethrows the same NodeletError kind the monitor threw.
import { listenPrivate } from './listen';
import net from 'node:net';
import { NodeletError, messageOf } from '../common/errors';
import type { Logger } from '../common/log';
import { runInBackground } from '../common/background';
import {
  encode,
  LineDecoder,
  PROTOCOL_VERSION,
  type ExitEventMessage,
  type Op,
  type ParamsOf,
  type ResponseMessage,
} from './protocol';
import { parseRequest, requestIdOf } from './protocol_schema';
import type { Supervisor } from './supervisor';

export interface MonitorServerOptions {
  socketPath: string;
  supervisor: Supervisor;
  log: Logger;
  /** Called after the shutdown request was answered. */
  onShutdown: (killContainers: boolean) => Promise<void>;
}

type Handlers = { [O in Op]: (params: ParamsOf<O>, conn: Connection) => unknown };

interface Connection {
  socket: net.Socket;
  subscribed: boolean;
}

export function serveMonitor(options: MonitorServerOptions): Promise<net.Server> {
  const { supervisor, log } = options;
  const connections = new Set<Connection>();
  supervisor.on('exit', (container, exit) => {
    const event: ExitEventMessage = { v: PROTOCOL_VERSION, event: 'exit', container, exit };
    for (const conn of connections) if (conn.subscribed) conn.socket.write(encode(event));
  });

  let shutdown: boolean | undefined;
  const handlers: Handlers = {
    create: (p) => supervisor.create(p),
    start: (p) => supervisor.start(p.id),
    signal: (p) => (supervisor.signal(p.id, p.signal), {}),
    status: (p) => supervisor.status(p.id),
    list: () => supervisor.list(),
    reopenLog: (p) => (supervisor.reopenLog(p.id), {}),
    execSync: (p) => supervisor.execSync(p),
    remove: async (p) => (await supervisor.remove(p.id), {}),
    subscribe: (_p, conn) => ((conn.subscribed = true), {}),
    counters: () => ({
      logLinesDropped: supervisor.logDrops.lines,
      logBytesDropped: supervisor.logDrops.bytes,
    }),
    shutdown: (p) => ((shutdown = p.killContainers), {}),
  };

  const server = net.createServer((socket) => {
    const conn: Connection = { socket, subscribed: false };
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
    socket.on('error', (err) => log.debug({ err }, 'client connection error'));
    const decoder = new LineDecoder(
      (message) => runInBackground(log, 'answer a request', answer(conn, message)),
      (err) => log.warn({ err }, 'unreadable request'),
    );
    socket.on('data', (chunk) => decoder.push(chunk));
  });

  async function answer(conn: Connection, message: unknown): Promise<void> {
    let response: ResponseMessage;
    // A request refused as malformed is still answered to its id, so the caller is not left waiting.
    const id = requestIdOf(message) ?? 0;
    let op: string | undefined;
    try {
      const request = parseRequest(message);
      op = request.op;
      const handler = handlers[request.op] as (params: unknown, conn: Connection) => unknown;
      const result = await handler(request.params, conn);
      response = { v: PROTOCOL_VERSION, id, ok: true, result };
    } catch (err) {
      const kind = err instanceof NodeletError ? err.kind : 'Internal';
      response = { v: PROTOCOL_VERSION, id, ok: false, error: { kind, message: messageOf(err) } };
      if (kind === 'Internal') log.error({ err, op }, 'request failed');
      else if (op === undefined) log.warn({ err }, 'refused a malformed request');
    }
    if (!conn.socket.destroyed) conn.socket.write(encode(response));
    if (shutdown !== undefined) {
      const kill = shutdown;
      shutdown = undefined;
      server.close();
      await options.onShutdown(kill);
    }
  }

  return listenPrivate(server, options.socketPath);
}
