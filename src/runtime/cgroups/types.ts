// What the cgroup code knows about the machine and what it reports. Paths called "cgroup path"
// are relative to each hierarchy's root, in cgroupfs form ("/kubepods/burstable/pod<uid>/<id>"),
// as OCI's linux.cgroupsPath.

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface CgroupSystem {
  /** v1: only v1 hierarchies; v2: one unified tree; hybrid: v1 controllers plus a cgroup2 mount. */
  mode: CgroupMode;
  /** Where the hierarchies are mounted, "/sys/fs/cgroup" on a real host. */
  root: string;
  /** v1 controller name → the mount point of its hierarchy ("cpu" → "/sys/fs/cgroup/cpu"). */
  v1: Record<string, string>;
  /** The cgroup2 mount: the whole tree on v2, "<root>/unified" on hybrid. */
  unified?: string;
  /** Controllers the cgroup2 root offers (its cgroup.controllers). */
  v2Controllers: string[];
  /** memory.memsw.* exist (v1) or memory.swap.max can be set (v2). */
  swapAccounting: boolean;
  /** Hugepage sizes the kernel has, in cgroup file form ("2MB", "1GB"). */
  hugepageSizes: string[];
  /** Per-cgroup pressure files (cpu.pressure, …) exist on the cgroup2 tree. */
  psi: boolean;
}

export interface PsiData {
  total: number;
  avg10: number;
  avg60: number;
  avg300: number;
}

export interface PsiStats {
  some: PsiData;
  full?: PsiData;
}

/** One reading of a cgroup. Byte and nanosecond counters are plain numbers (exact below 2^53). */
export interface CgroupStats {
  /** When the files were read, ns since the epoch. */
  timestampNs: bigint;
  cpu: {
    usageNs: number;
    userNs?: number;
    systemNs?: number;
    throttledPeriods?: number;
    throttledNs?: number;
  };
  memory?: {
    usageBytes: number;
    /** usage - inactive_file, as kubelet and cAdvisor compute it. */
    workingSetBytes: number;
    rssBytes: number;
    cacheBytes: number;
    pageFaults: number;
    majorPageFaults: number;
    /** Absent when unlimited. */
    limitBytes?: number;
    swapUsageBytes?: number;
  };
  pids?: { current: number };
  io?: { readBytes: number; writeBytes: number; readOps: number; writeOps: number };
  psi?: { cpu?: PsiStats; memory?: PsiStats; io?: PsiStats };
}

export interface NetworkInterfaceStats {
  name: string;
  rxBytes: number;
  rxErrors: number;
  txBytes: number;
  txErrors: number;
}
