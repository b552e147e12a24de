import { criMetricsService } from './cri_service';
import { syntheticEntries } from './fixtures.testutil';
import type { CallContext } from '../cri/rpc';

const ctx = {} as CallContext;

describe('criMetricsService', () => {
  test('answers the descriptors and the metrics of every pod in the stats source', async () => {
    const service = criMetricsService({ list: () => syntheticEntries(2, 1) });
    const descriptors = await service.ListMetricDescriptors!({}, ctx);
    expect(descriptors.descriptors?.map((d) => d.name)).toContain('container_memory_working_set_bytes');
    const metrics = await service.ListPodSandboxMetrics!({}, ctx);
    expect(metrics.pod_metrics).toHaveLength(2);
    expect(metrics.pod_metrics?.[1].container_metrics).toHaveLength(1);
  });
});
