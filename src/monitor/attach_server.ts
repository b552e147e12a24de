// The monitor's side of <runDir>/attach.sock (attach_protocol.ts): each connection is one attach
// session on one container's hub. A client that cannot keep up with the output is dropped rather
// than let the monitor's memory grow: the log, which the monitor writes first, has every byte.
import { listenPrivate } from './listen';
import net from 'node:net';
import { NodeletError, invalidArgument, messageOf } from '../common/errors';
import type { Logger } from '../common/log';
import type { AttachHub, AttachPeer, TerminalSize } from './attach_hub';
import { Frame, FrameDecoder, frame, jsonFrame, type AttachHello } from './attach_protocol';
import { PROTOCOL_VERSION } from './protocol';

/** Output queued for one client beyond which it is dropped. */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
/** See AttachSession.frame: how long a degraded stdin_once session waits for the last output. */
const DETACH_GRACE_MS = 300;

export interface AttachServerOptions {
  socketPath: string;
  /** The hub of a container; throws NotFound / FailedPrecondition as the request deserves. */
  hubOf: (id: string) => AttachHub;
  log: Logger;
}

export function serveAttach(options: AttachServerOptions): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', (err) => options.log.debug({ err }, 'attach connection error'));
    let session: AttachSession | undefined;
    const decoder = new FrameDecoder(
      (kind, payload) => {
        if (session) return session.frame(kind, payload);
        try {
          if (kind !== Frame.Hello) throw invalidArgument('Cannot attach: the first frame must be a hello');
          session = new AttachSession(socket, readHello(payload), options);
        } catch (err) {
          const kindName = err instanceof NodeletError ? err.kind : 'Internal';
          socket.end(jsonFrame(Frame.Error, { kind: kindName, message: messageOf(err) }));
        }
      },
      (err) => {
        options.log.warn({ err }, 'unreadable attach frame');
        socket.destroy();
      },
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  });
  return listenPrivate(server, options.socketPath);
}

function readHello(payload: Buffer): AttachHello {
  let hello: AttachHello;
  try {
    hello = JSON.parse(payload.toString('utf8')) as AttachHello;
  } catch {
    throw invalidArgument('Cannot attach: the hello is not JSON');
  }
  if (hello.v !== PROTOCOL_VERSION) {
    throw invalidArgument(`Cannot attach: protocol version ${String(hello.v)}, expected ${PROTOCOL_VERSION}`);
  }
  if (typeof hello.id !== 'string') throw invalidArgument('Cannot attach: the hello names no container');
  return hello;
}

class AttachSession implements AttachPeer {
  readonly wants: AttachPeer['wants'];
  private readonly hub: AttachHub;
  private live = false;
  private ended = false;

  constructor(
    private readonly socket: net.Socket,
    hello: AttachHello,
    private readonly options: AttachServerOptions,
  ) {
    this.wants = {
      stdin: hello.stdin === true,
      stdout: hello.stdout === true,
      stderr: hello.stderr === true,
    };
    this.hub = options.hubOf(hello.id);
    // READY goes before anything join() may send (an exit, for a container that just ended).
    this.hub.checkJoin(this);
    socket.write(frame(Frame.Ready));
    this.live = true;
    this.hub.join(this);
    socket.once('close', () => this.hub.leave(this));
  }

  frame(kind: number, payload: Buffer): void {
    if (kind === Frame.Stdin) {
      const sent = this.hub.writeStdin(this, Buffer.from(payload), () => this.socket.resume());
      if (!sent) this.socket.pause(); // the container reads slowly: so do we
    } else if (kind === Frame.StdinEnd) {
      // A stdin_once container that cannot see end-of-file may never exit: end the session once
      // what it wrote in answer has had a few of the taps' polls to arrive (the old approximation).
      if (!this.hub.endStdin(this)) setTimeout(() => this.detach(), DETACH_GRACE_MS);
    } else if (kind === Frame.Resize) {
      try {
        const size = JSON.parse(payload.toString('utf8')) as TerminalSize;
        if (size.rows > 0 && size.cols > 0) this.hub.resize({ rows: size.rows, cols: size.cols });
      } catch {
        // a malformed size leaves the terminal as it is
      }
    }
  }

  output(stream: 'stdout' | 'stderr', bytes: Buffer): void {
    if (!this.live || this.ended) return;
    if (this.socket.writableLength > MAX_BACKLOG_BYTES) {
      this.options.log.warn({ container: this.hub.id }, 'dropping an attach client that does not keep up');
      this.ended = true;
      this.socket.destroy();
      return;
    }
    this.socket.write(frame(stream === 'stdout' ? Frame.Stdout : Frame.Stderr, bytes));
  }

  detach(): void {
    if (this.ended) return;
    this.ended = true;
    this.options.log.warn(
      { container: this.hub.id },
      'stdin_once closed stdin, but the container holds it open for writing and cannot read end-of-file',
    );
    this.socket.end(frame(Frame.Detached));
  }

  exit(exitCode: number): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end(jsonFrame(Frame.Exit, { exitCode }));
  }
}
