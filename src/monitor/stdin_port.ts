// The monitor's way into a container's stdin, for attach: the stdin FIFO of a plain container, or
// the pty master of a terminal container (through common/pty_writer.ts). Writing never blocks the
// monitor: a container that reads slowly makes write() return false, and the attach client is
// paused until `drain`.
import fs from 'node:fs';
import net from 'node:net';
import { dupCloexec } from '../runtime/sys';
import { PtyWriter } from '../common/pty_writer';

export interface StdinPort {
  /** False once close() ended the container's stdin for good. */
  readonly isOpen: boolean;
  write(bytes: Buffer, drain: () => void): boolean;
  /** Ends the container's stdin (stdin_once): it reads end-of-file after what was written. */
  close(): void;
  /** Lets go of our descriptors (the container is gone, or the monitor is leaving). */
  release(): void;
}

/** Callers waiting for a sink to drain: one 'drain' listener, however many writers wait. */
class DrainWaiters {
  private readonly waiting: (() => void)[] = [];

  add(sink: NodeJS.EventEmitter, drain: () => void): void {
    if (this.waiting.push(drain) > 1) return;
    sink.once('drain', () => this.waiting.splice(0).forEach((fn) => fn()));
  }
}

/**
 * A stdin FIFO. Without stdin_once the container holds it O_RDWR and can never see end-of-file.
 * With stdin_once the container holds it O_RDONLY and `holder` (an O_RDWR descriptor opened before
 * the container's) is what keeps a writer present: closing it, and our writer, is end-of-file.
 */
export class FifoStdin implements StdinPort {
  private sink?: net.Socket;
  private open: boolean;
  private readonly drains = new DrainWaiters();

  constructor(
    private readonly fifoPath: string,
    private holder?: number,
    options: { closed?: boolean } = {},
  ) {
    this.open = options.closed !== true;
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(bytes: Buffer, drain: () => void): boolean {
    if (!this.open) return true;
    this.sink ??= this.openSink();
    if (this.sink.write(bytes)) return true;
    this.drains.add(this.sink, drain);
    return false;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.release();
  }

  release(): void {
    const sink = this.sink;
    this.sink = undefined;
    // The empty write completes after every write before it: the container gets all of them.
    if (sink) sink.write(Buffer.alloc(0), () => sink.destroy());
    if (this.holder !== undefined) fs.closeSync(this.holder);
    this.holder = undefined;
  }

  private openSink(): net.Socket {
    // O_NONBLOCK: the open fails (ENXIO) instead of hanging if no reader is left.
    const fd = fs.openSync(this.fifoPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const sink = new net.Socket({ fd, readable: false, writable: true });
    sink.on('error', () => undefined); // a container that closed its stdin: the bytes have nowhere to go
    return sink;
  }
}

/**
 * A terminal's input side. A terminal has no end-of-file of its own: close() types the EOF
 * character (^D), which a reader in canonical mode, or a shell's line editor, takes as the end of
 * input when the line is empty, as a user pressing ^D would.
 */
export class TtyStdin implements StdinPort {
  private readonly writer: PtyWriter;
  private open = true;

  /** Takes its own copy of the master at once: the log's reader closes the original when done. */
  constructor(master: number) {
    const fd = dupCloexec(master);
    try {
      this.writer = new PtyWriter(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(bytes: Buffer, drain: () => void): boolean {
    if (!this.open) return true;
    return this.writer.write(bytes, drain);
  }

  close(): void {
    if (!this.open) return;
    this.write(Buffer.from([0x04]), () => undefined);
    this.open = false;
  }

  /** What is still queued for the terminal is dropped: it is gone, or the next monitor takes over. */
  release(): void {
    this.open = false;
    this.writer.release();
  }
}
