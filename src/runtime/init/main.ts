// The container init: started by spawnContainer in the container's namespaces (fresh mount and,
// usually, PID namespace). It builds the root, reports "ready", waits for "start", then becomes
// the workload through execve, keeping its pid (PID 1 when the PID namespace is new).
// Everything is synchronous on the main thread; every failure goes back as an error message.
// Started with --pooled, it was spawned ahead of its container (pool.ts): it waits for the spec,
// then enters the container's namespaces itself (pooled.ts) before building the same root.
import './non_dumpable'; // first: before anything else runs
import type { ErrorKind } from '../../common/errors';
import { enterRoot, prepareRoot } from '../rootfs';
import { realRootfsSys } from '../rootfs/rootfs_sys';
import { CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWNS, unshareThread } from '../sys/engine';
import { attachTerminal, execWorkload } from './final_steps';
import { findExecutable } from './lookup';
import { dieWithParent, takeOver } from './pooled';
import { CONTROL_FD, POOLED_FLAG, type ToInit } from './protocol';
import { SyncChannel } from './sync_channel';

function run(channel: SyncChannel, pooled: boolean): never {
  const first = channel.read<ToInit>();
  if (first.type !== 'spec')
    throw new Error(`Cannot build the container: expected its spec, got '${first.type}'`);
  // In a pod user namespace the root is the premade mount, reached through its descriptor: this
  // init may not be allowed to look the host's path up.
  const spec =
    first.premade?.root === undefined
      ? first.spec
      : { ...first.spec, root: { ...first.spec.root, path: `/proc/self/fd/${first.premade.root}` } };
  if (pooled) {
    if (!first.pooled) throw new Error(`Cannot take over container '${spec.id}': no stdio was given`);
    takeOver(spec, first.pooled);
  }
  if (first.premade) {
    // Started inside the pod's user namespace (userns_launch.ts): the mount namespace is made here,
    // so that it is owned by that user namespace and this init may mount in it.
    unshareThread(CLONE_FS);
    unshareThread(CLONE_NEWNS);
  }
  prepareRoot(spec, realRootfsSys, first.premade);
  enterRoot(spec);
  const executable = findExecutable(spec.process.args[0], spec.process.env, spec.process.cwd);
  channel.write({ type: 'ready' });

  const start = channel.read<ToInit>();
  if (start.type !== 'start')
    throw new Error(`Cannot start the container: expected 'start', got '${start.type}'`);
  // A new cgroup namespace is rooted where the process is now: the caller has joined the
  // container's cgroups by the time it says start.
  const cgroupNs = spec.linux.namespaces.find((ns) => ns.type === 'cgroup');
  if (cgroupNs && cgroupNs.path === undefined) unshareThread(CLONE_NEWCGROUP);
  if (start.ttyIndex !== undefined) attachTerminal(`/dev/pts/${start.ttyIndex}`);
  return execWorkload({ process: spec.process, linux: spec.linux, executable }, channel);
}

function main(): void {
  const pooled = process.argv.includes(POOLED_FLAG);
  const channel = new SyncChannel(CONTROL_FD);
  try {
    if (pooled) dieWithParent();
    run(channel, pooled);
  } catch (err) {
    const kind = (err as { kind?: ErrorKind }).kind;
    channel.tryWrite({ type: 'error', message: err instanceof Error ? err.message : String(err), kind });
    process.exit(1);
  }
}

main();
