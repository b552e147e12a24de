// Container stdio that outlives the monitor.
//
// stdout and stderr are FIFOs in the container's directory. The container gets them opened O_RDWR:
// it is then a reader of its own pipe, so a write can never fail with EPIPE when no monitor reads;
// it only blocks once the pipe is full (grown to 1 MiB here, the unprivileged maximum). The monitor
// reads through a separate O_RDONLY|O_NONBLOCK open (FifoTap). A replacement monitor opens the
// same FIFOs and reads on from where the pipe is: nothing written while no monitor ran is lost, as
// long as the container lives. What sits in the pipe when the container exits with no monitor
// running is lost with the pipe.
//
// Order matters: the container's write side is opened before the monitor's read side. A FIFO
// opened for reading while it has no writer reports no hang-up until a writer has come and gone,
// and the monitor relies on the hang-up to know a stream ended.
import fs from 'node:fs';
import tty from 'node:tty';
import { bytesInPipe, dupCloexec, growPipe, makeFifo, makePipe, peekPipe, pollNow } from '../runtime/sys';
import { cutRecords, formatRecords, type LogSink, type StreamName } from './cri_log';
import type { ContainerDir } from './records';

const PIPE_BYTES = 1024 * 1024;

export interface ChildStdio {
  stdin: number | 'ignore';
  stdout: number | 'ignore';
  stderr: number | 'ignore';
  /** A pty from the container's own devpts instead of the FIFOs; the launcher returns its master. */
  terminal?: boolean;
}

/** What feeds a container's log: FIFO taps, or the pty master of a terminal container. */
export interface LogTap {
  /** Settles once the stream ended and its last bytes reached the log. */
  readonly done: Promise<void>;
  close(): void;
}

export function makeFifos(dir: ContainerDir, stdin: boolean): void {
  makeFifo(dir.fifo('stdout'));
  makeFifo(dir.fifo('stderr'));
  if (stdin) makeFifo(dir.fifo('stdin'));
}

/**
 * The container's ends. stdin, when wanted, is also opened O_RDWR: reads block until an attach
 * writes, and a dead monitor never looks like end-of-input. With stdin_once the container gets it
 * O_RDONLY instead, so that it can see end-of-file: holdStdin() must have opened the FIFO first
 * (an O_RDONLY open waits for a writer). The caller closes these after launch.
 */
export function openChildStdio(dir: ContainerDir, stdin: boolean, stdinOnce = false): ChildStdio {
  const opened: number[] = [];
  try {
    const open = (name: 'stdin' | 'stdout' | 'stderr', flags = fs.constants.O_RDWR): number => {
      const fd = fs.openSync(dir.fifo(name), flags);
      opened.push(fd);
      growPipe(fd, PIPE_BYTES, dir.fifo(name));
      return fd;
    };
    const stdinFd = stdin ? open('stdin', stdinOnce ? fs.constants.O_RDONLY : fs.constants.O_RDWR) : 'ignore';
    return { stdout: open('stdout'), stderr: open('stderr'), stdin: stdinFd };
  } catch (err) {
    opened.forEach((fd) => fs.closeSync(fd));
    throw err;
  }
}

/**
 * The monitor's writer on a stdin_once FIFO (O_RDWR, so the open never waits): while it is open
 * the container reads no end-of-file; closing it (stdin_port.ts) ends the container's input.
 */
export function holdStdin(dir: ContainerDir): number {
  return fs.openSync(dir.fifo('stdin'), fs.constants.O_RDWR);
}

export function closeChildStdio(stdio: ChildStdio): void {
  for (const fd of [stdio.stdin, stdio.stdout, stdio.stderr]) {
    if (typeof fd === 'number') fs.closeSync(fd);
  }
}

/**
 * Copies one FIFO into the CRI log, never losing a byte to a kill -9 of the monitor: the bytes are
 * peeked (tee(2) into a scratch pipe), the complete records among them written to the log, and
 * only then consumed from the FIFO. A monitor killed between the write and the consume leaves that
 * batch in the FIFO, and its successor logs it again: a line may appear twice, never zero times.
 */
export class FifoTap implements LogTap {
  /** Settles once every writer has gone and the last bytes reached the log. */
  readonly done: Promise<void>;
  readonly fd: number;
  /** Gets every byte once, as soon as it is in the FIFO (attach), unfinished lines included. */
  onOutput?: (bytes: Buffer) => void;
  private finish!: () => void;
  private closed = false;
  /** Bytes at the FIFO's head already handed to onOutput but not yet consumed (unfinished lines). */
  private sentAhead = 0;

  constructor(
    readonly fifoPath: string,
    private readonly stream: StreamName,
    private readonly sink: LogSink,
    private readonly clock: () => bigint,
  ) {
    this.fd = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** One pass: logs what is complete, consumes exactly that. `hungUp`: no writer is left. */
  pump(scratch: Scratch, hungUp: boolean): void {
    if (this.closed) return;
    const pending = bytesInPipe(this.fd, this.fifoPath);
    if (pending > 0) {
      const bytes = scratch.peek(this.fd, pending, this.fifoPath);
      if (bytes.length > this.sentAhead) this.onOutput?.(bytes.subarray(this.sentAhead));
      // Bytes seen with the hang-up are the last ones: an unfinished line goes out as P.
      const { records, consumed } = cutRecords(bytes, hungUp && bytes.length === pending);
      if (records.length > 0) this.sink.write(formatRecords(this.stream, records, this.clock()));
      discard(this.fd, consumed);
      this.sentAhead = Math.max(bytes.length, this.sentAhead) - consumed;
      if (consumed < pending) return;
    }
    if (hungUp) this.close(true);
  }

  /** Stops reading; the FIFO and whatever is in it stay for whoever reads next. */
  close(ended = false): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    if (ended) this.finish();
  }
}

/** A pipe to tee into: reading it back gives the FIFO's bytes without taking them out. */
export class Scratch {
  private readonly read: number;
  private readonly write: number;

  constructor() {
    [this.read, this.write] = makePipe();
    growPipe(this.write, PIPE_BYTES);
  }

  close(): void {
    fs.closeSync(this.read);
    fs.closeSync(this.write);
  }

  peek(fd: number, bytes: number, path: string): Buffer {
    const copied = peekPipe(fd, this.write, bytes, path);
    const buf = Buffer.alloc(copied);
    let got = 0;
    while (got < copied) got += fs.readSync(this.read, buf, got, copied - got, null);
    return buf;
  }
}

function discard(fd: number, bytes: number): void {
  const sink = Buffer.alloc(Math.min(bytes, 64 * 1024));
  let left = bytes;
  while (left > 0) left -= fs.readSync(fd, sink, 0, Math.min(left, sink.length), null);
}

/**
 * Drives every tap from one timer with a single poll(2): libuv cannot watch a descriptor whose
 * bytes we must not read, so the monitor polls, every 20 ms, without ever blocking.
 */
export class TapPump {
  private readonly taps = new Set<FifoTap>();
  private readonly scratch = new Scratch();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly onError: (err: unknown, tap: FifoTap) => void,
    private readonly everyMs = 20,
  ) {}

  add(tap: FifoTap): void {
    this.taps.add(tap);
    this.timer ??= setInterval(() => this.tick(), this.everyMs);
  }

  tick(): void {
    for (const tap of this.taps) if (!tap.isOpen) this.taps.delete(tap);
    const taps = [...this.taps];
    let ready: ReturnType<typeof pollNow>;
    try {
      ready = pollNow(taps.map((tap) => tap.fd));
    } catch (err) {
      // A timer callback must not throw: that would take the whole monitor down.
      if (taps[0]) this.onError(err, taps[0]);
      return;
    }
    taps.forEach((tap, i) => {
      if (!ready[i].readable && !ready[i].hungUp) return;
      try {
        tap.pump(this.scratch, ready[i].hungUp);
      } catch (err) {
        this.onError(err, tap);
        tap.close(true);
      }
    });
    if (this.taps.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops and frees the scratch pipe; for a monitor that is going away. */
  close(): void {
    this.stop();
    this.scratch.close();
  }
}

export function tapBoth(
  dir: ContainerDir,
  sink: LogSink,
  clock: () => bigint,
  pump: TapPump,
  onOutput?: (stream: StreamName, bytes: Buffer) => void,
): FifoTap[] {
  const stdout = new FifoTap(dir.fifo('stdout'), 'stdout', sink, clock);
  let stderr: FifoTap;
  try {
    stderr = new FifoTap(dir.fifo('stderr'), 'stderr', sink, clock);
  } catch (err) {
    stdout.close();
    throw err;
  }
  if (onOutput) {
    stdout.onOutput = (bytes) => onOutput('stdout', bytes);
    stderr.onOutput = (bytes) => onOutput('stderr', bytes);
  }
  pump.add(stdout);
  pump.add(stderr);
  return [stdout, stderr];
}

/** The most a pty can hold in flight (4 KiB line discipline + 8 KiB buffer), with room to spare. */
const TTY_DRAIN_MAX_BYTES = 256 * 1024;

/**
 * Copies a terminal container's output (the pty master) to the log as stdout, as containerd does.
 * The master lives in this process, with a copy in the keeper so that the terminal outlives a
 * monitor that dies (terminal_holds.ts); non-terminal stdio is kept in FIFOs instead.
 *
 * libuv cannot be trusted with the last bytes. What the slave writes reaches the master's read
 * buffer later, from a kernel worker (flush_to_ldisc); when every slave is closed the master polls
 * as hung up at once. libuv takes a hang-up after a short read as end-of-file, so bytes still on
 * their way when the container exits would be lost (its last line, or everything past the 4 KiB
 * the master's buffer holds). So the tap keeps its own copy of the master and, when the stream
 * ends, reads it dry: a read on a pty master first waits for that worker, and reads EIO only when
 * nothing is left.
 */
export class TtyTap implements LogTap {
  readonly done: Promise<void>;
  private readonly stream: tty.ReadStream;
  private readonly take: (chunk: Buffer) => void;
  private pending = Buffer.alloc(0);
  /** Our copy of the master, for the final read; closed once the stream ended. */
  private tail?: number;
  private stopped = false;

  constructor(master: number, sink: LogSink, clock: () => bigint, onOutput?: (bytes: Buffer) => void) {
    const tail = dupCloexec(master);
    try {
      this.stream = new tty.ReadStream(master);
    } catch (err) {
      fs.closeSync(tail); // the caller still owns the master
      throw err;
    }
    this.tail = tail;
    const write = (atEnd: boolean) => {
      const { records, consumed } = cutRecords(this.pending, atEnd);
      if (records.length > 0) sink.write(formatRecords('stdout', records, clock()));
      this.pending = this.pending.subarray(consumed);
    };
    this.take = (chunk) => {
      onOutput?.(chunk);
      this.pending = Buffer.concat([this.pending, chunk]);
      write(false);
    };
    this.stream.on('data', this.take);
    // The stream ends at the hang-up (every slave closed) or on EIO, either way before the exit is
    // announced (MonitoredContainer.finish waits for `done`).
    this.done = new Promise((resolve) => {
      this.stream.once('close', () => {
        if (!this.stopped) this.readToEnd(tail);
        this.closeTail();
        write(true);
        resolve();
      });
    });
    this.stream.on('error', () => this.stream.destroy());
  }

  /** Stops reading; what the terminal still holds is left for the next monitor (the keeper's copy). */
  close(): void {
    this.stopped = true;
    this.stream.destroy();
    this.closeTail();
  }

  /**
   * Reads what the kernel still holds for the master. Never blocks: poll(2) with no wait first
   * (on a pty master it, too, lets the worker finish before it answers). Stops when nothing is left
   * (or EIO says the same), or past the most a pty can hold, should a new slave keep writing.
   */
  private readToEnd(fd: number): void {
    const buf = Buffer.alloc(64 * 1024);
    let total = 0;
    try {
      while (total < TTY_DRAIN_MAX_BYTES && pollNow([fd])[0].readable) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) return;
        total += n;
        this.take(Buffer.from(buf.subarray(0, n)));
      }
    } catch {
      // EIO: the end of the stream; anything else: the stream is over all the same.
    }
  }

  private closeTail(): void {
    if (this.tail === undefined) return;
    fs.closeSync(this.tail);
    this.tail = undefined;
  }
}
