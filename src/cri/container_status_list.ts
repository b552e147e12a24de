// ContainerStatus and ListContainers, answered from memory.
import type { Container } from '../gen/runtime/v1/Container';
import type { ContainerFilter__Output } from '../gen/runtime/v1/ContainerFilter';
import type { ContainerStatus } from '../gen/runtime/v1/ContainerStatus';
import { containerUserStatus } from '../runtime/security';
import type { CriContext } from './context';
import { matchesLabels } from './ids';
import { containerState, type ContainerRecord } from './store';

function imageSpecOf(c: ContainerRecord) {
  return { image: c.image.spec, user_specified_image: c.image.userSpecified, annotations: {} };
}

export function containerStatusOf(_ctx: CriContext, c: ContainerRecord): ContainerStatus {
  return {
    id: c.id,
    metadata: c.metadata,
    state: containerState(c),
    created_at: c.createdAt,
    started_at: c.startedAt ?? '0',
    finished_at: c.finishedAt ?? '0',
    exit_code: c.exitCode ?? 0,
    image: imageSpecOf(c),
    image_ref: c.image.ref,
    image_id: c.image.id,
    reason: c.reason ?? (c.unknown ? 'Unknown' : ''),
    message: c.message ?? '',
    labels: c.labels,
    annotations: c.annotations,
    mounts: c.mounts,
    log_path: c.logPath,
    resources: c.resources ? { linux: c.resources } : undefined,
    user: containerUserStatus(c.spec.process.user),
    stop_signal: c.stopSignal as ContainerStatus['stop_signal'],
  };
}

export function listContainers(ctx: CriContext, filter: ContainerFilter__Output | null): Container[] {
  return ctx.containers
    .list()
    .filter((c) => !filter?.id || c.id.startsWith(filter.id))
    .filter((c) => !filter?.pod_sandbox_id || c.sandboxId.startsWith(filter.pod_sandbox_id))
    .filter((c) => !filter?.state || containerState(c) === filter.state.state)
    .filter((c) => matchesLabels(c.labels, filter?.label_selector))
    .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1))
    .map((c) => ({
      id: c.id,
      pod_sandbox_id: c.sandboxId,
      metadata: c.metadata,
      image: imageSpecOf(c),
      image_ref: c.image.ref,
      image_id: c.image.id,
      state: containerState(c),
      created_at: c.createdAt,
      labels: c.labels,
      annotations: c.annotations,
    }));
}
