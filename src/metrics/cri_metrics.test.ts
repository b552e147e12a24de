import { listMetricDescriptors, podSandboxMetrics } from './cri_metrics';
import { fullSample, syntheticEntries } from './fixtures.testutil';

describe('the CRI metrics data', () => {
  test('every descriptor has help text and label keys including the pod and container', () => {
    const descriptors = listMetricDescriptors();
    expect(descriptors.length).toBeGreaterThanOrEqual(56);
    for (const d of descriptors) {
      expect(d.help).not.toBe('');
      expect(d.label_keys).toEqual(expect.arrayContaining(['container', 'pod', 'namespace', 'id', 'image']));
    }
  });

  test('each metric has as many label values as its descriptor has label keys', () => {
    const keys = new Map(listMetricDescriptors().map((d) => [d.name, d.label_keys ?? []]));
    const pods = podSandboxMetrics(syntheticEntries(2, 2));
    const all = pods.flatMap((p) => [
      ...(p.metrics ?? []),
      ...(p.container_metrics ?? []).flatMap((c) => c.metrics ?? []),
    ]);
    expect(all.length).toBeGreaterThan(0);
    for (const m of all) expect(m.label_values).toHaveLength(keys.get(m.name ?? '')!.length);
  });

  test('entries are grouped by pod: the pod-level entry gives pod metrics, containers their own', () => {
    const pods = podSandboxMetrics(syntheticEntries(2, 3));
    expect(pods).toHaveLength(2);
    expect(pods[0].metrics?.length).toBeGreaterThan(0);
    expect(pods[0].container_metrics).toHaveLength(3);
    expect(pods[0].container_metrics?.[0].container_id).toMatch(/^c0x0/);
    expect(pods[0].metrics?.some((m) => m.name === 'container_network_receive_bytes_total')).toBe(true);
  });

  test('values are whole uint64 decimal strings and timestamps are the sample time in ns', () => {
    const entry = {
      id: 'c1',
      name: 'app',
      podId: 'p1',
      pod: 'web',
      namespace: 'ns',
      image: 'img',
      sample: fullSample(),
    };
    const [pod] = podSandboxMetrics([entry]);
    const metrics = pod.container_metrics![0].metrics!;
    const cpu = metrics.find((m) => m.name === 'container_cpu_usage_seconds_total')!;
    expect(cpu.value).toEqual({ value: '2' });
    expect(cpu.metric_type).toBe('COUNTER');
    expect(cpu.timestamp).toBe(entry.sample.timestampNs.toString());
    const mem = metrics.find((m) => m.name === 'container_memory_usage_bytes')!;
    expect(mem.value).toEqual({ value: String(64 << 20) });
    expect(mem.metric_type).toBe('GAUGE');
  });
});
