// The cgroup values of the node-level, QoS and pod cgroups, computed as the kubelet's container
// manager does (pkg/kubelet/cm: helpers_linux.go ResourceConfigForPod, qos_container_manager_linux.go,
// node_container_manager_linux.go). Pure: pod_cgroups.ts writes them.
import { podRequests } from '../admission/requests';
import type { Container, Pod } from '../pod_spec';
import { qosClass } from '../qos';
import { bytes, cpuMillis } from '../quantity';

/** The kernel's bounds of cpu.shares (kernel/sched/sched.h MIN_SHARES, MAX_SHARES). */
export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
/** The kubelet's default cpuCFSQuotaPeriod (100 ms) and the kernel's smallest quota (1 ms), in µs. */
export const QUOTA_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1000;

/** What one cgroup gets; an absent field is left as it is (the kernel's default on a new cgroup). */
export interface ResourceConfig {
  cpuShares?: number;
  /** µs per period; -1 is no limit. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** bytes */
  memoryLimit?: number;
  pidsLimit?: number;
}

/** MilliCPUToShares: requests of 0 get the kernel's minimum, not its default of 1024. */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** MilliCPUToQuota: the limit over one period, at least 1 ms; 0 when there is no limit. */
export function milliCpuToQuota(milliCpu: number, periodUs = QUOTA_PERIOD_US): number {
  if (milliCpu === 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000));
}

type ResourceList = Record<string, string | number> | undefined;

type Amounts = { cpu?: number; memory?: number };

interface PodLimits {
  cpu?: number;
  memory?: number;
  /** Every container (as the kubelet counts them) declares a cpu limit, or the pod does. */
  cpuDeclared: boolean;
  memoryDeclared: boolean;
}

/**
 * resource.PodLimits with the ContainerFn of ResourceConfigForPod: the containers' limits summed,
 * the sidecars added, and the largest init container's use (with the sidecars before it) when more;
 * pod-level limits replace the sum; the overhead is added to the limits there are. A limit is
 * "declared" when no container (as counted, so an init container with sidecars before it counts
 * their limits too) lacks it.
 */
export function podLimits(pod: Pod): PodLimits {
  const out: PodLimits = { cpuDeclared: true, memoryDeclared: true };
  const seen = (limits: Amounts) => {
    if (!limits.cpu) out.cpuDeclared = false;
    if (!limits.memory) out.memoryDeclared = false;
  };
  const sum: Amounts = {};
  const add = (to: Amounts, l: Amounts) => {
    if (l.cpu !== undefined) to.cpu = (to.cpu ?? 0) + l.cpu;
    if (l.memory !== undefined) to.memory = (to.memory ?? 0) + l.memory;
  };
  for (const c of pod.spec.containers) {
    const l = limitsOf(c);
    seen(l);
    add(sum, l);
  }
  const sidecars: Amounts = {};
  const initPeak: Amounts = {};
  for (const c of pod.spec.initContainers ?? []) {
    const own = limitsOf(c);
    let use: Amounts;
    if (c.restartPolicy === 'Always') {
      add(sum, own);
      add(sidecars, own);
      use = { ...sidecars };
    } else {
      use = { ...own };
      add(use, sidecars);
    }
    seen(use);
    for (const r of ['cpu', 'memory'] as const)
      if (use[r] !== undefined && (initPeak[r] === undefined || use[r]! > initPeak[r]!)) initPeak[r] = use[r];
  }
  for (const r of ['cpu', 'memory'] as const)
    if (initPeak[r] !== undefined && (sum[r] === undefined || initPeak[r]! > sum[r]!)) sum[r] = initPeak[r];

  const spec = pod.spec as { resources?: { limits?: ResourceList }; overhead?: ResourceList };
  const podLevel = spec.resources?.limits;
  if (podLevel?.cpu !== undefined) {
    sum.cpu = cpuMillis(podLevel.cpu);
    if (sum.cpu > 0) out.cpuDeclared = true;
  }
  if (podLevel?.memory !== undefined) {
    sum.memory = bytes(podLevel.memory);
    if (sum.memory > 0) out.memoryDeclared = true;
  }
  const overhead = spec.overhead;
  if (sum.cpu && overhead?.cpu !== undefined) sum.cpu += cpuMillis(overhead.cpu);
  if (sum.memory && overhead?.memory !== undefined) sum.memory += bytes(overhead.memory);
  return {
    ...out,
    ...(sum.cpu !== undefined && { cpu: sum.cpu }),
    ...(sum.memory !== undefined && { memory: sum.memory }),
  };
}

function limitsOf(c: Pick<Container, 'resources'>): Amounts {
  const l = c.resources?.limits;
  return {
    ...(l?.cpu !== undefined && { cpu: cpuMillis(l.cpu) }),
    ...(l?.memory !== undefined && { memory: bytes(l.memory) }),
  };
}

export interface PodConfigOptions {
  /** The kubelet's cpuCFSQuota (default true): false leaves the quota unlimited (-1). */
  enforceCpuLimits?: boolean;
  cpuPeriodUs?: number;
  /** The kubelet's podPidsLimit: a pids limit on every pod cgroup when above 0. */
  podPidsLimit?: number;
}

/**
 * ResourceConfigForPod: shares from the summed requests; quota and period when every container has
 * a cpu limit, the memory limit when every container has one (always for Guaranteed pods, never for
 * BestEffort ones, which get the minimum shares and nothing else).
 */
export function resourceConfigForPod(pod: Pod, opts: PodConfigOptions = {}): ResourceConfig {
  const period = opts.cpuPeriodUs ?? QUOTA_PERIOD_US;
  const limits = podLimits(pod);
  const shares = milliCpuToShares(podRequests(pod).cpu);
  const quota = opts.enforceCpuLimits === false ? -1 : milliCpuToQuota(limits.cpu ?? 0, period);
  const memory = limits.memory ?? 0;
  const config: ResourceConfig = {};
  switch (qosClass(pod)) {
    case 'Guaranteed':
      Object.assign(config, { cpuShares: shares, cpuQuota: quota, cpuPeriod: period, memoryLimit: memory });
      break;
    case 'Burstable':
      config.cpuShares = shares;
      if (limits.cpuDeclared) Object.assign(config, { cpuQuota: quota, cpuPeriod: period });
      if (limits.memoryDeclared) config.memoryLimit = memory;
      break;
    default:
      config.cpuShares = MIN_SHARES;
  }
  if (opts.podPidsLimit !== undefined && opts.podPidsLimit > 0) config.pidsLimit = opts.podPidsLimit;
  return config;
}

/** The burstable QoS cgroup's shares: the summed cpu requests of the Burstable pods (setCPUCgroupConfig). */
export function burstableCpuShares(activePods: Pod[]): number {
  const milli = activePods
    .filter((p) => qosClass(p) === 'Burstable')
    .reduce((sum, p) => sum + podRequests(p).cpu, 0);
  return milliCpuToShares(milli);
}

/** The node's resources as the kubelet's internalCapacity holds them: cpu in millicores. */
export interface NodeResources {
  cpu: number;
  memory: number;
  pids?: number;
}

/**
 * The node-level (kubepods) cgroup's config (getCgroupConfig of createNodeAllocatableCgroups):
 * with `pods` enforced, capacity minus systemReserved and kubeReserved (the hard eviction threshold
 * is NOT taken off: pods are evicted before the kernel's OOM killer acts at this level), else the
 * capacity itself.
 */
export function nodeAllocatableConfig(
  capacity: NodeResources,
  reserved: { cpu?: number; memory?: number; pid?: number },
  enforcePods: boolean,
): ResourceConfig {
  const minus = (v: number, r: number | undefined) => (enforcePods ? Math.max(0, v - (r ?? 0)) : v);
  const config: ResourceConfig = {
    cpuShares: milliCpuToShares(minus(capacity.cpu, reserved.cpu)),
    memoryLimit: minus(capacity.memory, reserved.memory),
  };
  if (capacity.pids !== undefined) config.pidsLimit = minus(capacity.pids, reserved.pid);
  return config;
}

/** enforceNodeAllocatable values the kubelet knows; the agent manages no system/kube-reserved cgroup. */
const ENFORCEMENTS = [
  'pods',
  'system-reserved',
  'kube-reserved',
  'system-reserved-compressible',
  'kube-reserved-compressible',
  'none',
];

/** Reads enforceNodeAllocatable (default `pods`): whether the kubepods cgroup is held to allocatable. */
export function enforcesPodsAllocatable(list: string[] | undefined): boolean {
  const values = list ?? ['pods'];
  for (const v of values) {
    if (!ENFORCEMENTS.includes(v))
      throw new Error(`Cannot use enforceNodeAllocatable '${v}': expected one of ${ENFORCEMENTS.join(', ')}`);
    if (v !== 'pods' && v !== 'none')
      throw new Error(
        `Cannot use enforceNodeAllocatable '${v}': the agent manages no system-reserved or kube-reserved cgroup (it enforces 'pods' or 'none')`,
      );
  }
  if (values.includes('none') && values.length > 1)
    throw new Error(
      `Cannot use enforceNodeAllocatable ${values.join(',')}: 'none' may not be given with others`,
    );
  return values.includes('pods');
}
