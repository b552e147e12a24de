// What the container metrics are computed from: one cached sample per container (and per pod),
// read from the same stats collector that serves the CRI stats RPCs (src/runtime/cgroups), so a
// scrape never touches a cgroup file itself. Field names follow the cgroup collector's CgroupStats;
// every optional field may be missing, and a missing field writes no series rather than a zero.

export interface PsiTotals {
  /** Cumulative stall time in microseconds, as the kernel's "total=" field. */
  someTotalUs: number;
  fullTotalUs?: number;
}

export interface InterfaceSample {
  name: string;
  rxBytes: number;
  rxPackets?: number;
  rxErrors: number;
  rxDropped?: number;
  txBytes: number;
  txPackets?: number;
  txErrors: number;
  txDropped?: number;
}

export interface BlockDeviceSample {
  /** Absent for totals over all devices: then no container_blkio_device_usage_total series. */
  major?: number;
  minor?: number;
  /** The device path, e.g. "/dev/vda"; "" when unknown. */
  device: string;
  readBytes: number;
  writeBytes: number;
  readOps?: number;
  writeOps?: number;
}

export interface ContainerStatsSample {
  /** When the cgroup files were read, ns since the epoch. */
  timestampNs: bigint;
  /** When the container's process started, seconds since the epoch. */
  startTimeSeconds?: number;
  cpu?: {
    usageNs: number;
    userNs?: number;
    systemNs?: number;
    periods?: number;
    throttledPeriods?: number;
    throttledNs?: number;
    loadAverage10s?: number;
  };
  memory?: {
    usageBytes: number;
    workingSetBytes: number;
    rssBytes: number;
    cacheBytes: number;
    mappedFileBytes?: number;
    kernelBytes?: number;
    maxUsageBytes?: number;
    swapUsageBytes?: number;
    failcnt?: number;
    pageFaults?: number;
    majorPageFaults?: number;
  };
  hugetlb?: { pageSize: string; usageBytes: number; maxUsageBytes?: number }[];
  /** Processes (thread-group leaders) in the cgroup. */
  processes?: number;
  /** Tasks in the cgroup: pids.current counts threads, not processes. */
  threads?: number;
  /** pids.max; absent when unlimited. */
  threadsMax?: number;
  fileDescriptors?: number;
  sockets?: number;
  /** Tasks by scheduler state: sleeping, running, stopped, uninterruptible, iowaiting. */
  tasks?: Record<string, number>;
  blockDevices?: BlockDeviceSample[];
  /** The writable layer of the container's root filesystem. */
  fs?: { device: string; usageBytes: number; limitBytes?: number; inodesFree?: number; inodesTotal?: number };
  /** The pod's network interfaces: usually on the pod-level entry only. */
  network?: InterfaceSample[];
  oomEvents?: number;
  psi?: { cpu?: PsiTotals; memory?: PsiTotals; io?: PsiTotals };
  /** The configured limits; cAdvisor writes 0 for "unlimited" in the spec metrics. */
  spec?: {
    cpuPeriod?: number;
    cpuQuota?: number;
    cpuShares?: number;
    memoryLimitBytes?: number;
    memoryReservationBytes?: number;
    memorySwapLimitBytes?: number;
  };
  /** Soft rlimits of the container's first process by cAdvisor's name ("max_open_files"). */
  ulimitsSoft?: Record<string, number>;
}

export interface ContainerStatsEntry {
  /** Container id, or the sandbox id for a pod-level entry. */
  id: string;
  /** The CRI container name; "" for the pod-level entry (cAdvisor's pod cgroup series). */
  name: string;
  podId: string;
  pod: string;
  namespace: string;
  /** The image reference the container runs; "" for the pod-level entry. */
  image: string;
  sample: ContainerStatsSample;
}

/** Implemented by the CRI layer over the cgroup stats collector's cache. Must not block or read files. */
export interface ContainerStatsSource {
  list(): ContainerStatsEntry[];
}
