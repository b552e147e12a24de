// Container stdio that outlives the monitor.
//
// stdout and stderr are FIFOs in the container's directory. The container gets them opened O_RDWR:
// it is then a reader of its own pipe, so a write can never fail with EPIPE when no monitor reads;
// it only blocks once the pipe is full (grown to 1 MiB here, the unprivileged maximum). The monitor
// reads through a separate O_RDONLY|O_NONBLOCK open, wrapped in a net.Socket so libuv polls it (a
// blocking fs read would hold a thread-pool thread per stream). A replacement monitor opens the same
// FIFOs and reads on from where the pipe is: nothing written while no monitor ran is lost, as long
// as the container lives. What sits in the pipe when the container exits with no monitor running
// is lost with the pipe.
//
// Order matters: a FIFO read with no writer at all returns end-of-file, so the container's write
// side is opened before the monitor's read side.
import fs from 'node:fs';
import net from 'node:net';
import { growPipe, makeFifo } from '../runtime/sys';
import { CriLineSplitter, type LogSink, type StreamName } from './cri_log';
import type { ContainerDir } from './records';

const PIPE_BYTES = 1024 * 1024;

export interface ChildStdio {
  stdin: number | 'ignore';
  stdout: number;
  stderr: number;
}

export function makeFifos(dir: ContainerDir, stdin: boolean): void {
  makeFifo(dir.fifo('stdout'));
  makeFifo(dir.fifo('stderr'));
  if (stdin) makeFifo(dir.fifo('stdin'));
}

/**
 * The container's ends. stdin, when wanted, is also opened O_RDWR: reads block until an attach
 * writes, and a dead monitor never looks like end-of-input. The caller closes these after launch.
 */
export function openChildStdio(dir: ContainerDir, stdin: boolean): ChildStdio {
  const opened: number[] = [];
  try {
    const open = (name: 'stdin' | 'stdout' | 'stderr'): number => {
      const fd = fs.openSync(dir.fifo(name), fs.constants.O_RDWR);
      opened.push(fd);
      growPipe(fd, PIPE_BYTES, dir.fifo(name));
      return fd;
    };
    return { stdout: open('stdout'), stderr: open('stderr'), stdin: stdin ? open('stdin') : 'ignore' };
  } catch (err) {
    opened.forEach((fd) => fs.closeSync(fd));
    throw err;
  }
}

export function closeChildStdio(stdio: ChildStdio): void {
  for (const fd of [stdio.stdin, stdio.stdout, stdio.stderr]) {
    if (typeof fd === 'number') fs.closeSync(fd);
  }
}

/** Copies one FIFO into the CRI log until every writer has gone. */
export class StreamPump {
  /** Settles at end-of-file, after the last partial line went to the log. */
  readonly done: Promise<void>;
  private readonly socket: net.Socket;
  private stopped = false;

  constructor(fifoPath: string, stream: StreamName, sink: LogSink, clock: () => bigint) {
    const fd = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const splitter = new CriLineSplitter(stream, sink, clock);
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    this.socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    this.done = new Promise((resolve) => {
      this.socket.once('close', () => {
        // A monitor that stops on purpose leaves a half line to its successor instead of cutting it.
        if (!this.stopped) splitter.end();
        resolve();
      });
    });
    this.socket.on('error', () => this.socket.destroy());
  }

  /** Stops reading; the FIFO stays for whoever reads next. */
  close(): void {
    this.stopped = true;
    this.socket.destroy();
  }
}

export function pumpBoth(dir: ContainerDir, sink: LogSink, clock: () => bigint): StreamPump[] {
  const stdout = new StreamPump(dir.fifo('stdout'), 'stdout', sink, clock);
  try {
    return [stdout, new StreamPump(dir.fifo('stderr'), 'stderr', sink, clock)];
  } catch (err) {
    stdout.close();
    throw err;
  }
}
