export { createRegistry } from './registry';
export { rpcMetrics } from './rpc';
export { startMetricsServer, parseHostPort, isLoopbackHost, collectMetrics } from './server';
export type { MetricsServer, MetricsServerOptions } from './server';
export { createRuntimeMetrics, secondsSince } from './runtime';
export type { RuntimeMetrics, InitSource, CniOperation, LogDropSource } from './runtime';
export type { WorkloadSource, PodState, ContainerState } from './workload';
export { reasonLabel } from './reason';
export { cadvisorCollector, writeCadvisorMetrics } from './cadvisor';
export type { TextCollector } from './cadvisor';
export { CADVISOR_METRICS, BASE_LABEL_KEYS } from './cadvisor_table';
export { listMetricDescriptors, podSandboxMetrics } from './cri_metrics';
export type {
  ContainerStatsSample,
  ContainerStatsEntry,
  ContainerStatsSource,
  InterfaceSample,
  BlockDeviceSample,
  PsiTotals,
} from './container_sample';
export { criMetricsService } from './cri_service';
export { sampleFromCgroups } from './from_cgroups';
export type { SampleExtras } from './from_cgroups';
