// Was a process of this cgroup killed by the kernel's OOM killer? The counters are the record: v1
// memory.oom_control "oom_kill", v2 memory.events "oom_kill". Both count the cgroup and its
// children, and both survive the process, so the CRI layer asks when the container has exited
// (before destroying the cgroup) and reports reason OOMKilled with exit code 137.
import path from 'node:path';
import { parseFlatKeyed, readOptional } from './files';
import { dirIn } from './trees';
import type { CgroupSystem } from './types';

export function oomKillCount(system: CgroupSystem, cgroup: string): number {
  if (system.v1.memory !== undefined) {
    const text = readOptional(path.join(dirIn(system.v1.memory, cgroup), 'memory.oom_control'));
    return parseFlatKeyed(text).get('oom_kill') ?? 0;
  }
  if (system.unified !== undefined) {
    const text = readOptional(path.join(dirIn(system.unified, cgroup), 'memory.events'));
    return parseFlatKeyed(text).get('oom_kill') ?? 0;
  }
  return 0;
}

/** The exit code and reason a container killed by the OOM killer reports, as runc/containerd do. */
export const OOM_KILLED = { exitCode: 137, reason: 'OOMKilled' } as const;

export function wasOomKilled(system: CgroupSystem, cgroup: string): boolean {
  return oomKillCount(system, cgroup) > 0;
}
