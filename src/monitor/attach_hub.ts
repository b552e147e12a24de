// What the attach sessions of one container share: its output, handed to every attached client as
// the monitor reads it (the log gets the same bytes); the one way into its stdin; and, for a
// terminal container, its size.
//
// stdin_once (the CRI's and Kubernetes' meaning): the first client that attached with stdin owns
// it; when that client's input ends or it goes away, the container's stdin is closed for good and
// later clients cannot attach stdin. Without stdin_once, clients come and go and stdin stays open.
import { failedPrecondition } from '../common/errors';
import type { StdinPort } from './stdin_port';

export type OutputStream = 'stdout' | 'stderr';

export interface TerminalSize {
  rows: number;
  cols: number;
}

/** One attached client, as the hub sees it. */
export interface AttachPeer {
  readonly wants: { stdin: boolean; stdout: boolean; stderr: boolean };
  output(stream: OutputStream, bytes: Buffer): void;
  /** The container exited and every byte it wrote was handed over; the peer should finish. */
  exit(exitCode: number): void;
}

export interface AttachHubOptions {
  /** Absent when the container was created without stdin. */
  stdin?: StdinPort;
  stdinOnce: boolean;
  /** A terminal container: TIOCSWINSZ on its pty master. */
  resize?: (size: TerminalSize) => void;
  /** Called once when stdin_once closed the container's stdin (to remember it on disk). */
  onStdinClosed?: () => void;
  /**
   * True when closing stdin cannot give the container end-of-file: it holds its own stdin open for
   * writing (an init that reopened its FIFO O_RDWR). stdin_once then degrades: see endStdin().
   */
  stdinEofBlocked?: () => boolean;
  /** Frees what `resize` uses, once the container is gone or the monitor leaves. */
  release?: () => void;
}

export class AttachHub {
  private readonly peers = new Set<AttachPeer>();
  private stdinOwner?: AttachPeer;
  private exitCode?: number;

  constructor(
    readonly id: string,
    private readonly options: AttachHubOptions,
  ) {}

  get stdinOpen(): boolean {
    return this.options.stdin?.isOpen === true;
  }

  /** Throws when the client asks for stdin the container does not have (any more). */
  checkJoin(peer: Pick<AttachPeer, 'wants'>): void {
    if (peer.wants.stdin) {
      if (!this.options.stdin) {
        throw failedPrecondition(
          `Cannot attach stdin to container '${this.id}': it was created without stdin`,
        );
      }
      if (!this.options.stdin.isOpen) {
        throw failedPrecondition(
          `Cannot attach stdin to container '${this.id}': stdin_once closed it when the first client left`,
        );
      }
    }
  }

  /** Adds a client (see checkJoin); one that comes after the exit hears of it at once. */
  join(peer: AttachPeer): void {
    this.checkJoin(peer);
    if (this.exitCode !== undefined) return peer.exit(this.exitCode);
    this.peers.add(peer);
    if (peer.wants.stdin && this.options.stdinOnce) this.stdinOwner ??= peer;
  }

  /** The client went away; a stdin_once owner takes the container's stdin with it. */
  leave(peer: AttachPeer): void {
    this.peers.delete(peer);
    this.endStdin(peer);
  }

  /**
   * Writes client input into the container's stdin. Returns false when the caller should wait for
   * `drain` before writing more (the container reads slowly).
   */
  writeStdin(peer: AttachPeer, bytes: Buffer, drain: () => void): boolean {
    const port = this.options.stdin;
    if (!peer.wants.stdin || !port?.isOpen || !this.peers.has(peer)) return true;
    return port.write(bytes, drain);
  }

  /**
   * The client's input ended. Only a stdin_once owner's end closes the container's stdin. Returns
   * false when that close cannot reach the container as end-of-file (see stdinEofBlocked): the
   * caller should then end the owner's session itself, as the container may never exit.
   */
  endStdin(peer: AttachPeer): boolean {
    if (peer !== this.stdinOwner || !this.options.stdin?.isOpen) return true;
    this.options.stdin.close();
    this.options.onStdinClosed?.();
    return this.options.stdinEofBlocked?.() !== true;
  }

  resize(size: TerminalSize): void {
    if (this.exitCode !== undefined) return;
    try {
      this.options.resize?.(size);
    } catch {
      // The terminal may be going away with its container; the size no longer matters.
    }
  }

  /** Output as the monitor reads it; every client that asked for the stream gets it. */
  output(stream: OutputStream, bytes: Buffer): void {
    for (const peer of this.peers) if (peer.wants[stream]) peer.output(stream, bytes);
  }

  /** The container exited with its output drained: every client is told, later ones at once. */
  finish(exitCode: number): void {
    this.exitCode = exitCode;
    for (const peer of [...this.peers]) peer.exit(exitCode);
    this.peers.clear();
    this.close();
  }

  /** The monitor is going away: let go of our descriptors without closing stdin for good. */
  close(): void {
    this.options.stdin?.release();
    const release = this.options.release;
    this.options.release = undefined;
    release?.();
  }
}
