import { cadvisorMetrics } from './cadvisor_metrics';
import { container, FakeApiCri, grpcError, sandbox } from './fake_api_cri.testutil';
import { CpuRates, type NodeReaders } from './node_stats';
import { resourceMetrics } from './resource_metrics';
import { buildSummary } from './summary';

const readers: NodeReaders = {
  cpuUsageNs: () => 5e9,
  meminfo: () => 'MemTotal: 1000 kB\nMemFree: 200 kB\nInactive(file): 100 kB\nAnonPages: 300 kB\n',
  vmstat: () => 'pgfault 7\npgmajfault 1\n',
};
const u = (v: number) => ({ value: String(v) });
const T = '1800000000000000000';

function runtimeWithOnePod() {
  const cri = new FakeApiCri();
  const pod = sandbox('s1', 'web', 'uid-1');
  cri.sandboxes = [pod, { ...sandbox('s0', 'gone', 'uid-0'), state: 'SANDBOX_NOTREADY' }];
  cri.containers = [container('c1', 's1', pod, 'app')];
  const stats = {
    attributes: { id: 'c1', metadata: { name: 'app', attempt: 0 }, labels: {}, annotations: {} },
    cpu: { timestamp: T, usage_core_nano_seconds: u(3e9), usage_nano_cores: u(250_000_000), psi: null },
    memory: {
      timestamp: T,
      working_set_bytes: u(4096),
      usage_bytes: u(8192),
      available_bytes: null,
      rss_bytes: u(1024),
      page_faults: null,
      major_page_faults: null,
      psi: null,
    },
    writable_layer: null,
    swap: null,
    io: null,
  };
  return { cri, stats };
}

const ctx = (cri: FakeApiCri) => ({
  cri,
  nodeName: 'n1',
  nodeStartTime: '2026-11-23T00:00:00Z',
  readers,
  rates: new CpuRates(),
});

describe('buildSummary', () => {
  it('has the node and each ready pod with its running containers', async () => {
    const { cri, stats } = runtimeWithOnePod();
    cri.podStats = [
      {
        attributes: { id: 's1', metadata: cri.sandboxes[0].metadata, labels: {}, annotations: {} },
        linux: { cpu: null, memory: null, network: null, process: null, io: null, containers: [stats] },
        windows: null,
      },
    ] as never;
    const s = await buildSummary(ctx(cri));
    expect(s.node).toMatchObject({
      nodeName: 'n1',
      cpu: { usageCoreNanoSeconds: 5e9 },
      memory: {
        usageBytes: 800 * 1024,
        workingSetBytes: 700 * 1024,
        availableBytes: 300 * 1024,
        rssBytes: 300 * 1024,
      },
    });
    expect(s.pods).toHaveLength(1);
    expect(s.pods[0].podRef).toEqual({ name: 'web', namespace: 'default', uid: 'uid-1' });
    expect(s.pods[0].containers[0]).toMatchObject({
      name: 'app',
      cpu: { usageCoreNanoSeconds: 3e9, usageNanoCores: 250_000_000 },
      memory: { workingSetBytes: 4096, usageBytes: 8192 },
    });
    // no pod-level numbers from the runtime: the containers' sum
    expect(s.pods[0].memory?.workingSetBytes).toBe(4096);
  });

  it('groups container stats by sandbox when the runtime has no ListPodSandboxStats', async () => {
    const { cri, stats } = runtimeWithOnePod();
    cri.failWith('listPodSandboxStats', grpcError(12, 'unimplemented'));
    cri.containerStats = [stats] as never;
    const s = await buildSummary(ctx(cri));
    expect(s.pods[0].containers.map((c) => c.name)).toEqual(['app']);
  });

  it('makes the resource metrics metrics-server reads', async () => {
    const { cri, stats } = runtimeWithOnePod();
    cri.failWith('listPodSandboxStats', grpcError(12, 'unimplemented'));
    cri.containerStats = [stats] as never;
    const text = resourceMetrics(await buildSummary(ctx(cri)));
    expect(text).toMatch(/^node_cpu_usage_seconds_total 5 \d+$/m);
    expect(text).toMatch(
      /^container_cpu_usage_seconds_total\{container="app",namespace="default",pod="web"\} 3 1800000000000$/m,
    );
    expect(text).toContain('pod_memory_working_set_bytes{namespace="default",pod="web"} 4096');
    expect(text).toMatch(/^resource_scrape_error 0$/m);
    expect(resourceMetrics(undefined)).toMatch(/^resource_scrape_error 1$/m);
  });
});

describe('cadvisorMetrics', () => {
  it('writes the runtime metrics with their descriptors label keys', async () => {
    const cri = new FakeApiCri();
    cri.descriptors = [
      { name: 'container_cpu_usage_seconds_total', help: 'cpu', label_keys: ['container', 'pod'] },
    ];
    cri.podMetrics = [
      {
        pod_sandbox_id: 's1',
        metrics: [],
        container_metrics: [
          {
            container_id: 'c1',
            metrics: [
              {
                name: 'container_cpu_usage_seconds_total',
                timestamp: T,
                metric_type: 'COUNTER',
                label_values: ['app', 'web'],
                value: u(3),
              },
            ],
          },
        ],
      },
    ];
    expect(await cadvisorMetrics(cri)).toBe(
      '# HELP container_cpu_usage_seconds_total cpu\n# TYPE container_cpu_usage_seconds_total counter\n' +
        'container_cpu_usage_seconds_total{container="app",pod="web"} 3 1800000000000\n',
    );
  });

  it('derives series from container stats when the runtime has no metrics calls', async () => {
    const { cri, stats } = runtimeWithOnePod();
    cri.failWith('listMetricDescriptors', grpcError(12, 'unimplemented'));
    cri.containerStats = [stats] as never;
    const text = await cadvisorMetrics(cri);
    expect(text).toContain(
      'container_memory_working_set_bytes{container="app",id="c1",image="busybox",name="c1",namespace="default",pod="web"} 4096',
    );
  });
});
