// The init's side of the pool. A pooled init is started before its container is known: already
// PID 1 of a fresh PID namespace (the one thing a process cannot enter later), Node booted and
// every module loaded, waiting on fd 3. When it is taken it does itself what the cold path does
// around the spawn: it takes the container's stdio, joins the pod's namespaces and creates the
// rest (a fresh mount namespace last, so its mount table is the host's as of now, not as of the
// pool's start). Only the main thread moves; it is the one that execve's, so the workload has them.
import fs from 'node:fs';
import { containerNamespacePlan } from '../namespaces/plan';
import type { ContainerSpec } from '../spec/types';
import { NAMESPACE_FLAGS, PR_SET_PDEATHSIG, dup2, prctl, setnsThread, unshareThread } from '../sys/engine';
import type { PooledTakeover } from './protocol';

const SIGKILL = 9;

/** While idle, the pooled init dies with the monitor (its channel's EOF also ends it). */
export function dieWithParent(): void {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

export function takeOver(spec: ContainerSpec, takeover: PooledTakeover): void {
  // A container must outlive its monitor: the next monitor adopts it.
  prctl(PR_SET_PDEATHSIG, 0);
  takeStdio(takeover);
  enterNamespaces(spec);
}

/**
 * Reopens the caller's FIFOs onto 0-2: the same pipes, as the cold path's inherited fds are, and
 * with the same access mode (a stdin_once container's stdin is read-only: that is how it sees
 * end-of-file). Non-blocking, so that a FIFO never waits for its other end; execWorkload clears it.
 */
function takeStdio({ callerPid, stdio }: PooledTakeover): void {
  stdio.forEach((callerFd, target) => {
    if (callerFd === null) return;
    const source = `/proc/${callerPid}/fd/${callerFd}`;
    const fd = fs.openSync(source, accessMode(callerPid, callerFd) | fs.constants.O_NONBLOCK);
    if (fd !== target) {
      dup2(fd, target);
      fs.closeSync(fd);
    }
  });
}

/** O_RDONLY, O_WRONLY or O_RDWR of the caller's fd, from the octal flags of its fdinfo. */
function accessMode(pid: number, fd: number): number {
  const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
  const flags = /^flags:\s+([0-7]+)$/m.exec(info);
  if (!flags) throw new Error(`Cannot read the open flags of fd ${fd} of process ${pid}`);
  return parseInt(flags[1] as string, 8) & 0o3;
}

function enterNamespaces(spec: ContainerSpec): void {
  const plan = containerNamespacePlan(spec.linux.namespaces);
  for (const { type, path } of plan.join) {
    if (type === 'pid' || type === 'mount') {
      throw new Error(
        `Cannot take over container '${spec.id}': a pooled init cannot join a ${type} namespace`,
      );
    }
    const fd = fs.openSync(path, 'r');
    try {
      setnsThread(fd, NAMESPACE_FLAGS[type], path);
    } finally {
      fs.closeSync(fd);
    }
  }
  // The PID namespace is already ours (we are its PID 1); the mount namespace is among these.
  const flags = plan.create
    .filter((type) => type !== 'pid')
    .reduce((acc, type) => acc | NAMESPACE_FLAGS[type], 0);
  unshareThread(flags);
}
