// The keeper's share of terminal containers. Their output and input go through a pty master that
// the monitor holds; a monitor that died would take the only master with it, leaving the container
// blocked once the pty's buffer fills, unattachable, and unlogged. So the keeper, which outlives
// monitors, takes a copy of the master from the monitor (pidfd_getfd), says where it holds it in
// terminal.json, and the next monitor takes its own copy from there (adopt.ts). The copy goes when
// the container exits or is removed.
import fs from 'node:fs';
import { copyFdOf, openPidfd, ptyNumberOf } from '../runtime/sys';
import { FdHolds } from './fd_holds';
import type { ContainerDir, StateRecord, TerminalCopy } from './records';

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

export class TerminalHolds extends FdHolds {
  protected syncOne(id: string, dir: ContainerDir, state: StateRecord): void {
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
}
