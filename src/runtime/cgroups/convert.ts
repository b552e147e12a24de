// CRI LinuxContainerResources → the OCI-style LinuxResources of the container spec, and the value
// conversions cgroup v2 needs. The formulas are runc's (libcontainer/cgroups/utils.go), so a pod
// gets the same kernel values here as under containerd + runc.
import type { LinuxContainerResources } from '../../gen/runtime/v1/LinuxContainerResources';
import { invalidArgument } from '../../common/errors';
import type { LinuxResources } from '../spec/types';

export interface ToLinuxResourcesOptions {
  /** A pids limit to add (the CRI has no field for it; kubelet sets podPidsLimit on the pod cgroup). */
  pidsLimit?: number;
}

/** int64 fields arrive as decimal strings (proto-loader longs: String), numbers or Long objects. */
function int(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = Number(typeof value === 'object' ? String(value) : value);
  if (!Number.isFinite(n))
    throw invalidArgument(`Cannot read resource value '${String(value)}': not a number`);
  return n;
}

export function toLinuxResources(
  cri: LinuxContainerResources | undefined | null,
  opts: ToLinuxResourcesOptions = {},
): LinuxResources {
  const out: LinuxResources = {};
  if (cri) {
    const shares = int(cri.cpu_shares);
    const quota = int(cri.cpu_quota);
    const period = int(cri.cpu_period);
    if (shares < 0) throw invalidArgument(`Cannot set cpu_shares to '${shares}': must not be negative`);
    if (period < 0) throw invalidArgument(`Cannot set cpu_period to '${period}': must not be negative`);
    const cpu: NonNullable<LinuxResources['cpu']> = {};
    if (shares > 0) cpu.shares = shares;
    if (quota !== 0) cpu.quota = quota;
    if (period > 0) cpu.period = period;
    if (cri.cpuset_cpus) cpu.cpus = cri.cpuset_cpus;
    if (cri.cpuset_mems) cpu.mems = cri.cpuset_mems;
    if (Object.keys(cpu).length > 0) out.cpu = cpu;

    const limit = int(cri.memory_limit_in_bytes);
    const swap = int(cri.memory_swap_limit_in_bytes);
    if (limit > 0 && swap > 0 && swap < limit) {
      throw invalidArgument(
        `Cannot set memory_swap_limit_in_bytes to '${swap}': below memory_limit_in_bytes '${limit}'`,
      );
    }
    const memory: NonNullable<LinuxResources['memory']> = {};
    if (limit !== 0) memory.limit = limit;
    if (swap !== 0) memory.swap = swap;
    if (Object.keys(memory).length > 0) out.memory = memory;

    const huge = (cri.hugepage_limits ?? []).filter((h) => h.page_size);
    if (huge.length > 0) {
      out.hugepageLimits = huge.map((h) => ({ pageSize: h.page_size as string, limit: int(h.limit) }));
    }
    if (cri.unified && Object.keys(cri.unified).length > 0) out.unified = { ...cri.unified };
  }
  if (opts.pidsLimit !== undefined && opts.pidsLimit !== 0) out.pids = { limit: opts.pidsLimit };
  return out;
}

/** cpu.shares (2–262144) → cpu.weight (1–10000), runc's ConvertCPUSharesToCgroupV2Value. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10–1000) → io.weight (1–10000), runc's ConvertBlkIOToIOWeightValue. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return Math.floor(1 + ((weight - 10) * 9999) / 990);
}

/**
 * OCI's swap is memory+swap; v2's memory.swap.max is swap alone. Returns the memory.swap.max
 * value, "max", or undefined when nothing is to be written. runc's ConvertMemorySwapToCgroupV2Value.
 */
export function swapToV2(memswap: number | undefined, memory: number | undefined): string | undefined {
  if (memswap === undefined || memswap === 0) return undefined;
  if (memswap === -1) return 'max';
  if (memory === -1) return 'max';
  if (memory === undefined || memory <= 0) {
    throw invalidArgument(`Cannot set a memory+swap limit of '${memswap}': no memory limit is set`);
  }
  if (memswap < memory) {
    throw invalidArgument(
      `Cannot set a memory+swap limit of '${memswap}': below the memory limit '${memory}'`,
    );
  }
  return String(memswap - memory);
}

/** "-1" and non-positive limits mean no limit: "max" on v2. */
export function maxOr(value: number): string {
  return value < 0 ? 'max' : String(value);
}
