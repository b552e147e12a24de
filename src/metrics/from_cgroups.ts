// Turns a sample of the cgroup stats collector (src/runtime/cgroups) into the sample the container
// metrics are written from. The cgroup files do not say what the CRI layer knows (start time,
// configured limits, OOM kills seen), so it passes those as extras.
import type { ContainerStatsSample as CgroupSample } from '../runtime/cgroups';
import type { ContainerStatsSample, PsiTotals } from './container_sample';

export interface SampleExtras {
  startTimeSeconds?: number;
  /** pids.max of the container's cgroup, when a pids limit was set. */
  threadsMax?: number;
  spec?: ContainerStatsSample['spec'];
  oomEvents?: number;
}

type CgroupPsi = NonNullable<NonNullable<CgroupSample['psi']>['cpu']>;

function psi(p: CgroupPsi | undefined): PsiTotals | undefined {
  // The kernel's PSI "total=" counts microseconds.
  return p && { someTotalUs: p.some.total, fullTotalUs: p.full?.total };
}

export function sampleFromCgroups(s: CgroupSample, extras: SampleExtras = {}): ContainerStatsSample {
  const out: ContainerStatsSample = {
    timestampNs: s.timestampNs,
    startTimeSeconds: extras.startTimeSeconds,
    spec: extras.spec,
    oomEvents: extras.oomEvents,
    cpu: {
      usageNs: s.cpu.usageNs,
      userNs: s.cpu.userNs,
      systemNs: s.cpu.systemNs,
      throttledPeriods: s.cpu.throttledPeriods,
      throttledNs: s.cpu.throttledNs,
    },
  };
  if (s.memory) {
    out.memory = {
      usageBytes: s.memory.usageBytes,
      workingSetBytes: s.memory.workingSetBytes,
      rssBytes: s.memory.rssBytes,
      cacheBytes: s.memory.cacheBytes,
      swapUsageBytes: s.memory.swapUsageBytes,
      pageFaults: s.memory.pageFaults,
      majorPageFaults: s.memory.majorPageFaults,
    };
  }
  if (s.pids) {
    // pids.current counts tasks, that is threads.
    out.threads = s.pids.current;
    out.threadsMax = extras.threadsMax;
  }
  if (s.io) {
    // Totals over all devices: no device name, so no per-device blkio series.
    out.blockDevices = [{ device: '', ...s.io }];
  }
  if (s.psi) out.psi = { cpu: psi(s.psi.cpu), memory: psi(s.psi.memory), io: psi(s.psi.io) };
  if (s.network) out.network = s.network.interfaces.map((i) => ({ ...i }));
  return out;
}
