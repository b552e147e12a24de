// The container engine's public surface: turn a ContainerSpec into a running process.
//
// Everything here runs in the CALLER's process (the monitor, or a test's child process) and must be
// called from its main thread: the namespace dance (unshare(CLONE_FS), setns into joined
// namespaces, unshare new ones, child_process.spawn, setns back) moves only the calling thread.
// The caller is the parent of every process started here and reaps it through the ChildProcess
// 'exit' event (never waitpid(-1)). The init and exec helper run from dist/ (build with
// `npx tsc -p tsconfig.build.json`).
//
//   spawnContainer(spec, stdio, { pool? }): Promise<CreatedContainer>
//       Starts the init in the spec's namespaces; resolves once the root is built (overlay, mounts,
//       /dev, masked and read-only paths, pivot_root, hostname, sysctls) and the init waits for
//       start(). Rejects with a clear error, leaving nothing behind, otherwise.
//       The caller joins created.pid into cgroups BEFORE created.start().
//   created.start(): Promise<void>        execve of spec.process (the workload keeps the pid)
//   created.kill(signal = 'SIGKILL')      signal the init / workload
//   created.terminal?.master              pty master fd (caller owns it) when stdio.terminal
//   created.resize({ rows, cols })        TIOCSWINSZ on that pty
//
//   new InitPool({ size }): pool.fill(), pool.close()   inits started ahead of need (Node booted, PID 1
//       of a fresh PID namespace); spawnContainer takes one when the spec has its own PID namespace
//       and FIFO or ignored stdio, and starts cold otherwise. created.fromPool says which it was.
//
//   execInContainer(target: { pid, spec }, proc: ExecProcessSpec, stdio): Promise<ExecProcess>
//       Runs another process in all of target.pid's namespaces (mount, pid, net, ipc, uts, cgroup),
//       in its cgroups, as proc.user (through the security hook), in proc.cwd. With proc.terminal
//       the pty comes from the CONTAINER's devpts; exec.terminal.master is the caller's side.
//       exec.wait() resolves with { exitCode, signal } once the process is reaped.
//
//   pinNamespaces(runDir, podId, types): PinnedNamespaces     new net/ipc/uts/cgroup namespaces kept
//       alive by bind mounts under <runDir>/ns/<podId>/ (as CRI-O's pinns does)
//   startPidNamespaceInit(runDir, podId): Promise<PidNamespaceInit>   catatonit -P as PID 1 of a new
//       pod PID namespace, pinned at <runDir>/ns/<podId>/pid (the caller reaps .child)
//   unpinNamespaces(runDir, podId): void                      unmounts and removes every pin (idempotent)
//   cleanupContainerRoot(spec): void                          unmounts anything left at spec.root.path
//       on the host side (the init mounts the overlay inside the container's own mount namespace, so
//       normally nothing is left; safe to call always)
//   mountsUnder(dir, mountinfo?): string[]                    mount points at or under dir, deepest first
//   defaultSpec(opts): ContainerSpec                          containerd-like defaults (spec/defaults)
export type {
  ContainerStdio,
  CreatedContainer,
  StdioTarget,
  TerminalHandle,
  WindowSize,
} from './init/launcher';
export { spawnContainer } from './init/launcher';
export type { SpawnOptions } from './init/launcher';
export { InitPool } from './init/pool';
export type { InitPoolOptions } from './init/pool';
export type { ExecProcess, ExecProcessSpec, ExecStdio, ExitStatus } from './exec/launcher';
export { execInContainer } from './exec/launcher';
export type { PinnedNamespaces, PidNamespaceInit } from './namespaces';
export {
  pinNamespaces,
  unpinNamespaces,
  startPidNamespaceInit,
  pinPodUserNamespace,
  PID_INIT_MARK,
} from './namespaces';
export type { UserNamespaceMappings } from './namespaces';
export { cleanupContainerRoot, mountsUnder } from './rootfs/cleanup';
export { defaultSpec } from './spec/defaults';
export type { DefaultSpecOptions } from './spec/defaults';
export type * from './spec/types';
export {
  dumpContainer,
  restoreContainer,
  writeRootfsDiff,
  applyRootfsDiff,
  packArchive,
  unpackArchive,
  CHECKPOINT_DIRECTORY,
  CONFIG_DUMP_FILE,
  SPEC_DUMP_FILE,
  ROOTFS_DIFF_TAR,
  DELETED_FILES_FILE,
  STATS_DUMP,
  DUMP_LOG,
  CONTAINER_LOG,
} from './checkpoint';
export type { DumpOptions, RestoreOptions } from './checkpoint';
