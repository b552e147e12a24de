// The caller's side of the control channel with a helper it spawned (init or exec helper).
import type { ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { NodeletError, internal } from '../../common/errors';
import type { FromHelper } from './protocol';
import { CONTROL_FD } from './protocol';

export class ChildChannel {
  private readonly messages: FromHelper[] = [];
  private closed = false;
  private heard = false;
  private wake: (() => void) | undefined;
  private buffer = '';

  constructor(private readonly socket: Duplex) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf('\n')) >= 0) {
        this.messages.push(JSON.parse(this.buffer.slice(0, at)) as FromHelper);
        this.heard = true;
        this.buffer = this.buffer.slice(at + 1);
      }
      this.notify();
    });
    const onClose = () => {
      this.closed = true;
      this.notify();
    };
    socket.on('end', onClose);
    socket.on('close', onClose);
    socket.on('error', onClose);
  }

  static of(child: ChildProcess): ChildChannel {
    return new ChildChannel(child.stdio[CONTROL_FD] as Duplex);
  }

  /** Whether the helper ever said anything (one that died silently did nothing worth reporting). */
  get silent(): boolean {
    return !this.heard;
  }

  send(message: object): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The next message, or undefined once the helper closed the channel. */
  async next(): Promise<FromHelper | undefined> {
    while (this.messages.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return this.messages.shift();
  }

  /** Waits for "ready"; throws the helper's own error when it reports one. */
  async expectReady(what: string): Promise<void> {
    const message = await this.next();
    if (message?.type === 'ready') return;
    throw failure(what, message);
  }

  /** After "start": resolves when execve happened (EOF after "exec", no error). */
  async expectExec(what: string): Promise<void> {
    let sawExec = false;
    for (let m = await this.next(); m !== undefined; m = await this.next()) {
      if (m.type === 'error') throw failure(what, m);
      if (m.type === 'exec') sawExec = true;
    }
    if (!sawExec) throw failure(what, undefined);
    this.socket.destroy();
  }

  close(): void {
    this.socket.destroy();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function failure(what: string, message: FromHelper | undefined): NodeletError {
  if (message?.type === 'error') {
    return new NodeletError(message.kind ?? 'Internal', `Cannot ${what}: ${message.message}`);
  }
  const got = message === undefined ? 'the helper exited without a word' : `unexpected '${message.type}'`;
  return internal(`Cannot ${what}: ${got}`);
}
