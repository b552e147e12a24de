// The node's own CPU and memory for /stats/summary, read as the kubelet reads its root cgroup:
// cpuacct.usage on cgroup v1, cpu.stat on v2, /proc/stat when neither answers; memory from
// /proc/meminfo (working set = used - inactive file pages, as cAdvisor computes it).
import fs from 'node:fs';
import os from 'node:os';

export interface CpuSample {
  time: string;
  usageCoreNanoSeconds: number;
  usageNanoCores?: number;
}

export interface MemorySample {
  time: string;
  availableBytes: number;
  usageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
}

export interface NodeReaders {
  cpuUsageNs(): number;
  meminfo(): string;
  vmstat(): string;
}

const read = (p: string) => fs.readFileSync(p, 'utf8');

export const procReaders: NodeReaders = {
  cpuUsageNs() {
    for (const [file, parse] of [
      ['/sys/fs/cgroup/cpuacct/cpuacct.usage', (t: string) => Number(t.trim())],
      ['/sys/fs/cgroup/cpu.stat', (t: string) => Number(/usage_usec (\d+)/.exec(t)?.[1]) * 1000],
    ] as const) {
      try {
        const v = parse(read(file));
        if (Number.isFinite(v) && v > 0) return v;
      } catch {
        // not this cgroup layout
      }
    }
    const fields = read('/proc/stat').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = fields.reduce((a, b) => a + b, 0) - fields[3] - (fields[4] ?? 0);
    return busy * 1e7; // USER_HZ is 100 on Linux
  },
  meminfo: () => read('/proc/meminfo'),
  vmstat: () => read('/proc/vmstat'),
};

/** Turns cumulative CPU nanoseconds into a rate (nano cores) between two samples of the same key. */
export class CpuRates {
  private readonly last = new Map<string, { usage: number; atNs: number }>();

  rate(key: string, usageNs: number, atNs: number): number | undefined {
    const prev = this.last.get(key);
    this.last.set(key, { usage: usageNs, atNs });
    if (!prev || atNs <= prev.atNs || usageNs < prev.usage) return undefined;
    return Math.round(((usageNs - prev.usage) / (atNs - prev.atNs)) * 1e9);
  }

  /** Forgets keys not seen in the last round, so removed containers do not pile up. */
  keep(keys: Set<string>): void {
    for (const k of this.last.keys()) if (!keys.has(k) && k !== 'node') this.last.delete(k);
  }
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[()]/g, '\\$&')}:?\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export function nodeCpu(readers: NodeReaders, rates: CpuRates, nowMs = Date.now()): CpuSample {
  const usage = readers.cpuUsageNs();
  const nanoCores = rates.rate('node', usage, nowMs * 1e6);
  return {
    time: new Date(nowMs).toISOString(),
    usageCoreNanoSeconds: usage,
    ...(nanoCores !== undefined ? { usageNanoCores: nanoCores } : {}),
  };
}

export function nodeMemory(readers: NodeReaders, nowMs = Date.now()): MemorySample {
  const info = readers.meminfo();
  const kb = (name: string) => field(info, name) * 1024;
  const total = kb('MemTotal') || os.totalmem();
  const usage = total - kb('MemFree');
  const workingSet = Math.max(0, usage - kb('Inactive(file)'));
  const vm = readers.vmstat();
  return {
    time: new Date(nowMs).toISOString(),
    availableBytes: Math.max(0, total - workingSet),
    usageBytes: usage,
    workingSetBytes: workingSet,
    rssBytes: kb('AnonPages'),
    pageFaults: field(vm, 'pgfault'),
    majorPageFaults: field(vm, 'pgmajfault'),
  };
}
