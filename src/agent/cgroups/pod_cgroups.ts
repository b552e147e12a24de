// The node's pod cgroups under the cgroupfs driver, as the kubelet's container manager keeps them:
//
//   <cgroupRoot>/kubepods              node allocatable: cpu shares, memory and pids limits
//   <cgroupRoot>/kubepods/pod<uid>     Guaranteed pods
//   <cgroupRoot>/kubepods/burstable    shares = the Burstable pods' cpu requests; its pods below
//   <cgroupRoot>/kubepods/besteffort   shares = 2; its pods below
//
// The runtime makes each container's cgroup below its pod's (CRI cgroup_parent) and leaves the pod
// cgroup to us. The files are written through the runtime's cgroup driver (src/runtime/cgroups),
// which knows where each file lives on v1, hybrid and v2 hosts and converts shares to cpu.weight.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import { createCgroupManager, detectCgroups, type CgroupManager } from '../../runtime/cgroups';
import type { LinuxResources } from '../../runtime';
import type { Pod } from '../pod_spec';
import { podCgroupParent, qosClass, type QosClass } from '../qos';
import {
  burstableCpuShares,
  MIN_SHARES,
  resourceConfigForPod,
  type PodConfigOptions,
  type ResourceConfig,
} from './resource_config';

/** The kubelet's periodicQOSCgroupUpdateInterval: the QoS cgroups are set again this often. */
export const QOS_UPDATE_INTERVAL_MS = 60_000;

export interface PodCgroupsOptions extends PodConfigOptions {
  /** The node's cgroup root (--cgroup-root): kubepods goes below it. */
  cgroupRoot: string;
  /** The node-level (kubepods) cgroup's config (resource_config.ts nodeAllocatableConfig). */
  nodeConfig: ResourceConfig;
  /** The pods the node runs now (not ended): the burstable shares follow their requests. */
  activePods: () => Pod[];
  log: Logger;
  /** For tests: a driver on a fake cgroup root; the host's by default. */
  manager?: CgroupManager;
}

export interface PodCgroups {
  /** "<cgroupRoot>/kubepods". */
  readonly nodeCgroup: string;
  /** The pod's cgroup path (cgroupfs form), as given to the runtime in cgroup_parent. */
  pathOf(uid: string, qos: QosClass): string;
  /**
   * Before the pod's sandbox: the QoS cgroups updated with the pod counted, then the pod cgroup made
   * with its limits when it does not exist (the kubelet's UpdateQOSCgroups + EnsureExists).
   */
  ensurePod(pod: Pod): void;
  /**
   * The pod's resources changed (an in-place resize): its cgroup and the burstable shares are set
   * to what the pod asks now. Throws what the kernel refused (memory below usage, say).
   */
  updatePodCgroup(pod: Pod): void;
  /** The pod is gone: its cgroup is removed (anything left in it killed), the QoS shares follow. */
  removePod(uid: string, qos: QosClass): Promise<void>;
  /** The QoS (and node-level, if not yet applied) cgroups set to what the active pods ask now. */
  updateQosCgroups(): void;
  /** Removes the pod cgroups whose UID `keep` does not keep (at start: pods gone while we were away). */
  sweepOrphans(keep: (uid: string) => boolean): Promise<string[]>;
  stop(): void;
}

/** The runtime driver's form of a config; absent fields are not written. */
export function toLinuxResources(c: ResourceConfig): LinuxResources {
  const r: LinuxResources = {};
  const cpu = {
    ...(c.cpuShares !== undefined && { shares: c.cpuShares }),
    ...(c.cpuQuota !== undefined && c.cpuQuota !== 0 && { quota: c.cpuQuota }),
    ...(c.cpuPeriod !== undefined && { period: c.cpuPeriod }),
  };
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (c.memoryLimit !== undefined && c.memoryLimit !== 0) r.memory = { limit: c.memoryLimit };
  if (c.pidsLimit !== undefined) r.pids = { limit: c.pidsLimit };
  return r;
}

/** The node's pid capacity as the kubelet reads it: the lower of kernel.pid_max and kernel.threads-max. */
export function hostPidCapacity(procSys = '/proc/sys/kernel'): number | undefined {
  const values = ['pid_max', 'threads-max']
    .map((f) => {
      try {
        return Number(fs.readFileSync(path.join(procSys, f), 'utf8').trim());
      } catch {
        return NaN;
      }
    })
    .filter((n) => Number.isInteger(n) && n > 0);
  return values.length ? Math.min(...values) : undefined;
}

/** Makes (or updates) kubepods and the QoS cgroups; throws when they cannot be made. */
export function startPodCgroups(options: PodCgroupsOptions): PodCgroups {
  const { log } = options;
  const manager = options.manager ?? createCgroupManager(detectCgroups());
  const nodeCgroup = path.posix.join('/', options.cgroupRoot, 'kubepods');
  const burstable = `${nodeCgroup}/burstable`;
  const bestEffort = `${nodeCgroup}/besteffort`;
  const pathOf = (uid: string, qos: QosClass) =>
    podCgroupParent(uid, qos, { driver: 'cgroupfs', cgroupRoot: options.cgroupRoot });

  // The node-level limits may fail while pods use more than the new limit: tried again with the QoS tick.
  let nodeApplied = false;
  const applyNodeConfig = () => {
    try {
      manager.update(nodeCgroup, toLinuxResources(options.nodeConfig));
      if (!nodeApplied) log.info({ cgroup: nodeCgroup, ...options.nodeConfig }, 'node allocatable enforced');
      nodeApplied = true;
    } catch (err) {
      log.warn(
        { cgroup: nodeCgroup, err: messageOf(err) },
        'cannot set the node allocatable limits; trying again later',
      );
    }
  };
  const ensure = (cgroup: string, config: ResourceConfig) => {
    if (!manager.exists(cgroup)) manager.create(cgroup, toLinuxResources(config));
  };

  try {
    ensure(nodeCgroup, {});
    applyNodeConfig();
    // As the kubelet's QoS manager at start: besteffort gets its static shares, burstable is left as it
    // is until the pods are known (an agent restart must not drop it to the minimum meanwhile).
    ensure(burstable, {});
    ensure(bestEffort, { cpuShares: MIN_SHARES });
    manager.update(bestEffort, toLinuxResources({ cpuShares: MIN_SHARES }));
  } catch (err) {
    throw new Error(`Cannot make the node's pod cgroups under '${nodeCgroup}': ${messageOf(err)}`, {
      cause: err,
    });
  }

  const updateQosCgroups = () => {
    if (!nodeApplied) applyNodeConfig();
    try {
      manager.update(bestEffort, toLinuxResources({ cpuShares: MIN_SHARES }));
      manager.update(burstable, toLinuxResources({ cpuShares: burstableCpuShares(options.activePods()) }));
    } catch (err) {
      log.warn({ err: messageOf(err) }, 'cannot update the QoS cgroups');
    }
  };
  const timer = setInterval(updateQosCgroups, QOS_UPDATE_INTERVAL_MS);
  timer.unref();

  return {
    nodeCgroup,
    pathOf,
    ensurePod(pod) {
      const cgroup = pathOf(pod.metadata.uid!, qosClass(pod));
      if (manager.exists(cgroup)) return;
      updateQosCgroups();
      manager.create(cgroup, toLinuxResources(resourceConfigForPod(pod, options)));
    },
    updatePodCgroup(pod) {
      const cgroup = pathOf(pod.metadata.uid!, qosClass(pod));
      updateQosCgroups();
      manager.update(cgroup, toLinuxResources(resourceConfigForPod(pod, options)));
    },
    async removePod(uid, qos) {
      await manager.destroy(pathOf(uid, qos), { force: true });
      updateQosCgroups();
    },
    updateQosCgroups,
    async sweepOrphans(keep) {
      const removed: string[] = [];
      for (const parent of [nodeCgroup, burstable, bestEffort]) {
        for (const child of manager.listUnder(parent)) {
          const uid = /^pod(.+)$/.exec(path.posix.basename(child))?.[1];
          if (!uid || keep(uid)) continue;
          try {
            await manager.destroy(child, { force: true });
            removed.push(child);
          } catch (err) {
            log.warn({ cgroup: child, err: messageOf(err) }, 'cannot remove an orphaned pod cgroup');
          }
        }
      }
      if (removed.length) {
        log.info({ cgroups: removed }, 'removed the cgroups of pods no longer on the node');
        updateQosCgroups();
      }
      return removed;
    },
    stop: () => clearInterval(timer),
  };
}
