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

/** Reopens the caller's FIFOs onto 0-2: the same pipes, as the cold path's inherited fds are. */
function takeStdio({ callerPid, stdio }: PooledTakeover): void {
  stdio.forEach((callerFd, target) => {
    if (callerFd === null) return;
    const source = `/proc/${callerPid}/fd/${callerFd}`;
    const fd = fs.openSync(source, fs.constants.O_RDWR);
    if (fd !== target) {
      dup2(fd, target);
      fs.closeSync(fd);
    }
  });
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
