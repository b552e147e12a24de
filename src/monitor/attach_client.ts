// The daemon's side of an attach session through the monitor (attach_protocol.ts): output frames
// are written to the caller's streams, pausing the socket while a stream is full, so a slow client
// slows the monitor's sending down (and, past its backlog limit, gets dropped by it).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Writable } from 'node:stream';
import { NodeletError, unavailable, type ErrorKind } from '../common/errors';
import {
  attachSocketPath,
  Frame,
  FrameDecoder,
  frame,
  hello,
  jsonFrame,
  type AttachExit,
} from './attach_protocol';

export interface AttachStreams {
  /** The client wants to write to the container's stdin. */
  stdin: boolean;
  stdout?: Writable;
  stderr?: Writable;
}

/**
 * How an attach ended: the container's exit; the monitor ended the session with the container
 * still running (detached); or the connection was lost.
 */
export type AttachEnd = { exitCode: number } | { detached: true } | { lost: string };

export class MonitorAttach extends EventEmitter<{ drain: [] }> {
  /** Settles when the container exited (after its last output) or the connection is gone. */
  readonly ended: Promise<AttachEnd>;
  private settle!: (end: AttachEnd) => void;

  private constructor(private readonly socket: net.Socket) {
    super();
    this.ended = new Promise((resolve) => (this.settle = resolve));
    socket.on('drain', () => this.emit('drain'));
  }

  /**
   * Connects and asks for the container's streams; resolves once the monitor accepted, rejects
   * with the monitor's error (NotFound, FailedPrecondition…) or Unavailable.
   */
  static open(runDir: string, id: string, streams: AttachStreams): Promise<MonitorAttach> {
    const socketPath = attachSocketPath(runDir);
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath });
      const attach = new MonitorAttach(socket);
      let accepted = false;
      const fail = (err: Error) => {
        if (!accepted) reject(err);
        attach.settle({ lost: err.message });
        socket.destroy();
      };
      const decoder = new FrameDecoder((kind, payload) => {
        if (kind === Frame.Ready) {
          accepted = true;
          return resolve(attach);
        }
        if (kind === Frame.Error) {
          const e = JSON.parse(payload.toString('utf8')) as { kind: ErrorKind; message: string };
          return fail(new NodeletError(e.kind, e.message));
        }
        if (kind === Frame.Detached) {
          attach.settle({ detached: true });
          return;
        }
        if (kind === Frame.Exit) {
          attach.settle(JSON.parse(payload.toString('utf8')) as AttachExit);
          return;
        }
        const out =
          kind === Frame.Stdout ? streams.stdout : kind === Frame.Stderr ? streams.stderr : undefined;
        if (out && !out.write(payload)) {
          socket.pause();
          out.once('drain', () => socket.resume());
        }
      }, fail);
      socket.once('connect', () =>
        socket.write(hello(id, { stdin: streams.stdin, stdout: !!streams.stdout, stderr: !!streams.stderr })),
      );
      socket.on('data', (chunk: Buffer) => decoder.push(chunk));
      socket.on('error', (err) =>
        fail(unavailable(`Cannot attach to container '${id}' through '${socketPath}': ${err.message}`, err)),
      );
      socket.on('close', () =>
        fail(unavailable(`Cannot attach to container '${id}': the monitor closed the connection`)),
      );
    });
  }

  /** Returns false when the caller should wait for 'drain'. */
  writeStdin(bytes: Buffer): boolean {
    if (this.socket.destroyed) return true;
    return this.socket.write(frame(Frame.Stdin, bytes));
  }

  /** The client's input ended; for a stdin_once container, its stdin closes. */
  endStdin(): void {
    if (!this.socket.destroyed) this.socket.write(frame(Frame.StdinEnd));
  }

  resize(size: { rows: number; cols: number }): void {
    if (!this.socket.destroyed) this.socket.write(jsonFrame(Frame.Resize, size));
  }

  /** Leaves the session (the client went away); the container goes on. */
  close(): void {
    this.socket.destroy();
  }
}
