import { writeCadvisorMetrics as writeBytes, escapeLabelValue } from './cadvisor';
import { CADVISOR_METRICS } from './cadvisor_table';
import { fullSample, syntheticEntries } from './fixtures.testutil';
import type { ContainerStatsEntry } from './container_sample';

// The names critest (cri-tools, validating against the kubelet with cAdvisor) expects.
const CRITEST_NAMES = `container_blkio_device_usage_total container_cpu_cfs_periods_total
container_cpu_cfs_throttled_periods_total container_cpu_cfs_throttled_seconds_total container_cpu_system_seconds_total
container_cpu_usage_seconds_total container_cpu_user_seconds_total container_file_descriptors container_fs_inodes_free
container_fs_inodes_total container_fs_limit_bytes container_fs_reads_bytes_total container_fs_reads_total
container_fs_usage_bytes container_fs_writes_bytes_total container_fs_writes_total container_hugetlb_max_usage_bytes
container_hugetlb_usage_bytes container_last_seen container_memory_cache container_memory_failcnt
container_memory_failures_total container_memory_kernel_usage container_memory_mapped_file
container_memory_max_usage_bytes container_memory_rss container_memory_swap container_memory_usage_bytes
container_memory_working_set_bytes container_network_receive_bytes_total container_network_receive_errors_total
container_network_receive_packets_dropped_total container_network_receive_packets_total
container_network_transmit_bytes_total container_network_transmit_errors_total
container_network_transmit_packets_dropped_total container_network_transmit_packets_total container_oom_events_total
container_pressure_cpu_stalled_seconds_total container_pressure_cpu_waiting_seconds_total
container_pressure_io_stalled_seconds_total container_pressure_io_waiting_seconds_total
container_pressure_memory_stalled_seconds_total container_pressure_memory_waiting_seconds_total container_processes
container_sockets container_spec_cpu_period container_spec_cpu_quota container_spec_cpu_shares
container_spec_memory_limit_bytes container_spec_memory_reservation_limit_bytes container_spec_memory_swap_limit_bytes
container_start_time_seconds container_threads container_threads_max container_ulimits_soft`.split(/\s+/);

const writeCadvisorMetrics = (entries: ContainerStatsEntry[]) => writeBytes(entries).toString();

const entry = (over: Partial<ContainerStatsEntry> = {}): ContainerStatsEntry => ({
  id: 'abc123',
  name: 'app',
  podId: 'pod1',
  pod: 'web-0',
  namespace: 'default',
  image: 'registry.local/app:1.0',
  sample: fullSample(),
  ...over,
});

// One line of the text format: name{labels} value, each label key="escaped value".
const SERIES_LINE =
  /^[a-z0-9_]+\{([a-z_]+="(?:[^"\\\n]|\\["\\n])*")(,[a-z_]+="(?:[^"\\\n]|\\["\\n])*")*\} \S+$/;

describe('the cAdvisor-style container metrics', () => {
  test('the table holds every one of the 56 names critest expects', () => {
    const names = new Set(CADVISOR_METRICS.map((m) => m.name));
    expect(CRITEST_NAMES).toHaveLength(56);
    expect(CRITEST_NAMES.filter((n) => !names.has(n))).toEqual([]);
  });

  test('a container writes its CPU time in seconds with the container, pod, namespace, id and image labels', () => {
    const text = writeCadvisorMetrics([entry()]);
    expect(text).toContain('# TYPE container_cpu_usage_seconds_total counter\n');
    expect(text).toContain(
      'container_cpu_usage_seconds_total{container="app",id="abc123",image="registry.local/app:1.0",name="abc123",namespace="default",pod="web-0",cpu="total"} 2.5\n',
    );
    expect(text).toMatch(/^container_memory_working_set_bytes\{[^}]*pod="web-0"[^}]*\} 50331648$/m);
    expect(text).toMatch(/^container_spec_memory_limit_bytes\{[^}]*\} 134217728$/m);
  });

  test('every line is a comment or a well-formed series, and each metric has one HELP and one TYPE', () => {
    const text = writeCadvisorMetrics(syntheticEntries(3, 2));
    const lines = text.trimEnd().split('\n');
    for (const line of lines) {
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) [a-z0-9_]+ .+$/);
      else expect(line).toMatch(SERIES_LINE);
    }
    for (const metric of CADVISOR_METRICS) {
      expect(lines.filter((l) => l.startsWith(`# TYPE ${metric.name} `))).toHaveLength(1);
    }
  });

  test('a sample without a field writes no series for it rather than a zero', () => {
    const sample = fullSample();
    delete sample.memory;
    delete sample.psi;
    const text = writeCadvisorMetrics([entry({ sample })]);
    expect(text).not.toContain('container_memory_usage_bytes');
    expect(text).not.toContain('container_pressure_cpu_waiting_seconds_total');
    expect(text).toContain('container_cpu_usage_seconds_total{');
  });

  test('unset limits read 0, as cAdvisor writes them', () => {
    const text = writeCadvisorMetrics([entry({ sample: { ...fullSample(), spec: {} } })]);
    expect(text).toMatch(/^container_spec_memory_limit_bytes\{[^}]*\} 0$/m);
    expect(text).toMatch(/^container_spec_cpu_quota\{[^}]*\} 0$/m);
  });

  test('label values with quotes, backslashes and newlines are escaped', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = writeCadvisorMetrics([entry({ pod: 'we"ird\n' })]);
    expect(text).toContain('pod="we\\"ird\\n"');
  });

  test('no entries give an empty exposition', () => {
    expect(writeCadvisorMetrics([])).toBe('');
  });
});
