// Builds the attach hub of one container from what the monitor holds for it: the stdin FIFO (and,
// for stdin_once, the descriptor that keeps it open) or the pty master of a terminal container.
import fs from 'node:fs';
import { dupCloexec, setWindowSize } from '../runtime/sys';
import { AttachHub } from './attach_hub';
import type { MonitoredContainer } from './container';
import { FifoStdin, TtyStdin, type StdinPort } from './stdin_port';

export interface AttachHandles {
  /** The pty master of a terminal container (this monitor launched it). */
  master?: number;
  /** For a stdin_once FIFO: the O_RDWR descriptor that holds it open (see holdStdin). */
  stdinHolder?: number;
}

/** The hub, or undefined for a terminal container whose pty died with an earlier monitor. */
export function attachHubFor(c: MonitoredContainer, handles: AttachHandles): AttachHub | undefined {
  const { state } = c;
  const master = handles.master;
  if (state.tty && master === undefined) return undefined;
  let stdin: StdinPort | undefined;
  if (state.stdin) {
    stdin =
      master !== undefined
        ? new TtyStdin(master)
        : new FifoStdin(c.dir.fifo('stdin'), handles.stdinHolder, { closed: state.stdinClosed === true });
  }
  // Its own copy of the master: the log's reader closes the original when the terminal ends, and
  // a resize must never reach whatever file later reuses that number.
  const winsize = master !== undefined ? dupCloexec(master) : undefined;
  return new AttachHub(state.id, {
    stdin,
    stdinOnce: state.stdinOnce === true,
    resize: winsize === undefined ? undefined : (size) => setWindowSize(winsize, size),
    release: winsize === undefined ? undefined : () => fs.closeSync(winsize),
    stdinEofBlocked: () => !state.tty && holdsStdinForWriting(c.state.pid),
    onStdinClosed: () => {
      c.state = { ...c.state, stdinClosed: true };
      c.dir.writeState(c.state);
    },
  });
}

/**
 * Whether the process holds its fd 0 open for writing too. A FIFO then never reads end-of-file,
 * whatever we close (an init that reopened its stdio through /proc read-write would do that).
 */
function holdsStdinForWriting(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/0`, 'utf8');
    const flags = Number.parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? '0', 8);
    return (flags & 3) === fs.constants.O_RDWR;
  } catch {
    return false; // gone: nothing is left to wait for
  }
}
