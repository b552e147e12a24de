// ExecSync: run a process beside the container's, collect what it writes, return it with the exit
// code. The output goes back to the caller, never to the container's log. A timeout kills the
// process (SIGKILL) and says so, as the CRI asks.
import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { failedPrecondition } from '../common/errors';
import type { ExecSyncResult } from './protocol';

/** Like containerd's cap: output beyond this is cut, so a runaway exec cannot exhaust the monitor. */
const MAX_EXEC_OUTPUT_BYTES = 16 * 1024 * 1024;

export function collectExec(child: ChildProcess, what: string, timeoutSeconds = 0): Promise<ExecSyncResult> {
  const stdout = new Capped();
  const stderr = new Capped();
  child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
  let timedOut = false;
  const timer =
    timeoutSeconds > 0
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutSeconds * 1000)
      : undefined;
  return new Promise<ExecSyncResult>((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(failedPrecondition(`Cannot exec '${what}': ${err.message}`, err));
    });
    // 'close' comes after both pipes ended, so the output is complete.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const exitCode = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
      resolve({ stdout: stdout.base64(), stderr: stderr.base64(), exitCode, timedOut });
    });
  });
}

class Capped {
  private chunks: Buffer[] = [];
  private size = 0;

  add(chunk: Buffer): void {
    const room = MAX_EXEC_OUTPUT_BYTES - this.size;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  base64(): string {
    return Buffer.concat(this.chunks).toString('base64');
  }
}
