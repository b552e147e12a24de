// The init of a PID namespace (pid 1 there) gets only the signals it has a handler for, besides
// SIGKILL and SIGSTOP: the kernel drops any other. A stop signal sent in the instant between the
// workload's execve and the installation of its handler is lost, and the stop would wait its whole
// grace period (critest stops `top` right after starting it). The stop path asks before sending,
// and sends once more as soon as the handler is there.
import fs from 'node:fs';

/** Whether `sig` sent now to `pid` would be dropped: pid is a namespace's init without a handler. */
export function droppedByInit(pid: number, sig: number): boolean {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false; // gone: nothing to send to
  }
  return droppedByInitStatus(status, sig);
}

/** The same, from the text of /proc/<pid>/status. */
export function droppedByInitStatus(status: string, sig: number): boolean {
  const nspid = /^NSpid:\s*(.+)$/m.exec(status)?.[1].trim().split(/\s+/);
  if (!nspid || nspid[nspid.length - 1] !== '1') return false;
  const caught = /^SigCgt:\s*([0-9a-fA-F]+)$/m.exec(status)?.[1];
  if (caught === undefined) return false;
  return (BigInt(`0x${caught}`) & (1n << BigInt(sig - 1))) === 0n;
}
