// Attach to a container's main process through the monitor, which holds its stdio: the FIFOs of a
// plain container, the pty master of a terminal container (src/monitor/attach_*.ts). The output
// reaches every attached client as the monitor reads it, an unfinished line (a prompt, `echo -n`)
// included; stdin goes into the container; a terminal's size follows the client's.
//
// The session ends when the container exits (after its last output) or the client goes away. The
// client's stdin ending does not end it: for a stdin_once container the monitor then closes the
// container's stdin, and the process usually exits on its own.
import type { Readable } from 'node:stream';
import { MonitorAttach } from '../../monitor';
import type { SessionIo, SessionResult } from './remotecommand';

export interface AttachTarget {
  /** The monitor's run directory (its attach socket is there). */
  runDir: string;
  containerId: string;
}

export async function runAttachSession(target: AttachTarget, session: SessionIo): Promise<SessionResult> {
  const attach = await MonitorAttach.open(target.runDir, target.containerId, {
    stdin: session.stdin !== undefined,
    stdout: session.stdout,
    stderr: session.stderr,
  });
  const leave = () => attach.close();
  session.signal.addEventListener('abort', leave);
  try {
    if (session.stdin) forwardStdin(session.stdin, attach);
    if (session.tty) session.onResize((size) => attach.resize(size));
    const end = await attach.ended;
    if ('exitCode' in end) return { exitCode: end.exitCode };
    if ('detached' in end) return { exitCode: 0 };
    // The client left (that closed the connection), or the monitor went away mid-session.
    return session.signal.aborted ? { exitCode: 0 } : { error: end.lost };
  } finally {
    session.signal.removeEventListener('abort', leave);
    attach.close();
  }
}

function forwardStdin(input: Readable, attach: MonitorAttach): void {
  input.on('data', (chunk: Buffer) => {
    if (!attach.writeStdin(chunk)) {
      input.pause();
      attach.once('drain', () => input.resume());
    }
  });
  input.once('end', () => attach.endStdin());
  input.on('error', () => undefined);
}
