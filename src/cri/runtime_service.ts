// The RuntimeService's pod and container RPCs, each a thin call into its module.
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService';
import type { ContainerEventResponse } from '../gen/runtime/v1/ContainerEventResponse';
import type { CriContext } from './context';
import type { ServiceImpl } from './rpc';
import { runPodSandbox } from './sandbox_run';
import { removePodSandbox, stopPodSandbox } from './sandbox_stop_remove';
import { listPodSandbox, podSandboxStatus } from './sandbox_status_list';
import { createContainer } from './container_create';
import { checkpointContainer } from './container_checkpoint';
import { startContainer } from './container_start';
import { removeContainer, stopContainer } from './container_stop_remove';
import { containerStatusOf, listContainers } from './container_status_list';
import { execSync, reopenContainerLog, updateContainerResources } from './container_exec_log_update';
import { recordExit } from './container_stop_remove';
import { syncWithMonitor } from './recover';
import { EVENT_BUFFER, EVENT_HOLD_MS, streamContainerEvents, watchContainerEvents } from './container_events';
import { EventQueue } from './event_queue';
import { updatePodSandboxResources } from './sandbox_update';
import { runInBackground } from '../common/background';
import { containerStatsOf, listContainerStats, listPodSandboxStats, podSandboxStatsOf } from './stats';

export function podAndContainerService(ctx: CriContext): ServiceImpl<RuntimeServiceHandlers> {
  ctx.monitor.on('exit', (id, exit) => {
    runInBackground(ctx.log, `record the exit of container ${id}`, recordExit(ctx, id, exit));
  });
  ctx.monitor.on('reconnect', () => {
    // The monitor died and a new one took the running containers over.
    ctx.metrics?.monitor.restarted();
    runInBackground(ctx.log, 'sync with the new monitor', async () => {
      ctx.metrics?.monitor.adopted(await syncWithMonitor(ctx));
    });
  });
  const events = new EventQueue<ContainerEventResponse>({
    bufferSize: EVENT_BUFFER,
    holdMs: EVENT_HOLD_MS,
    onDrop: (behind) => ctx.log.warn({ behind }, 'dropped a container events subscriber that fell behind'),
  });
  watchContainerEvents(ctx, events);
  return {
    GetContainerEvents: (_req, sink, call) => streamContainerEvents(events, sink, call),
    RunPodSandbox: (req, call) => runPodSandbox(ctx, req, call),
    StopPodSandbox: async (req) => (await stopPodSandbox(ctx, req.pod_sandbox_id), {}),
    RemovePodSandbox: async (req) => (await removePodSandbox(ctx, req.pod_sandbox_id), {}),
    PodSandboxStatus: async (req) => podSandboxStatus(ctx, req.pod_sandbox_id, req.verbose),
    ListPodSandbox: async (req) => ({ items: listPodSandbox(ctx, req.filter) }),
    CreateContainer: async (req) => ({ container_id: await createContainer(ctx, req) }),
    StartContainer: async (req) => (await startContainer(ctx, req.container_id), {}),
    StopContainer: async (req) => (await stopContainer(ctx, req.container_id, Number(req.timeout)), {}),
    RemoveContainer: async (req) => (await removeContainer(ctx, req.container_id), {}),
    ContainerStatus: async (req) => ({
      status: containerStatusOf(ctx, ctx.containers.get(req.container_id)),
      info: {},
    }),
    ListContainers: async (req) => ({ containers: listContainers(ctx, req.filter) }),
    ExecSync: (req) => execSync(ctx, req),
    ReopenContainerLog: async (req) => (await reopenContainerLog(ctx, req.container_id), {}),
    ContainerStats: async (req) => ({
      stats: await containerStatsOf(ctx, ctx.containers.get(req.container_id)),
    }),
    ListContainerStats: async (req) => ({ stats: await listContainerStats(ctx, req.filter) }),
    PodSandboxStats: async (req) => ({
      stats: await podSandboxStatsOf(ctx, ctx.sandboxes.get(req.pod_sandbox_id)),
    }),
    ListPodSandboxStats: async (req) => ({ stats: await listPodSandboxStats(ctx, req.filter) }),
    UpdateRuntimeConfig: async (req) => {
      const cidr = req.runtime_config?.network_config?.pod_cidr;
      if (cidr) ctx.network.setPodCidr(cidr);
      return {};
    },
    UpdatePodSandboxResources: async (req) => (await updatePodSandboxResources(ctx, req), {}),
    CheckpointContainer: async (req) => (await checkpointContainer(ctx, req), {}),
    UpdateContainerResources: async (req) => (
      await updateContainerResources(ctx, req.container_id, req.linux),
      {}
    ),
  };
}
