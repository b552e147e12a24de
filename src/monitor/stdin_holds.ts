// The keeper's share of stdin_once. The monitor holds each stdin_once container's stdin FIFO open for
// writing until the first attach client leaves (stdin_port.ts); a monitor that died would drop that
// writer, and the container would read end-of-file long before any client came. So the keeper,
// which outlives monitors, holds one too, found by reading the container records, and lets go once
// the record says stdin was closed, the container exited, or it was removed.
import fs from 'node:fs';
import { FdHolds } from './fd_holds';
import type { ContainerDir, StateRecord } from './records';

export class StdinHolds extends FdHolds {
  protected syncOne(id: string, dir: ContainerDir, state: StateRecord): void {
    if (!state.stdin || !state.stdinOnce || state.tty) {
      this.never.add(id);
      return;
    }
    const wanted = !state.stdinClosed && !fs.existsSync(dir.exitPath);
    if (wanted && !this.held.has(id)) {
      try {
        // O_RDWR never waits for a reader; close-on-exec, so the monitor we start does not get it.
        this.held.set(id, fs.openSync(dir.fifo('stdin'), fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
      } catch {
        // gone meanwhile
      }
    } else if (!wanted && this.held.has(id)) {
      this.release(id);
    }
  }
}
