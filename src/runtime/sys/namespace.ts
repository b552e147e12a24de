// Namespace calls. They act on the CALLING THREAD only (Node is always multithreaded), so they are
// made synchronously on the main thread and never through koffi's .async.
import { check, libc } from './libc';
import type { NamespaceType } from '../spec/types';

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
export const CLONE_FS = 0x00000200;

const unshareFn = libc.func('int unshare(int flags)');
const setnsFn = libc.func('int setns(int fd, int nstype)');

/** The clone flag of each namespace type. */
export const NAMESPACE_FLAGS: Record<NamespaceType, number> = {
  mount: CLONE_NEWNS,
  cgroup: CLONE_NEWCGROUP,
  uts: CLONE_NEWUTS,
  ipc: CLONE_NEWIPC,
  user: CLONE_NEWUSER,
  pid: CLONE_NEWPID,
  network: CLONE_NEWNET,
};

/** The file name of each namespace type under /proc/<pid>/ns/. */
export const NAMESPACE_FILES: Record<NamespaceType, string> = {
  mount: 'mnt',
  cgroup: 'cgroup',
  uts: 'uts',
  ipc: 'ipc',
  user: 'user',
  pid: 'pid',
  network: 'net',
};

export function unshareThread(flags: number): void {
  check('unshare', unshareFn(flags) as number, `flags 0x${flags.toString(16)}`);
}

/** Moves the calling thread into the namespace open at fd (nstype 0 accepts any type). */
export function setnsThread(fd: number, nstype = 0, path?: string): void {
  check('setns', setnsFn(fd, nstype) as number, path);
}
