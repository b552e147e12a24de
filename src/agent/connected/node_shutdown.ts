// Graceful node shutdown in connected mode: the Node says Ready=False ("node is shutting down"), the
// pod workers let go of their pods, then the pods stop group by group (shutdown.ts) and each API pod
// gets the status the kubelet gives: phase Failed, reason Terminated, the shutdown message, a
// DisruptionTarget condition (TerminationByKubelet) and its containers terminated as the runtime
// reports them. The containers and sandboxes stay, stopped, as the kubelet leaves them.
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { Agent } from '../agent';
import type { CriRuntime } from '../cri_client';
import { killPod } from '../pod_kill';
import type { ContainerStatusView, PodStatusView } from '../pod_status';
import { sidecarNames } from '../sidecar';
import {
  NODE_SHUTDOWN_MESSAGE,
  NODE_SHUTDOWN_REASON,
  runShutdown,
  shutdownPlan,
  type ShutdownSettings,
} from '../shutdown';
import { KubeApi, kubeTime } from './kube_api';
import type { PodRef } from './status_poster';

export interface NodeShutdownDeps {
  api: KubeApi;
  cri: CriRuntime;
  log: Logger;
  /** The pod workers; stopped (pods left running) before the shutdown stops the pods itself. */
  agent: Agent;
  /** Marks the node as shutting down and posts its status at once. */
  announce(): Promise<void>;
  targetOf(uid: string): PodRef | undefined;
}

const nsToTime = (ns: unknown) => kubeTime(new Date(Number(ns) / 1e6 || Date.now()));

/** The containers as the runtime left them: terminated, with their exit codes. */
async function terminatedStatuses(
  cri: CriRuntime,
  uid: string,
  previous: ContainerStatusView[],
): Promise<ContainerStatusView[]> {
  const { containers } = await cri.listContainers({
    filter: { label_selector: { 'io.kubernetes.pod.uid': uid } },
  });
  const newest = new Map<string, (typeof containers)[number]>();
  for (const c of containers) {
    const name = c.metadata?.name ?? '';
    const seen = newest.get(name);
    if (!seen || Number(c.created_at) > Number(seen.created_at)) newest.set(name, c);
  }
  return Promise.all(
    previous.map(async (p) => {
      const c = newest.get(p.name);
      if (!c || !('running' in p.state)) return { ...p, ready: false };
      const { status } = await cri.containerStatus(c.id);
      const exitCode = status?.exit_code ?? 137;
      return {
        ...p,
        ready: false,
        started: false,
        state: {
          terminated: {
            exitCode,
            reason: status?.reason || (exitCode === 0 ? 'Completed' : 'Error'),
            startedAt: nsToTime(status?.started_at),
            finishedAt: nsToTime(status?.finished_at),
            containerID: p.containerID ?? '',
          },
        },
      };
    }),
  );
}

function shutdownStatus(previous: PodStatusView | undefined, containers: ContainerStatusView[]) {
  const now = kubeTime();
  const condition = (type: string, status: string, reason?: string) => ({
    type,
    status,
    lastTransitionTime: now,
    ...(reason ? { reason, message: NODE_SHUTDOWN_MESSAGE } : {}),
  });
  return {
    phase: 'Failed',
    reason: NODE_SHUTDOWN_REASON,
    message: NODE_SHUTDOWN_MESSAGE,
    conditions: [
      condition('DisruptionTarget', 'True', 'TerminationByKubelet'),
      condition('Ready', 'False', 'PodFailed'),
      condition('ContainersReady', 'False', 'PodFailed'),
    ],
    containerStatuses: containers,
    ...(previous?.initContainerStatuses.length
      ? { initContainerStatuses: previous.initContainerStatuses }
      : {}),
  };
}

export async function shutdownNode(deps: NodeShutdownDeps, settings: ShutdownSettings): Promise<void> {
  const { api, cri, log } = deps;
  log.info(settings, 'node shutting down: stopping the pods by priority');
  await deps.announce().catch((err) => log.warn({ err: messageOf(err) }, 'cannot post the node status'));
  const pods = deps.agent.pods();
  await deps.agent.stop();
  const plan = shutdownPlan(
    [...pods.values()].map((p) => p.desired),
    settings,
  );
  await runShutdown(plan, {
    onGroup: (g) =>
      log.info(
        { priority: g.priority, graceS: g.graceS, pods: g.pods.map((p) => p.name) },
        'shutdown: stopping a group of pods',
      ),
    stopPod: async (uid, graceS) => {
      const desired = pods.get(uid)?.desired;
      const pod = desired?.pod;
      const specs = new Map(
        [...(pod?.spec.initContainers ?? []), ...(pod?.spec.containers ?? [])].map((c) => [c.name, c]),
      );
      const podIP = pods.get(uid)?.status?.podIP ?? '';
      await killPod(
        cri,
        log,
        { uid },
        { graceS, specs, podIP, remove: false, sidecars: pod ? sidecarNames(pod) : [] },
      );
    },
    markTerminated: async (uid) => {
      const target = deps.targetOf(uid);
      if (!target) return; // a static pod: its mirror pod goes with the node
      const previous = pods.get(uid)?.status;
      const containers = await terminatedStatuses(cri, uid, previous?.containerStatuses ?? []);
      await api.request('PATCH', `/api/v1/namespaces/${target.namespace}/pods/${target.name}/status`, {
        body: { metadata: { uid: target.uid }, status: shutdownStatus(previous, containers) },
        contentType: 'application/strategic-merge-patch+json',
      });
      log.info({ pod: `${target.namespace}/${target.name}` }, 'shutdown: pod terminated');
    },
    onError: (uid, err) => log.error({ uid, err: messageOf(err) }, 'shutdown: cannot stop the pod'),
  });
  log.info('node shutdown: every pod stopped');
}
