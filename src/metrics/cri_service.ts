// ListMetricDescriptors and ListPodSandboxMetrics, ready to merge into the RuntimeService's
// implementation. Merge them only once a real stats source exists: while these RPCs answer
// UNIMPLEMENTED, critest and the kubelet skip CRI metrics instead of failing on empty data.
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService';
import type { ServiceImpl } from '../cri/rpc';
import type { ContainerStatsSource } from './container_sample';
import { listMetricDescriptors, podSandboxMetrics } from './cri_metrics';

export function criMetricsService(source: ContainerStatsSource): ServiceImpl<RuntimeServiceHandlers> {
  return {
    ListMetricDescriptors: async () => ({ descriptors: listMetricDescriptors() }),
    ListPodSandboxMetrics: async () => ({ pod_metrics: podSandboxMetrics(source.list()) }),
  };
}
