// Pod namespaces kept alive without a process: bind mounts of /proc/thread-self/ns/<type> under
// <runDir>/ns/<podId>/, as CRI-O's pinns does. Containers join them by path. A pinned network
// namespace has its loopback up.
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../common/errors';
import type { NamespaceType } from '../spec/types';
import { MNT_DETACH, NAMESPACE_FILES, isSysError, mount, MS_BIND, umount } from '../sys/engine';
import { runInNamespaces } from './enter';
import { setLinkUp } from '../sys/netif';

export type PinnedNamespaces = Partial<Record<NamespaceType, string>>;

const PINNABLE: NamespaceType[] = ['network', 'ipc', 'uts', 'cgroup'];

export function podNamespaceDir(runDir: string, podId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(podId)) {
    throw invalidArgument(`Cannot pin namespaces of pod '${podId}': the id is not a plain name`);
  }
  return path.join(runDir, 'ns', podId);
}

/** Creates fresh namespaces of the given types and pins each one; returns the pin paths. */
export function pinNamespaces(runDir: string, podId: string, types: NamespaceType[]): PinnedNamespaces {
  const bad = types.filter((t) => !PINNABLE.includes(t));
  if (bad.length > 0) {
    throw invalidArgument(
      `Cannot pin namespaces '${bad.join(',')}': only ${PINNABLE.join(', ')} can be pinned without a process`,
    );
  }
  const dir = podNamespaceDir(runDir, podId);
  fs.mkdirSync(dir, { recursive: true });
  const pinned: PinnedNamespaces = {};
  try {
    runInNamespaces({ join: [], create: types }, () => {
      // A new network namespace starts with its loopback down. Bringing it up here is what the
      // loopback network of containerd and CRI-O does, without exec'ing a CNI plugin on every
      // pod start and stop.
      if (types.includes('network')) setLinkUp('lo');
      for (const type of types) {
        pinned[type] = pinFile(`/proc/thread-self/ns/${NAMESPACE_FILES[type]}`, dir, type);
      }
    });
  } catch (err) {
    unpinNamespaces(runDir, podId);
    throw err;
  }
  return pinned;
}

/** Bind-mounts a namespace file onto <dir>/<type>. */
export function pinFile(nsFile: string, dir: string, type: NamespaceType): string {
  const target = path.join(dir, type);
  fs.writeFileSync(target, '', { mode: 0o444 });
  mount(nsFile, target, null, MS_BIND);
  return target;
}

/** Removes every pin of the pod. Safe to repeat; the namespaces die with their last user. */
export function unpinNamespaces(runDir: string, podId: string): void {
  const dir = podNamespaceDir(runDir, podId);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of entries) {
    const file = path.join(dir, name);
    try {
      umount(file, MNT_DETACH);
    } catch (err) {
      if (!isSysError(err, 'EINVAL') && !isSysError(err, 'ENOENT')) throw err;
    }
    fs.rmSync(file, { force: true });
  }
  fs.rmdirSync(dir);
}
