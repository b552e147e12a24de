// Attach travels on its own socket, <runDir>/attach.sock, one connection per attach session, so
// bytes never have to be wrapped in JSON. Every message is a frame: 1 byte kind, 4 bytes length
// (big endian), then the payload. The client's first frame is HELLO (which container, which
// streams); the monitor answers READY or ERROR, then sends output frames until the container
// exits (EXIT, after the last output) or the connection closes.
import path from 'node:path';
import { PROTOCOL_VERSION } from './protocol';

export function attachSocketPath(runDir: string): string {
  return path.join(runDir, 'attach.sock');
}

export const Frame = {
  /** client → monitor: bytes for the container's stdin. */
  Stdin: 0,
  /** monitor → client: the container's output. */
  Stdout: 1,
  Stderr: 2,
  /** monitor → client: JSON AttachExit; the last frame of a session. */
  Exit: 3,
  /** client → monitor: JSON { rows, cols } for a terminal container. */
  Resize: 4,
  /** client → monitor: JSON AttachHello; the first frame. */
  Hello: 16,
  /** client → monitor: the client's stdin ended (for stdin_once: the container's stdin closes). */
  StdinEnd: 17,
  /** monitor → client: JSON { kind, message }; the attach was refused. */
  Error: 18,
  /** monitor → client: the attach is live; output follows. */
  Ready: 19,
  /**
   * monitor → client: the session is over though the container runs on (stdin_once closed stdin,
   * but the container cannot read end-of-file; see AttachHub.endStdin).
   */
  Detached: 20,
} as const;
export type FrameKind = (typeof Frame)[keyof typeof Frame];

export interface AttachHello {
  v: number;
  id: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface AttachExit {
  exitCode: number;
}

/** Frames larger than this are refused: nothing legitimate comes near it. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export function frame(kind: FrameKind, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(5);
  header.writeUInt8(kind, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

export function jsonFrame(kind: FrameKind, value: unknown): Buffer {
  return frame(kind, JSON.stringify(value));
}

export function hello(id: string, wants: { stdin: boolean; stdout: boolean; stderr: boolean }): Buffer {
  const message: AttachHello = { v: PROTOCOL_VERSION, id, ...wants };
  return jsonFrame(Frame.Hello, message);
}

/** Cuts a byte stream into frames; a frame too large to be real goes to onError and stops reading. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(
    private readonly onFrame: (kind: number, payload: Buffer) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (length > MAX_FRAME_BYTES) {
        this.broken = true;
        this.onError(
          new Error(`Cannot read an attach frame: ${length} bytes is more than ${MAX_FRAME_BYTES}`),
        );
        return;
      }
      if (this.pending.length < 5 + length) return;
      const kind = this.pending.readUInt8(0);
      const payload = this.pending.subarray(5, 5 + length);
      this.pending = this.pending.subarray(5 + length);
      this.onFrame(kind, payload);
    }
  }
}
