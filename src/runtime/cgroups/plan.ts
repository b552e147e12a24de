// LinuxResources → the list of cgroup files to write, in order, for each driver. Pure: the manager
// does the writing, so the conversions are tested without a kernel. Orders follow runc's fs and fs2
// drivers, where the kernel checks one value against another (memory before memsw, and so on).
import { invalidArgument } from '../../common/errors';
import type { LinuxResources } from '../spec/types';
import { blkioWeightToIoWeight, maxOr, sharesToWeight, swapToV2 } from './convert';
import { deviceRuleLine } from './devices';
import type { CgroupSystem } from './types';

export interface CgroupWrite {
  /** Which tree holds the file: a v1 hierarchy (by controller) or the cgroup2 tree. */
  tree: 'v1' | 'v2';
  controller: string;
  file: string;
  value: string;
  /** Skipped when the file does not exist (a controller feature the kernel may lack). */
  optional?: boolean;
}

export interface PlanContext {
  /** The cgroup's memory.limit_in_bytes now (v1), to order memory and memsw writes on update. */
  currentMemoryLimit?: number;
}

export function planWrites(system: CgroupSystem, r: LinuxResources, ctx: PlanContext = {}): CgroupWrite[] {
  const writes = system.mode === 'v2' ? planV2(system, r) : planV1(system, r, ctx);
  if (r.unified && Object.keys(r.unified).length > 0) {
    if (system.unified === undefined) {
      throw invalidArgument('Cannot apply unified resources: this host has no cgroup v2 tree');
    }
    for (const [file, value] of Object.entries(r.unified)) {
      if (file.includes('/') || file.startsWith('.') || file.startsWith('cgroup.')) {
        throw invalidArgument(`Cannot apply unified resource '${file}': not a controller file`);
      }
      writes.push({ tree: 'v2', controller: file.split('.')[0], file, value });
    }
  }
  return writes;
}

function planV2(system: CgroupSystem, r: LinuxResources): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  const v2 = (controller: string, file: string, value: string, optional?: boolean) =>
    w.push({ tree: 'v2', controller, file, value, optional });
  const cpu = r.cpu ?? {};
  if (cpu.shares) v2('cpu', 'cpu.weight', String(sharesToWeight(cpu.shares)));
  if ((cpu.quota ?? 0) !== 0 || (cpu.period ?? 0) !== 0) {
    let value = cpu.quota !== undefined && cpu.quota > 0 ? String(cpu.quota) : 'max';
    if (cpu.period) value += ` ${cpu.period}`;
    v2('cpu', 'cpu.max', value);
  }
  if (cpu.cpus) v2('cpuset', 'cpuset.cpus', cpu.cpus);
  if (cpu.mems) v2('cpuset', 'cpuset.mems', cpu.mems);
  const mem = r.memory ?? {};
  // memory.swap.max first: lowering memory.max never conflicts with it, and raising is unchecked.
  const swap = system.swapAccounting ? swapToV2(mem.swap, mem.limit) : undefined;
  // Optional: the file is missing when the kernel was booted without swap accounting.
  if (swap !== undefined) v2('memory', 'memory.swap.max', swap, true);
  if (mem.limit) v2('memory', 'memory.max', maxOr(mem.limit));
  if (mem.reservation) v2('memory', 'memory.low', maxOr(mem.reservation));
  if (r.pids) v2('pids', 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  for (const h of r.hugepageLimits ?? []) {
    v2('hugetlb', `hugetlb.${checkPageSize(system, h.pageSize)}.max`, String(h.limit));
  }
  if (r.blockIO?.weight) {
    v2('io', 'io.bfq.weight', String(r.blockIO.weight), true);
    v2('io', 'io.weight', `default ${blkioWeightToIoWeight(r.blockIO.weight)}`, true);
  }
  return w;
}

function planV1(system: CgroupSystem, r: LinuxResources, ctx: PlanContext): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  const v1 = (controller: string, file: string, value: string, optional?: boolean) =>
    w.push({ tree: 'v1', controller, file, value, optional });
  const cpu = r.cpu ?? {};
  if (cpu.shares) v1('cpu', 'cpu.shares', String(cpu.shares));
  if (cpu.period) v1('cpu', 'cpu.cfs_period_us', String(cpu.period));
  if (cpu.quota) v1('cpu', 'cpu.cfs_quota_us', String(cpu.quota < 0 ? -1 : cpu.quota));
  if (cpu.cpus) v1('cpuset', 'cpuset.cpus', cpu.cpus);
  if (cpu.mems) v1('cpuset', 'cpuset.mems', cpu.mems);
  planV1Memory(system, r, ctx).forEach(([file, value]) => v1('memory', file, value));
  if (r.memory?.reservation) v1('memory', 'memory.soft_limit_in_bytes', String(r.memory.reservation));
  if (r.pids) v1('pids', 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  for (const h of r.hugepageLimits ?? []) {
    const size = checkPageSize(system, h.pageSize);
    if (system.v1.hugetlb !== undefined) {
      v1('hugetlb', `hugetlb.${size}.limit_in_bytes`, String(h.limit));
    } else if (system.v2Controllers.includes('hugetlb')) {
      // Hybrid hosts may have hugetlb on the cgroup2 side only (as this project's machines do).
      w.push({ tree: 'v2', controller: 'hugetlb', file: `hugetlb.${size}.max`, value: String(h.limit) });
    } else {
      throw invalidArgument(`Cannot set a hugepage limit for '${h.pageSize}': no hugetlb controller`);
    }
  }
  if (r.blockIO?.weight) {
    v1('blkio', 'blkio.weight', String(r.blockIO.weight), true);
    v1('blkio', 'blkio.bfq.weight', String(r.blockIO.weight), true);
  }
  // The devices controller of v1; without it the manager attaches a BPF program (devices_bpf.ts).
  if (system.v1.devices !== undefined) {
    for (const rule of r.devices ?? []) {
      v1('devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleLine(rule));
    }
  }
  return w;
}

/** runc's setMemoryAndSwap: the kernel refuses memory > memsw, so the order depends on the values. */
function planV1Memory(system: CgroupSystem, r: LinuxResources, ctx: PlanContext): [string, string][] {
  const limit = r.memory?.limit ?? 0;
  let swap = system.swapAccounting ? (r.memory?.swap ?? 0) : 0;
  if (limit === -1 && swap === 0 && system.swapAccounting) swap = -1;
  const mem: [string, string] = ['memory.limit_in_bytes', String(limit < 0 ? -1 : limit)];
  const memsw: [string, string] = ['memory.memsw.limit_in_bytes', String(swap < 0 ? -1 : swap)];
  if (limit !== 0 && swap !== 0) {
    const current = ctx.currentMemoryLimit ?? Number.MAX_SAFE_INTEGER;
    return swap === -1 || current < swap ? [memsw, mem] : [mem, memsw];
  }
  const out: [string, string][] = [];
  if (limit !== 0) out.push(mem);
  if (swap !== 0) out.push(memsw);
  return out;
}

function checkPageSize(system: CgroupSystem, size: string): string {
  if (!/^\d+[KMG]B$/.test(size)) {
    throw invalidArgument(`Cannot set a hugepage limit for '${size}': not a page size like "2MB"`);
  }
  if (system.hugepageSizes.length > 0 && !system.hugepageSizes.includes(size)) {
    throw invalidArgument(
      `Cannot set a hugepage limit for '${size}': the kernel has ${system.hugepageSizes.join(', ')}`,
    );
  }
  return size;
}
