// What the daemon and the monitor say to each other over <runDir>/monitor.sock: one JSON object
// per line. Every message carries the protocol version; a peer that speaks another version is
// refused at once rather than misread. Requests carry an id that their response echoes; events
// (container exits) have no id and go to every connection that subscribed.
import path from 'node:path';
import type { ContainerSpec } from '../runtime/spec';
import type { ExitRecord } from './records';

export const PROTOCOL_VERSION = 1;

export function monitorSocketPath(runDir: string): string {
  return path.join(runDir, 'monitor.sock');
}

export interface CreateParams {
  id: string;
  spec: ContainerSpec;
  /** Absolute path of the CRI log file. */
  logPath: string;
  /** Keep a stdin FIFO open for a later attach. */
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  /** Restore from CRIU images at start instead of starting an init (see launcher.ts restore). */
  restore?: RestoreParams;
}

export interface RestoreParams {
  /** The CRIU binary. */
  criu: string;
  /** CRIU's images (an unpacked archive's checkpoint/). */
  imagesDir: string;
  /** Where restore.log goes. */
  workDir: string;
}

export interface ExecSyncParams {
  id: string;
  args: string[];
  /** Extra "KEY=value" entries on top of the container's environment. */
  env?: string[];
  /** Seconds; 0 or absent means no limit. On expiry the process is killed. */
  timeoutSeconds?: number;
}

export type Request =
  | { op: 'create'; params: CreateParams }
  | { op: 'start'; params: { id: string } }
  | { op: 'signal'; params: { id: string; signal: number } }
  | { op: 'status'; params: { id: string } }
  | { op: 'list'; params: Record<string, never> }
  | { op: 'reopenLog'; params: { id: string } }
  | { op: 'execSync'; params: ExecSyncParams }
  | { op: 'remove'; params: { id: string } }
  | { op: 'subscribe'; params: Record<string, never> }
  | { op: 'counters'; params: Record<string, never> }
  | { op: 'shutdown'; params: { killContainers: boolean } };

export type Op = Request['op'];

/**
 *            create            start           (exit seen)
 *   (none) ─────────> created ───────> running ───────────> exited
 *                        └────────────────────────────────────┘ (process died before start)
 */
export type ContainerState = 'created' | 'running' | 'exited';

export interface ContainerInfo {
  id: string;
  state: ContainerState;
  pid?: number;
  logPath: string;
  createdAt: string;
  startedAt?: string;
  /** True when this monitor did not start the process and watches it through a pidfd. */
  adopted: boolean;
  exit?: ExitRecord;
}

/** create's answer: the info, plus how the init started (absent from monitors older than this field). */
export interface CreatedInfo extends ContainerInfo {
  initStart?: { source: 'cold' | 'pool'; seconds: number };
}

/** The monitor's running totals since it started (a monitor older than this answers UNIMPLEMENTED). */
export interface MonitorCounters {
  /** CRI log records (lines) that could not be written to their log file, and their bytes. */
  logLinesDropped: number;
  logBytesDropped: number;
}

export interface ExecSyncResult {
  /** base64, since output is bytes. */
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut: boolean;
}

export interface Results {
  create: CreatedInfo;
  start: ContainerInfo;
  signal: Record<string, never>;
  status: ContainerInfo;
  list: ContainerInfo[];
  reopenLog: Record<string, never>;
  execSync: ExecSyncResult;
  remove: Record<string, never>;
  subscribe: Record<string, never>;
  counters: MonitorCounters;
  shutdown: Record<string, never>;
}

export type ParamsOf<O extends Op> = Extract<Request, { op: O }>['params'];

export interface RequestMessage<O extends Op = Op> {
  v: number;
  id: number;
  op: O;
  params: ParamsOf<O>;
}

export interface WireError {
  /** A NodeletError kind, so the daemon rethrows what the monitor threw. */
  kind: string;
  message: string;
}

export type ResponseMessage =
  | { v: number; id: number; ok: true; result: unknown }
  | { v: number; id: number; ok: false; error: WireError };

export interface ExitEventMessage {
  v: number;
  event: 'exit';
  container: string;
  exit: ExitRecord;
}

export type ServerMessage = ResponseMessage | ExitEventMessage;

export function encode(message: RequestMessage | ServerMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Cuts a byte stream into JSON messages. A line that is not JSON or has the wrong version goes to
 * onError; the lines after it are still read.
 */
export class LineDecoder {
  private rest = '';

  constructor(
    private readonly onMessage: (message: unknown) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let message: unknown;
      try {
        message = parseLine(line);
      } catch (err) {
        this.onError(err as Error);
        continue;
      }
      this.onMessage(message);
    }
  }
}

function parseLine(line: string): unknown {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch (err) {
    throw new Error(`Cannot read monitor message '${line.slice(0, 80)}': ${(err as Error).message}`);
  }
  const v = (message as { v?: unknown } | null)?.v;
  if (v !== PROTOCOL_VERSION) {
    throw new Error(
      `Cannot read monitor message: protocol version ${String(v)}, expected ${PROTOCOL_VERSION}`,
    );
  }
  return message;
}
