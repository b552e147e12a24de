// Pod, QoS and node-level cgroups as the kubelet's container manager keeps them: what other folders may use.
export {
  burstableCpuShares,
  enforcesPodsAllocatable,
  milliCpuToQuota,
  milliCpuToShares,
  nodeAllocatableConfig,
  podLimits,
  resourceConfigForPod,
  type NodeResources,
  type PodConfigOptions,
  type ResourceConfig,
} from './resource_config';
export {
  hostPidCapacity,
  QOS_UPDATE_INTERVAL_MS,
  startPodCgroups,
  toLinuxResources,
  type PodCgroups,
  type PodCgroupsOptions,
} from './pod_cgroups';
