// Cgroups for pods and containers: detection of the host's layout, the cgroupfs driver for v1,
// v2 and hybrid hosts, CRI → cgroup limit conversion, stats, OOM and oom_score_adj.
export type {
  CgroupMode,
  CgroupStats,
  CgroupSystem,
  NetworkInterfaceStats,
  PsiData,
  PsiStats,
} from './types';
export { detectCgroups, type DetectOptions } from './detect';
export { createCgroupManager, type CgroupManager, type CgroupManagerOptions } from './manager';
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
