// PodSandboxStatus and ListPodSandbox: what the kubelet's PLEG reads every second, answered from
// memory.
import type { PodSandboxStatusResponse } from '../gen/runtime/v1/PodSandboxStatusResponse';
import type { PodSandbox } from '../gen/runtime/v1/PodSandbox';
import type { PodSandboxFilter__Output } from '../gen/runtime/v1/PodSandboxFilter';
import { nowNs } from '../common/time';
import type { CriContext } from './context';
import { matchesLabels } from './ids';
import { sandboxState, type SandboxRecord } from './store';
import { containerStatusOf } from './container_status_list';

function metadataOf(pod: SandboxRecord) {
  const m = pod.config.metadata!;
  return { name: m.name, uid: m.uid, namespace: m.namespace, attempt: m.attempt };
}

export function podSandboxStatus(ctx: CriContext, podId: string, verbose: boolean): PodSandboxStatusResponse {
  return podSandboxStatusOf(ctx, ctx.sandboxes.get(podId), verbose);
}

/** The status of a pod record (also one just removed, for its DELETED event). */
export function podSandboxStatusOf(
  ctx: CriContext,
  pod: SandboxRecord,
  verbose: boolean,
): PodSandboxStatusResponse {
  const mode = (host: boolean) => (host ? 'NODE' : 'POD');
  const pidMode = pod.pidMode === 'node' ? 'NODE' : pod.pidMode === 'pod' ? 'POD' : 'CONTAINER';
  const [ip, ...more] = pod.ips;
  const containers = ctx.containers.list().filter((c) => c.sandboxId === pod.id);
  return {
    status: {
      id: pod.id,
      metadata: metadataOf(pod),
      state: sandboxState(pod),
      created_at: pod.createdAt,
      network: { ip: ip ?? '', additional_ips: more.map((x) => ({ ip: x })) },
      linux: {
        namespaces: {
          options: {
            network: mode(pod.hostNetwork),
            ipc: mode(pod.hostIpc),
            pid: pidMode,
          },
        },
      },
      labels: pod.config.labels,
      annotations: pod.config.annotations,
      runtime_handler: pod.runtimeHandler,
    },
    info: verbose
      ? { info: JSON.stringify({ namespaces: pod.namespaces, cgroupParent: pod.cgroupParent }) }
      : {},
    containers_statuses: containers.map((c) => containerStatusOf(ctx, c)),
    timestamp: nowNs().toString(),
  };
}

export function listPodSandbox(ctx: CriContext, filter: PodSandboxFilter__Output | null): PodSandbox[] {
  return ctx.sandboxes
    .list()
    .filter((pod) => !filter?.id || pod.id.startsWith(filter.id))
    .filter((pod) => !filter?.state || sandboxState(pod) === filter.state.state)
    .filter((pod) => matchesLabels(pod.config.labels, filter?.label_selector))
    .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1))
    .map((pod) => ({
      id: pod.id,
      metadata: metadataOf(pod),
      state: sandboxState(pod),
      created_at: pod.createdAt,
      labels: pod.config.labels,
      annotations: pod.config.annotations,
      runtime_handler: pod.runtimeHandler,
    }));
}
