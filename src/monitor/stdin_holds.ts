// The keeper's share of stdin_once. The monitor holds each stdin_once container's stdin FIFO open for
// writing until the first attach client leaves (stdin_port.ts); a monitor that died would drop that
// writer, and the container would read end-of-file long before any client came. So the keeper,
// which outlives monitors, holds one too, found by reading the container records, and lets go once
// the record says stdin was closed, the container exited, or it was removed.
import fs from 'node:fs';
import path from 'node:path';
import { ContainerDir, containersRoot } from './records';

export class StdinHolds {
  /** Container id → our O_RDWR descriptor on its stdin FIFO. */
  private readonly held = new Map<string, number>();
  /** Containers that will never need one (no stdin_once): their records are not read again. */
  private readonly never = new Set<string>();

  constructor(private readonly runDir: string) {}

  /** One pass over the container records; cheap for containers already known. */
  sync(): void {
    const root = containersRoot(this.runDir);
    const ids = fs.existsSync(root) ? fs.readdirSync(root) : [];
    const present = new Set(ids);
    for (const id of this.held.keys()) if (!present.has(id)) this.release(id);
    for (const id of this.never) if (!present.has(id)) this.never.delete(id);
    for (const id of ids) {
      if (!this.never.has(id)) this.syncOne(id, new ContainerDir(path.join(root, id)));
    }
  }

  releaseAll(): void {
    for (const id of [...this.held.keys()]) this.release(id);
  }

  private syncOne(id: string, dir: ContainerDir): void {
    let state;
    try {
      state = dir.readState();
    } catch {
      return; // being written or removed: the next pass sees it
    }
    if (!state) return;
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

  private release(id: string): void {
    const fd = this.held.get(id);
    this.held.delete(id);
    if (fd !== undefined) fs.closeSync(fd);
  }
}
