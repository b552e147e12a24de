// A fully populated sample, for the unit tests of this folder and the scrape benchmark.
import type { ContainerStatsEntry, ContainerStatsSample } from './container_sample';

export function fullSample(seed = 1): ContainerStatsSample {
  return {
    timestampNs: 1_700_000_000_000_000_000n + BigInt(seed),
    startTimeSeconds: 1_700_000_000 + seed,
    cpu: {
      usageNs: 2_500_000_000 * seed,
      userNs: 2_000_000_000,
      systemNs: 500_000_000,
      periods: 100,
      throttledPeriods: 7,
      throttledNs: 300_000_000,
      loadAverage10s: 0,
    },
    memory: {
      usageBytes: 64 << 20,
      workingSetBytes: 48 << 20,
      rssBytes: 40 << 20,
      cacheBytes: 16 << 20,
      mappedFileBytes: 1 << 20,
      kernelBytes: 2 << 20,
      maxUsageBytes: 80 << 20,
      swapUsageBytes: 0,
      failcnt: 0,
      pageFaults: 1234,
      majorPageFaults: 5,
    },
    hugetlb: [{ pageSize: '2MB', usageBytes: 0, maxUsageBytes: 0 }],
    processes: 3,
    threads: 5,
    threadsMax: 1024,
    fileDescriptors: 12,
    sockets: 2,
    tasks: { sleeping: 4, running: 1, stopped: 0, uninterruptible: 0, iowaiting: 0 },
    blockDevices: [
      {
        major: 254,
        minor: 0,
        device: '/dev/vda',
        readBytes: 4096,
        writeBytes: 8192,
        readOps: 1,
        writeOps: 2,
      },
    ],
    fs: {
      device: '/dev/vda1',
      usageBytes: 12_288,
      limitBytes: 10 << 30,
      inodesFree: 1000,
      inodesTotal: 2000,
    },
    network: [
      {
        name: 'eth0',
        rxBytes: 1000,
        rxPackets: 10,
        rxErrors: 0,
        rxDropped: 0,
        txBytes: 2000,
        txPackets: 20,
        txErrors: 0,
        txDropped: 0,
      },
    ],
    oomEvents: 0,
    psi: {
      cpu: { someTotalUs: 1_500_000, fullTotalUs: 500_000 },
      memory: { someTotalUs: 0, fullTotalUs: 0 },
      io: { someTotalUs: 0, fullTotalUs: 0 },
    },
    spec: { cpuPeriod: 100_000, cpuQuota: 50_000, cpuShares: 512, memoryLimitBytes: 128 << 20 },
    ulimitsSoft: { max_open_files: 1024 },
  };
}

/** `pods` pods of `perPod` containers each, plus one pod-level entry per pod. */
export function syntheticEntries(pods: number, perPod: number): ContainerStatsEntry[] {
  const entries: ContainerStatsEntry[] = [];
  for (let p = 0; p < pods; p++) {
    const podId = `pod${String(p).padStart(4, '0')}`.padEnd(64, 'a');
    const pod = `web-${p}`;
    entries.push({
      id: podId,
      name: '',
      podId,
      pod,
      namespace: 'default',
      image: '',
      sample: fullSample(p + 1),
    });
    for (let c = 0; c < perPod; c++) {
      const id = `c${p}x${c}`.padEnd(64, 'b');
      entries.push({
        id,
        name: `app-${c}`,
        podId,
        pod,
        namespace: 'default',
        image: 'registry.local/app:1.0',
        sample: fullSample(c + 1),
      });
    }
  }
  return entries;
}
