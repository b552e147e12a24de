// The Kubernetes remote-command protocol, apart from its transport (SPDY streams or WebSocket
// channels): which streams a session has, how the final status is written on the error stream, and
// how resize events read. Versions (apimachinery util/remotecommand): channel.k8s.io (v1), v2,
// v3 (+resize), v4 (+exit code as a JSON metav1.Status), v5 (+close signal, WebSocket only here).
import type { Readable, Writable } from 'node:stream';

export const REMOTECOMMAND_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;
export type RemoteCommandProtocol = (typeof REMOTECOMMAND_PROTOCOLS)[number];

export interface TerminalSize {
  rows: number;
  cols: number;
}

/** How a session ended, as the error stream reports it. */
export type SessionResult = { exitCode: number } | { error: string };

/** The client's side of one exec or attach, whatever carries it. */
export interface SessionIo {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /** Called with each size the client sends (TTY sessions, v3 and later). */
  onResize(fn: (size: TerminalSize) => void): void;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/** The bytes written on the error stream for a result, per protocol version. */
export function statusPayload(protocol: RemoteCommandProtocol, result: SessionResult, what: string): Buffer {
  const v4 = protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io';
  if ('exitCode' in result && result.exitCode === 0) {
    return v4 ? Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })) : Buffer.alloc(0);
  }
  if ('exitCode' in result) {
    const message = `command terminated with non-zero exit code: error executing ${what}: exit code ${result.exitCode}`;
    if (!v4) return Buffer.from(message);
    return Buffer.from(
      JSON.stringify({
        metadata: {},
        status: 'Failure',
        message,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
      }),
    );
  }
  if (!v4) return Buffer.from(result.error);
  return Buffer.from(
    JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: result.error,
      reason: 'InternalError',
      code: 500,
    }),
  );
}

/**
 * Reads the resize stream: JSON objects `{"Width":…,"Height":…}` one after another (Go's
 * json.Encoder puts a newline after each).
 */
export function resizeReader(source: Readable, fn: (size: TerminalSize) => void): void {
  let pending = '';
  source.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('}')) >= 0) {
      const text = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      try {
        const size = JSON.parse(text.trim()) as { Width?: number; Height?: number };
        if (size.Width && size.Height) fn({ cols: size.Width, rows: size.Height });
      } catch {
        // A malformed size is dropped: the terminal keeps its last size.
      }
    }
  });
  source.on('error', () => undefined);
}

/**
 * Fans resize events out to listeners; a listener that comes late (the process starts after the
 * client sent its first size) gets the last size at once.
 */
export function resizeHub(): {
  emit(size: TerminalSize): void;
  onResize(fn: (size: TerminalSize) => void): void;
} {
  const listeners: ((size: TerminalSize) => void)[] = [];
  let last: TerminalSize | undefined;
  return {
    emit(size) {
      last = size;
      listeners.forEach((fn) => fn(size));
    },
    onResize(fn) {
      listeners.push(fn);
      if (last) fn(last);
    },
  };
}
