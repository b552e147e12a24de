import type { ContainerStatsSample as CgroupSample } from '../runtime/cgroups';
import { writeCadvisorMetrics } from './cadvisor';
import { sampleFromCgroups } from './from_cgroups';

const cgroupSample: CgroupSample = {
  id: 'c1',
  cgroup: '/nodelet/pod1/c1',
  timestampNs: 1_700_000_000_000_000_000n,
  cpu: { usageNs: 1_500_000_000, userNs: 1_000_000_000, systemNs: 500_000_000, usageNanoCores: 10 },
  memory: {
    usageBytes: 4096,
    workingSetBytes: 2048,
    rssBytes: 1024,
    cacheBytes: 512,
    pageFaults: 9,
    majorPageFaults: 1,
  },
  pids: { current: 3 },
  io: { readBytes: 100, writeBytes: 200, readOps: 1, writeOps: 2 },
  psi: { cpu: { some: { total: 2_000_000, avg10: 0, avg60: 0, avg300: 0 } } },
  network: { interfaces: [{ name: 'eth0', rxBytes: 10, rxErrors: 0, txBytes: 20, txErrors: 0 }] },
};

describe('sampleFromCgroups', () => {
  test('a cgroup collector sample becomes cAdvisor series with the extras the CRI layer knows', () => {
    const sample = sampleFromCgroups(cgroupSample, {
      startTimeSeconds: 1_700_000_000,
      spec: { memoryLimitBytes: 1 << 20 },
      oomEvents: 1,
      threadsMax: 100,
    });
    const entry = { id: 'c1', name: 'app', podId: 'p', pod: 'web', namespace: 'ns', image: 'img', sample };
    const text = writeCadvisorMetrics([entry]).toString();
    const value = (name: string) => new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1];
    expect(value('container_cpu_usage_seconds_total')).toBe('1.5');
    expect(value('container_memory_working_set_bytes')).toBe('2048');
    expect(value('container_threads')).toBe('3');
    expect(value('container_threads_max')).toBe('100');
    expect(value('container_oom_events_total')).toBe('1');
    expect(value('container_spec_memory_limit_bytes')).toBe('1048576');
    expect(value('container_pressure_cpu_waiting_seconds_total')).toBe('2');
    expect(value('container_network_receive_bytes_total')).toBe('10');
    expect(value('container_fs_reads_bytes_total')).toBe('100');
  });

  test('I/O totals without a device write no per-device blkio series', () => {
    const sample = sampleFromCgroups(cgroupSample);
    const entry = { id: 'c1', name: 'app', podId: 'p', pod: 'web', namespace: 'ns', image: 'img', sample };
    expect(writeCadvisorMetrics([entry]).toString()).not.toContain('container_blkio_device_usage_total');
  });
});
