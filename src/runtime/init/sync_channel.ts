// The helper's side of the control channel: blocking reads and writes on fd 3. The helper has
// nothing else to do while it waits, and blocking keeps every step on the main thread.
import fs from 'node:fs';
import { clearNonblock } from '../sys/engine';

export class SyncChannel {
  private pending = '';

  constructor(private readonly fd: number) {
    clearNonblock(fd); // libuv may hand us the socket non-blocking: readSync would see EAGAIN
  }

  read<T>(): T {
    const chunk = Buffer.alloc(65536);
    while (!this.pending.includes('\n')) {
      const n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
      if (n === 0) throw new Error('Cannot read the control channel: the caller closed it');
      this.pending += chunk.toString('utf8', 0, n);
    }
    const at = this.pending.indexOf('\n');
    const line = this.pending.slice(0, at);
    this.pending = this.pending.slice(at + 1);
    return JSON.parse(line) as T;
  }

  write(message: object): void {
    const data = Buffer.from(`${JSON.stringify(message)}\n`);
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off);
  }

  /** For error reports: the caller may already be gone. */
  tryWrite(message: object): void {
    try {
      this.write(message);
    } catch {
      // nothing left to tell
    }
  }
}
