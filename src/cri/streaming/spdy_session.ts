// Exec and attach over SPDY: the client opens one stream per role (header `streamType`: error,
// stdin, stdout, stderr, resize); once every expected one is there, the session runs, and its end is
// written on the error stream before every stream is closed and the connection goes away.
import type { Logger } from '../../common/log';
import {
  resizeHub,
  resizeReader,
  statusPayload,
  type RemoteCommandProtocol,
  type SessionIo,
  type SessionResult,
} from './remotecommand';
import { SpdyConnection, type SpdyStream } from './spdy';
import type { Duplex } from 'node:stream';

export interface SessionWants {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface SpdySessionOptions {
  protocol: RemoteCommandProtocol;
  wants: SessionWants;
  /** How long the client has to open its streams. */
  streamCreationTimeoutMs: number;
  /** Words for the failure message ("command [sh -c …]"). */
  what: string;
  log: Logger;
}

type Role = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

function expectedRoles(protocol: RemoteCommandProtocol, wants: SessionWants): Role[] {
  const roles: Role[] = ['error'];
  if (wants.stdin) roles.push('stdin');
  if (wants.stdout) roles.push('stdout');
  if (wants.stderr && !wants.tty) roles.push('stderr');
  if (wants.tty && protocol !== 'channel.k8s.io' && protocol !== 'v2.channel.k8s.io') roles.push('resize');
  return roles;
}

/** Serves one exec or attach on an upgraded transport; resolves when the session is over. */
export async function serveSpdySession(
  io: Duplex,
  options: SpdySessionOptions,
  run: (session: SessionIo) => Promise<SessionResult>,
): Promise<void> {
  const streams = new Map<Role, SpdyStream>();
  const expected = expectedRoles(options.protocol, options.wants);
  const abort = new AbortController();
  let ready: () => void = () => undefined;
  const allThere = new Promise<void>((resolve) => (ready = resolve));
  const conn = new SpdyConnection(
    io,
    (stream) => {
      const role = stream.headers['streamtype'] as Role;
      if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(role)) {
        options.log.debug({ role }, 'streaming client opened a stream of unknown type');
        stream.destroy();
        return;
      }
      streams.set(role, stream);
      if (expected.every((r) => streams.has(r))) ready();
    },
    options.log,
  );
  conn.onClose(() => abort.abort());

  const timer = setTimeout(() => abort.abort(), options.streamCreationTimeoutMs);
  const aborted = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve()));
  await Promise.race([allThere, aborted]);
  clearTimeout(timer);
  if (abort.signal.aborted) {
    options.log.info(
      { have: [...streams.keys()], expected },
      'streaming client did not open its streams in time',
    );
    conn.close();
    return;
  }

  const sizes = resizeHub();
  const resize = streams.get('resize');
  if (resize) resizeReader(resize, sizes.emit);
  const session: SessionIo = {
    stdin: streams.get('stdin'),
    stdout: streams.get('stdout'),
    stderr: streams.get('stderr'),
    tty: options.wants.tty,
    onResize: sizes.onResize,
    signal: abort.signal,
  };
  // Output written after the client went away has nowhere to go: drop it quietly.
  for (const s of streams.values()) s.on('error', () => undefined);

  let result: SessionResult;
  try {
    result = await run(session);
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err) };
  }
  await endAll([session.stdout, session.stderr]);
  const error = streams.get('error');
  if (error && !error.destroyed) {
    error.write(statusPayload(options.protocol, result, options.what));
    await endAll([error]);
  }
  conn.close();
}

async function endAll(streams: (NodeJS.WritableStream | undefined)[]): Promise<void> {
  await Promise.all(
    streams.map(
      (s) =>
        new Promise<void>((resolve) => {
          const w = s as
            (NodeJS.WritableStream & { destroyed?: boolean; writableFinished?: boolean }) | undefined;
          if (!w || w.destroyed || w.writableFinished) return resolve();
          w.end(() => resolve());
          w.once?.('error', () => resolve());
          w.once?.('close', () => resolve());
        }),
    ),
  );
}
