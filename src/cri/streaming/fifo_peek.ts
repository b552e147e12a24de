// Looks at what waits in a FIFO without taking it: tee(2) into a scratch pipe, then read the
// scratch pipe. The monitor stays the FIFO's only consumer.
import fs from 'node:fs';
import { bytesInPipe, makePipe, peekPipe } from '../../runtime/sys';

const MAX_PEEK = 64 * 1024;
const O_CLOEXEC = 0o2000000;

export class FifoPeeker {
  private constructor(
    private readonly fifo: number,
    private readonly scratch: [number, number],
    private readonly path: string,
  ) {}

  /** undefined when the FIFO cannot be opened (the container is gone): nothing to peek then. */
  static open(path: string): FifoPeeker | undefined {
    let fifo: number;
    try {
      fifo = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | O_CLOEXEC);
    } catch {
      return undefined;
    }
    try {
      return new FifoPeeker(fifo, makePipe(), path);
    } catch (err) {
      fs.closeSync(fifo);
      throw err;
    }
  }

  /** What the FIFO holds right now, as text ('' when empty). */
  peek(): string {
    try {
      const waiting = Math.min(bytesInPipe(this.fifo, this.path), MAX_PEEK);
      if (waiting === 0) return '';
      const copied = peekPipe(this.fifo, this.scratch[1], waiting, this.path);
      const buf = Buffer.alloc(copied);
      let got = 0;
      while (got < copied) got += fs.readSync(this.scratch[0], buf, got, copied - got, null);
      return buf.toString('utf8');
    } catch {
      return '';
    }
  }

  close(): void {
    for (const fd of [this.fifo, ...this.scratch]) fs.closeSync(fd);
  }
}
