// Termination messages, as the kubelet's: each container start gets a fresh empty file (mode 0666)
// under <pod dir>/containers/<name>/, bind-mounted at its terminationMessagePath (default
// /dev/termination-log). When the container has exited, the last 4096 bytes of that file are its
// message; with terminationMessagePolicy FallbackToLogsOnError an empty file and a non-zero exit
// take the last 80 lines (at most 2048 bytes) of its log instead.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerStatus__Output } from '../gen/runtime/v1/ContainerStatus';
import type { Mount } from '../gen/runtime/v1/Mount';
import { parseLogLine, tailOffset } from './kubelet_api/cri_log';
import { TERMINATION_MESSAGE_PATH_ANNOTATION, TERMINATION_MESSAGE_POLICY_ANNOTATION } from './labels';
import type { Container } from './pod_spec';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
const MAX_FILE_BYTES = 4096;
const MAX_LOG_LINES = 80;
const MAX_LOG_BYTES = 2048;

/** The mount of a new, empty termination-message file for one start of the container. */
export function terminationMessageMount(podDir: string, c: Container): Mount {
  const dir = path.join(podDir, 'containers', c.name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  const file = path.join(dir, randomBytes(4).toString('hex'));
  fs.writeFileSync(file, '', { flag: 'wx' });
  // Whatever the umask: any user the container runs as must be able to write it.
  fs.chmodSync(file, 0o666);
  return {
    host_path: file,
    container_path: c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH,
    readonly: false,
  };
}

/** The last `max` bytes of a file; undefined when it does not exist. */
function readTail(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, max);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** The container's output in its last 80 log lines, cut to the last 2048 bytes. */
function lastLogLines(logPath: string): string {
  try {
    const fd = fs.openSync(logPath, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = tailOffset(fd, size, MAX_LOG_LINES);
      const raw = Buffer.alloc(size - start);
      fs.readSync(fd, raw, 0, raw.length, start);
      const out: Buffer[] = [];
      for (const line of raw.toString('latin1').split('\n')) {
        const entry = parseLogLine(Buffer.from(line, 'latin1'));
        if (!entry) continue;
        out.push(entry.content);
        if (!entry.partial) out.push(Buffer.from('\n'));
      }
      const all = Buffer.concat(out);
      return all.subarray(Math.max(0, all.length - MAX_LOG_BYTES)).toString();
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return `Error on reading termination message from logs: ${(err as Error).message}`;
  }
}

/**
 * The message of an exited container: the runtime's, then ": " and the termination message (from
 * the file its annotation names, or from its log), as the kubelet's convertToKubeContainerStatus.
 */
export function terminationMessage(status: ContainerStatus__Output): string {
  const annotations = status.annotations ?? {};
  const messagePath = annotations[TERMINATION_MESSAGE_PATH_ANNOTATION] ?? '';
  const policy = annotations[TERMINATION_MESSAGE_POLICY_ANNOTATION];
  // A container that could not even start has no logs to fall back to.
  let fallback =
    policy === 'FallbackToLogsOnError' && status.exit_code !== 0 && status.reason !== 'ContainerCannotRun';
  let message = '';
  const mount = messagePath ? (status.mounts ?? []).find((m) => m.container_path === messagePath) : undefined;
  if (mount) {
    try {
      const data = readTail(mount.host_path, MAX_FILE_BYTES);
      if (data) {
        message = data.toString();
        fallback = fallback && data.length === 0;
      }
    } catch (err) {
      message = `Error on reading termination log ${mount.host_path}: ${(err as Error).message}`;
      fallback = false;
    }
  }
  if (fallback && status.log_path) message = lastLogLines(status.log_path);
  if (!message) return status.message ?? '';
  return status.message ? `${status.message}: ${message}` : message;
}
