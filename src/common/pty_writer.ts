// Writes a terminal's input into its pty master without ever blocking the event loop: the
// monitor's, for attach to a terminal container, and the daemon's, for `exec -it`.
//
// libuv cannot do this for us: it reopens a tty to make it non-blocking, which a pty master does
// not allow (it would allocate a new pty), so a tty.WriteStream on a master falls back to blocking
// writes. A process in raw mode that does not read then fills the pty (about 64 KiB) and the
// next write(2) waits for it, with the whole event loop, for every container on the node.
// So the master is put in O_NONBLOCK and written here: what fits goes at once, the rest is queued
// and retried on a short timer (libuv cannot be asked to watch a descriptor it has no handle for).
//
// O_NONBLOCK is a flag of the open file description, shared by every copy of the master: in the
// monitor the keeper's (which only holds it), the resize copy (ioctl only) and the log's reader
// (TtyTap); in the daemon the exec's output reader. Their libuv streams take EAGAIN as "nothing
// yet".
//
// The queue is bounded by back-pressure: past HIGH_WATER_BYTES write() returns false and the
// caller (an attach or exec session) stops reading its client until `drain`, when the queue is
// empty. What is queued for a terminal that goes away (release(), at the process's exit) is dropped.
import fs from 'node:fs';
import { setNonblock } from '../runtime/sys';

const HIGH_WATER_BYTES = 64 * 1024;
const RETRY_MS = 20;
/** A terminal that takes nothing (a container that never reads, or whose slave is closed) is tried less often. */
const MAX_RETRY_MS = 320;

export class PtyWriter {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private readonly drains: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private dropped = false;
  private fd?: number;
  private retryIn: number;

  /** Takes `fd` (a copy of the master) and closes it in release(); the caller's if this throws. */
  constructor(
    fd: number,
    private readonly retryMs = RETRY_MS,
  ) {
    setNonblock(fd);
    this.fd = fd;
    this.retryIn = retryMs;
  }

  /** Bytes waiting for the terminal to take them. */
  get pending(): number {
    return this.queued;
  }

  /** Queues `bytes`; false when the caller should wait for `drain` before writing more. */
  write(bytes: Buffer, drain: () => void): boolean {
    if (this.dropped || this.fd === undefined) return true;
    if (bytes.length > 0) {
      this.queue.push(bytes);
      this.queued += bytes.length;
    }
    if (this.timer === undefined) this.flush();
    if (this.queued < HIGH_WATER_BYTES) return true;
    this.drains.push(drain);
    return false;
  }

  /** Drops what is queued and closes the descriptor; writers waiting for `drain` are let go. */
  release(): void {
    this.drop();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    const before = this.queued;
    while (this.queue.length > 0 && this.fd !== undefined) {
      const head = this.queue[0];
      let written: number;
      try {
        written = fs.writeSync(this.fd, head);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN') {
          this.retryIn = this.queued < before ? this.retryMs : Math.min(this.retryIn * 2, MAX_RETRY_MS);
          this.timer = setTimeout(() => this.flush(), this.retryIn);
          return;
        }
        // EIO (a hung-up terminal) or worse: it can never take these bytes. A closed slave is not
        // reported: the master just stays full, until release() when the container's exit is seen.
        this.drop();
        return;
      }
      this.queued -= written;
      if (written === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(written);
    }
    this.wakeDrains();
  }

  private drop(): void {
    this.dropped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queued = 0;
    this.wakeDrains();
  }

  private wakeDrains(): void {
    this.drains.splice(0).forEach((fn) => fn());
  }
}
