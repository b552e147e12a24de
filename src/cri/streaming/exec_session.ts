// A streaming exec: a process in the container's namespaces, started from the daemon (its parent),
// wired to the client's streams. With a TTY the pty master carries stdin and stdout; without, three
// pipes. The session ends when the process has exited and its output has reached the client; a
// client that goes away kills the process.
import os from 'node:os';
import fs from 'node:fs';
import tty from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { PtyWriter } from '../../common/pty_writer';
import { execInContainer, type ContainerSpec, type ExitStatus } from '../../runtime';
import { dupCloexec } from '../../runtime/sys';
import type { SessionIo, SessionResult } from './remotecommand';

export async function runExecSession(
  target: { pid: number; spec: ContainerSpec },
  cmd: string[],
  session: SessionIo,
): Promise<SessionResult> {
  const exec = await execInContainer(
    target,
    { args: cmd, terminal: session.tty },
    {
      stdin: session.stdin ? 'pipe' : 'ignore',
      stdout: session.stdout ? 'pipe' : 'ignore',
      stderr: session.stderr ? 'pipe' : 'ignore',
    },
  );
  const kill = () => exec.kill('SIGKILL');
  session.signal.addEventListener('abort', kill);
  try {
    let outputDone: Promise<void>;
    if (exec.terminal) {
      const master = exec.terminal.master;
      session.onResize((size) => {
        try {
          exec.resize(size);
        } catch {
          // The terminal may already be gone with the process.
        }
      });
      outputDone = wireTerminal(master, session);
    } else {
      const child = exec.child;
      if (session.stdin && child.stdin) forward(session.stdin, child.stdin);
      outputDone = Promise.all([
        child.stdout && session.stdout ? copyTo(child.stdout, session.stdout) : Promise.resolve(),
        child.stderr && session.stderr ? copyTo(child.stderr, session.stderr) : Promise.resolve(),
      ]).then(() => undefined);
    }
    const status = await exec.wait();
    await outputDone;
    return { exitCode: exitCodeOf(status) };
  } finally {
    session.signal.removeEventListener('abort', kill);
  }
}

function exitCodeOf(status: ExitStatus): number {
  if (status.exitCode !== null) return status.exitCode;
  const signo = status.signal ? os.constants.signals[status.signal] : 0;
  return 128 + signo;
}

/**
 * The pty master: output until every slave is closed (EIO), input from the client's stdin. Input
 * goes through a PtyWriter, never a (blocking) tty.WriteStream: a process that does not read its
 * terminal would otherwise hold the daemon's event loop in write(2). Past its queue's bound the
 * client is paused; what is still queued when the process is gone is dropped.
 */
function wireTerminal(master: number, session: SessionIo): Promise<void> {
  const output = new tty.ReadStream(master);
  let input: PtyWriter | undefined;
  if (session.stdin) {
    const fd = dupCloexec(master);
    try {
      input = new PtyWriter(fd);
    } catch (err) {
      fs.closeSync(fd);
      output.destroy();
      throw err;
    }
    writeInto(session.stdin, input);
  }
  const done = new Promise<void>((resolve) => output.once('close', () => resolve()));
  output.on('error', () => output.destroy());
  if (session.stdout) output.pipe(session.stdout, { end: false });
  else output.resume();
  // The ReadStream closes the master with itself; the duplicate goes with the input side.
  return done.then(() => input?.release());
}

/** The client's input into the terminal, the client paused while the terminal is behind. */
function writeInto(from: Readable, to: PtyWriter): void {
  const resume = () => from.resume();
  from.on('data', (chunk: Buffer | string) => {
    if (!to.write(Buffer.from(chunk), resume)) from.pause();
  });
  from.on('error', () => undefined);
}

/** Client input into the process; the client's half-close ends the process's stdin. */
function forward(from: Readable, to: Writable, endOnEnd = true): void {
  to.on('error', () => undefined);
  from.pipe(to, { end: endOnEnd });
}

/** Copies without ending the destination (the session ends every stream at once). */
function copyTo(from: Readable, to: Writable): Promise<void> {
  return new Promise((resolve) => {
    from.pipe(to, { end: false });
    from.once('end', () => resolve());
    from.once('close', () => resolve());
    from.once('error', () => resolve());
  });
}
