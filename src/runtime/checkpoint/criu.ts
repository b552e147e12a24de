// Running the criu binary: its path, its arguments and, when it fails, CRIU's own reason (the last
// error lines of its log), so the caller can refuse with it. CRIU runs as a child process of ours
// (it ptraces and freezes the tree itself); nothing here blocks the event loop.
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import { failedPrecondition, internal, type NodeletError } from '../../common/errors';

export interface CriuRun {
  /** The criu binary: a path, or a name looked up on PATH. */
  criu: string;
  args: string[];
  /** The log CRIU writes (its -o, relative to -D / --work-dir); read back on failure. */
  logFile: string;
  /** Extra fds handed to CRIU from 3 on (its --inherit-fd fd[3], fd[4], …). */
  extraFds?: number[];
  timeoutMs?: number;
}

/** What CRIU said it cannot do: the process tree or the kernel lacks something, not a bug of ours. */
const PRECONDITION = [
  /unsupported/i,
  /not supported/i,
  /can't dump/i,
  /can't lookup mount/i,
  /external/i,
  /unix socket/i,
  /Unexpected rt vDSO/i,
  /kerndat/i,
  /Connected TCP socket/i,
];

export async function runCriu(run: CriuRun, what: string): Promise<void> {
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...(run.extraFds ?? [])];
  const child = spawn(run.criu, run.args, {
    stdio,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-8192)));
  child.stderr?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-8192)));
  const timer = run.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), run.timeoutMs) : undefined;
  const result = await new Promise<{ code: number | null; signal: string | null; err?: Error }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, signal: null, err }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => clearTimeout(timer));
  if (result.err) {
    throw failedPrecondition(`Cannot ${what}: cannot run '${run.criu}': ${result.err.message}`, result.err);
  }
  if (result.code === 0) return;
  const reason = criuReason(readTail(run.logFile) || output);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
  throw criuError(`Cannot ${what}: criu ${how}: ${reason}`, reason);
}

/** The lines of a CRIU log that say why it failed (its "Error (...)" lines), else its last lines. */
export function criuReason(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /Error \(|^Error|Warn.*fail/i.test(l));
  const chosen = (errors.length > 0 ? errors : lines).slice(-5);
  return chosen.map((l) => l.replace(/^\(\s*[\d.]+\)\s*/, '').trim()).join(' | ') || 'no log';
}

function criuError(message: string, reason: string): NodeletError {
  return PRECONDITION.some((re) => re.test(reason)) ? failedPrecondition(message) : internal(message);
}

function readTail(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-16384);
  } catch {
    return '';
  }
}
