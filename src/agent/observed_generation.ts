// status.observedGeneration, as the kubelet sets it since 1.34 (PodObservedGenerationTracking): the
// metadata.generation of the pod spec the node last synced. The API server bumps the generation on
// each spec change (and on a graceful delete); a client waits for observedGeneration to reach it to
// know the node has seen its update. A static pod (no generation) gets none.
import type { Pod } from './pod_spec';
import type { PodStatusView } from './pod_status';

export function withObservedGeneration(status: PodStatusView, pod: Pod | undefined): PodStatusView {
  const generation = pod?.metadata.generation;
  if (typeof generation !== 'number') return status;
  return { ...status, observedGeneration: generation };
}
