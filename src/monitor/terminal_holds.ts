// The keeper's share of terminal containers. Their output and input go through a pty master that
// the monitor holds; a monitor that died would take the only master with it, leaving the container
// blocked once the pty's buffer fills, unattachable, and unlogged. So the keeper, which outlives
// monitors, takes a copy of the master from the monitor (pidfd_getfd), says where it holds it in
// terminal.json, and the next monitor takes its own copy from there (adopt.ts). The copy goes when
// the container exits or is removed.
import fs from 'node:fs';
import path from 'node:path';
import { copyFdOf, openPidfd, ptyNumberOf } from '../runtime/sys';
import { ContainerDir, containersRoot, type TerminalCopy } from './records';

/** A copy of the pty master described by `from`, checked to be that pty; undefined if it is gone. */
export function copyTerminal(from: TerminalCopy): number | undefined {
  let pidfd: number;
  try {
    pidfd = openPidfd(from.pid);
  } catch {
    return undefined; // the holder is gone
  }
  let fd: number | undefined;
  try {
    fd = copyFdOf(pidfd, from.fd);
    if (ptyNumberOf(fd) === from.pty) return fd;
    fs.closeSync(fd); // that fd number now names something else
    return undefined;
  } catch {
    if (fd !== undefined) fs.closeSync(fd);
    return undefined;
  } finally {
    fs.closeSync(pidfd);
  }
}

export class TerminalHolds {
  /** Container id → our copy of its pty master. */
  private readonly held = new Map<string, number>();
  /** Containers without a terminal: their records are not read again. */
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

  private syncOne(id: string, dir: ContainerDir): void {
    let state;
    try {
      state = dir.readState();
    } catch {
      return; // being written or removed: the next pass sees it
    }
    if (!state) return;
    if (!state.tty) {
      this.never.add(id);
      return;
    }
    if (fs.existsSync(dir.exitPath)) {
      if (this.held.has(id)) this.release(id);
      return;
    }
    if (this.held.has(id) || !state.terminal) return;
    const fd = copyTerminal(state.terminal);
    if (fd === undefined) return;
    this.held.set(id, fd);
    try {
      dir.writeKeeperTerminal({ pid: process.pid, fd, pty: state.terminal.pty });
    } catch {
      this.release(id); // removed meanwhile
    }
  }

  private release(id: string): void {
    const fd = this.held.get(id);
    this.held.delete(id);
    if (fd !== undefined) fs.closeSync(fd);
  }
}
