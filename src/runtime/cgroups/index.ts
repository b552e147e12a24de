// Cgroups for pods and containers: detection of the host's layout, the cgroupfs driver for v1,
// v2 and hybrid hosts, CRI → cgroup limit conversion, stats, OOM and oom_score_adj.
//
// How the rest of nodelet uses it:
//   daemon start   system = detectCgroups(); manager = createCgroupManager(system);
//                  await manager.cleanupOrphans(parent, knownSandboxAndContainerIds, { depth: 2 })
//   RunPodSandbox  pod = podCgroupPath(config.linux.cgroup_parent, id);
//                  manager.create(pod.path, toLinuxResources(config.linux.resources))
//   CreateContainer  manager.create(containerCgroupPath(pod.path, id), toLinuxResources(res))
//   the init       writes its own pid to each of manager.procsFiles(path) (or manager.join)
//   exit           manager.oomKilled(path) → reason OOM_KILLED.reason, exit code 137
//   Update…Resources  manager.update(path, toLinuxResources(res))
//   RemoveContainer / StopPodSandbox  await manager.destroy(path, { force: true }) (pod: if owned)
//   stats          one StatsCollector: track(id, { cgroup, netPid }) / sample(id) / samples()
export type {
  CgroupMode,
  CgroupStats,
  CgroupSystem,
  NetworkInterfaceStats,
  PsiData,
  PsiStats,
} from './types';
export { detectCgroups, type DetectOptions } from './detect';
export {
  createCgroupManager,
  type CgroupManager,
  type CgroupManagerOptions,
  type OrphanOptions,
} from './manager';
export type { DestroyOptions } from './destroy';
export { toLinuxResources, sharesToWeight, swapToV2, type ToLinuxResourcesOptions } from './convert';
export { planWrites, type CgroupWrite } from './plan';
export {
  DEFAULT_CGROUP_PARENT,
  normalizeCgroupPath,
  podCgroupPath,
  containerCgroupPath,
  type PodCgroup,
} from './paths';
export { wasOomKilled, oomKillCount, OOM_KILLED } from './oom';
export { setOomScoreAdj, type OomScoreAdjResult } from './oom_score';
export {
  StatsCollector,
  type ContainerStatsSample,
  type StatsCollectorOptions,
  type TrackOptions,
} from './collector';
export { parseNetDev, readNetDev } from './netdev';
export { DEFAULT_DEVICE_RULES, ALL_DEVICES, deviceRuleLine } from './devices';
export {
  attachDeviceFilter,
  detachDeviceFilters,
  deviceFilterProgram,
  type DeviceFilterAttacher,
} from './devices_bpf';
