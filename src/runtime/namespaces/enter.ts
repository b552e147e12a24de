// Running a function (in practice: child_process.spawn) with the CALLING THREAD inside other
// namespaces, then putting the thread back. uv_spawn forks from the calling thread, so the child
// starts inside the namespaces while every other thread of the caller stays in the host's.
//
// Kernel rules this relies on: setns/unshare move only the calling thread; setns into a mount
// namespace needs the thread to stop sharing its fs struct first (unshare(CLONE_FS)), and it resets
// the thread's root and cwd (so the cwd is restored by hand); unshare(CLONE_NEWPID) and setns into a
// PID namespace change only where the thread's CHILDREN are born.
import fs from 'node:fs';
import { messageOf, unimplemented } from '../../common/errors';
import type { NamespaceType } from '../spec/types';
import { CLONE_FS, NAMESPACE_FILES, NAMESPACE_FLAGS, setnsThread, unshareThread } from '../sys/engine';

export interface NamespacePlan {
  /** Namespaces to enter, by the path of a /proc/<pid>/ns/* file or a pin. */
  join: { type: NamespaceType; path: string }[];
  /** Namespaces to create fresh. */
  create: NamespaceType[];
}

let fsUnshared = false;

/** Joining a mount namespace from a threaded process needs a private fs struct: done once. */
function ensureOwnFsStruct(): void {
  if (fsUnshared) return;
  unshareThread(CLONE_FS);
  fsUnshared = true;
}

export function runInNamespaces<T>(plan: NamespacePlan, fn: () => T): T {
  const types = [...plan.join.map((j) => j.type), ...plan.create];
  if (types.includes('user')) {
    // A threaded process can neither unshare nor join a user namespace.
    throw unimplemented('Cannot enter a user namespace: user namespaces are not implemented');
  }
  ensureOwnFsStruct();
  const cwd = process.cwd();
  const toClose: number[] = [];
  const saved: { type: NamespaceType; fd: number }[] = [];
  try {
    // Open every target before moving: paths are resolved in the caller's own mount namespace.
    const targets = plan.join.map((j) => {
      const fd = fs.openSync(j.path, 'r');
      toClose.push(fd);
      return { ...j, fd };
    });
    for (const type of new Set(types)) {
      const fd = fs.openSync(`/proc/thread-self/ns/${NAMESPACE_FILES[type]}`, 'r');
      toClose.push(fd);
      saved.push({ type, fd });
    }
    // Mount last: after it, paths (and /proc) would be the container's.
    targets.sort((a, b) => Number(a.type === 'mount') - Number(b.type === 'mount'));
    let moved = 0;
    try {
      for (const t of targets) {
        setnsThread(t.fd, NAMESPACE_FLAGS[t.type], t.path);
        moved++;
      }
      const flags = plan.create.reduce((acc, t) => acc | NAMESPACE_FLAGS[t], 0);
      if (flags !== 0) unshareThread(flags);
      return fn();
    } finally {
      if (moved > 0 || plan.create.length > 0) restore(saved, cwd);
    }
  } finally {
    for (const fd of toClose) fs.closeSync(fd);
  }
}

function restore(saved: { type: NamespaceType; fd: number }[], cwd: string): void {
  for (const s of [...saved].reverse()) {
    try {
      setnsThread(s.fd, NAMESPACE_FLAGS[s.type], `/proc/thread-self/ns/${NAMESPACE_FILES[s.type]}`);
    } catch (err) {
      abortOutsideNamespace(s.type, err);
    }
  }
  process.chdir(cwd);
}

/**
 * The thread could not come back: left in a container's namespace, it would run every later call
 * there (the next spawn, mounts, network setup), and an ordinary error would be caught and carried
 * on from. The process ends instead; the monitor and the daemon are built to be restarted.
 */
function abortOutsideNamespace(type: NamespaceType, err: unknown): never {
  const line = `nodelet: cannot return to the caller's ${type} namespace: ${messageOf(err)}; aborting\n`;
  try {
    fs.writeSync(2, line);
  } finally {
    process.abort();
  }
}
