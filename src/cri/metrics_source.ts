// What /metrics and the CRI metrics RPCs read about pods and containers: counts by state, and the
// cached cgroup samples with the names and labels cAdvisor gives them. Reads memory only.
import type { ContainerStatsEntry, ContainerStatsSource, WorkloadSource } from '../metrics';
import { sampleFromCgroups } from '../metrics';
import type { CriContext } from './context';
import { containerState, sandboxState } from './store';

const STATE_LABEL = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
} as const;

export function workloadSource(ctx: CriContext): WorkloadSource {
  return {
    countPods: () => {
      const counts = { ready: 0, notready: 0 };
      for (const p of ctx.sandboxes.list())
        counts[sandboxState(p) === 'SANDBOX_READY' ? 'ready' : 'notready']++;
      return counts;
    },
    countContainers: () => {
      const counts = { created: 0, running: 0, exited: 0, unknown: 0 };
      for (const c of ctx.containers.list()) counts[STATE_LABEL[containerState(c)]]++;
      return counts;
    },
  };
}

export function containerStatsSource(ctx: CriContext): ContainerStatsSource {
  return {
    list: () => {
      const out: ContainerStatsEntry[] = [];
      for (const pod of ctx.sandboxes.list()) {
        const meta = pod.config.metadata!;
        const podSample = ctx.stats.samples().find((s) => s.id === pod.id);
        if (podSample) {
          out.push({
            id: pod.id,
            name: '',
            podId: pod.id,
            pod: meta.name,
            namespace: meta.namespace,
            image: '',
            sample: sampleFromCgroups(podSample),
          });
        }
      }
      const byId = new Map(ctx.stats.samples().map((s) => [s.id, s]));
      for (const c of ctx.containers.list()) {
        const s = byId.get(c.id);
        const pod = ctx.sandboxes.find(c.sandboxId);
        if (!s || !pod || containerState(c) === 'CONTAINER_EXITED') continue;
        const r = c.spec.linux.resources;
        out.push({
          id: c.id,
          name: c.metadata.name,
          podId: pod.id,
          pod: pod.config.metadata!.name,
          namespace: pod.config.metadata!.namespace,
          image: c.image.spec,
          sample: sampleFromCgroups(s, {
            startTimeSeconds: c.startedAt ? Number(BigInt(c.startedAt) / 1_000_000n) / 1000 : undefined,
            threadsMax: r?.pids?.limit,
            spec: {
              cpuPeriod: r?.cpu?.period,
              cpuQuota: r?.cpu?.quota,
              cpuShares: r?.cpu?.shares,
              memoryLimitBytes: r?.memory?.limit,
              memoryReservationBytes: r?.memory?.reservation,
              memorySwapLimitBytes: r?.memory?.swap,
            },
          }),
        });
      }
      return out;
    },
  };
}
