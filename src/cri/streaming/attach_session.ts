// Attach to a container's main process without taking its output from the monitor: stdout and
// stderr are followed in the CRI log file the monitor writes (`<ts> <stream> <F|P> <msg>` lines,
// from the end the file had when the attach began), stdin is written into the container's stdin
// FIFO. The session ends when the container exits, or, for a stdin_once container, when the
// client's stdin ends.
//
// The monitor writes a line to the log once it is complete and leaves an unfinished line in the
// FIFO: that tail is peeked (tee(2), nothing consumed) so a prompt or `echo -n` reaches the client
// at once; when its line later shows up in the log, only the part not yet sent is sent.
import fs from 'node:fs';
import net from 'node:net';
import type { Writable } from 'node:stream';
import type { SessionIo, SessionResult } from './remotecommand';
import { FifoPeeker } from './fifo_peek';

export interface AttachTarget {
  logPath: string;
  /** The stdout and stderr FIFOs the monitor reads (absent for a terminal container). */
  outputFifos?: { stdout: string; stderr: string };
  /** The stdin FIFO, when the container was created with stdin. */
  stdinFifo?: string;
  stdinOnce: boolean;
  /** Settles when the container's process has exited. */
  exited: Promise<number>;
}

const POLL_MS = 100;
/** The monitor writes the last records after it sees the exit: give it this long. */
const FINAL_READ_DELAY_MS = 300;

export async function runAttachSession(target: AttachTarget, session: SessionIo): Promise<SessionResult> {
  const follower = new LogFollower(
    target.logPath,
    { stdout: session.stdout, stderr: session.stderr ?? session.stdout },
    target.outputFifos,
  );
  let stdinDone: Promise<void> = new Promise(() => undefined);
  let writer: net.Socket | undefined;
  if (session.stdin && target.stdinFifo) {
    const fd = fs.openSync(target.stdinFifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    writer = new net.Socket({ fd, readable: false, writable: true });
    writer.on('error', () => undefined);
    session.stdin.pipe(writer, { end: false });
    const input = session.stdin;
    stdinDone = new Promise((resolve) => input.once('end', () => resolve()));
  } else {
    session.stdin?.resume();
  }
  const aborted = new Promise<void>((resolve) => session.signal.addEventListener('abort', () => resolve()));
  try {
    const ended = await Promise.race([
      target.exited.then((code) => ({ exitCode: code })),
      (target.stdinOnce ? stdinDone : new Promise<never>(() => undefined)).then(() => ({ exitCode: 0 })),
      aborted.then(() => ({ exitCode: 0 })),
    ]);
    await new Promise((r) => setTimeout(r, FINAL_READ_DELAY_MS));
    await follower.readNew();
    return ended;
  } finally {
    follower.stop();
    writer?.destroy();
  }
}

type StreamName = 'stdout' | 'stderr';

export class LogFollower {
  private offset: number;
  private partialLine = '';
  /** Per stream: the start of an unfinished line already sent from a peek. */
  private readonly sentTail: Record<StreamName, string> = { stdout: '', stderr: '' };
  private readonly peekers: Partial<Record<StreamName, FifoPeeker>> = {};
  private readonly timer: NodeJS.Timeout;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly logPath: string,
    private readonly out: Record<StreamName, Writable | undefined>,
    fifos?: { stdout: string; stderr: string },
  ) {
    this.offset = sizeOf(logPath);
    if (fifos) {
      for (const name of ['stdout', 'stderr'] as const) {
        if (this.out[name]) this.peekers[name] = FifoPeeker.open(fifos[name]);
      }
    }
    this.timer = setInterval(() => void this.readNew(), POLL_MS);
  }

  readNew(): Promise<void> {
    this.reading = this.reading.then(() => this.readOnce()).catch(() => undefined);
    return this.reading;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const p of Object.values(this.peekers)) p.close();
  }

  private async readOnce(): Promise<void> {
    await this.readLog();
    for (const name of ['stdout', 'stderr'] as const) {
      const tail = this.peekers[name]?.peek();
      // Only a tail with no newline is an unfinished line; anything else the log will bring.
      if (tail === undefined || tail.includes('\n') || !tail.startsWith(this.sentTail[name])) continue;
      if (tail.length > this.sentTail[name].length) {
        this.out[name]?.write(tail.slice(this.sentTail[name].length));
        this.sentTail[name] = tail;
      }
    }
  }

  private async readLog(): Promise<void> {
    const size = sizeOf(this.logPath);
    // A smaller file was rotated or reopened: follow the new one from its start.
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;
    const fh = await fs.promises.open(this.logPath, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      this.emit(buf.subarray(0, bytesRead).toString('utf8'));
    } finally {
      await fh.close();
    }
  }

  private emit(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      const record = parseCriLogLine(line);
      if (!record) continue;
      let message = record.message;
      const sent = this.sentTail[record.stream];
      if (sent && message.startsWith(sent)) message = message.slice(sent.length);
      this.sentTail[record.stream] =
        record.tag === 'P' && sent.length > record.message.length ? sent.slice(record.message.length) : '';
      this.out[record.stream]?.write(record.tag === 'F' ? `${message}\n` : message);
    }
  }
}

export function parseCriLogLine(
  line: string,
): { stream: 'stdout' | 'stderr'; tag: 'F' | 'P'; message: string } | undefined {
  const m = /^\S+ (stdout|stderr) (F|P) (.*)$/s.exec(line);
  if (!m) return undefined;
  return { stream: m[1] as 'stdout' | 'stderr', tag: m[2] as 'F' | 'P', message: m[3] };
}

function sizeOf(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
