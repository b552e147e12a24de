// ContainerStats, ListContainerStats, PodSandboxStats and ListPodSandboxStats, read from the one
// cached collector (the same samples Prometheus reads), never a fan-out to the kernel per call.
import path from 'node:path';
import type { ContainerStats } from '../gen/runtime/v1/ContainerStats';
import type { ContainerStatsFilter__Output } from '../gen/runtime/v1/ContainerStatsFilter';
import type { PodSandboxStats } from '../gen/runtime/v1/PodSandboxStats';
import type { PodSandboxStatsFilter__Output } from '../gen/runtime/v1/PodSandboxStatsFilter';
import { CachedDiskUsage } from '../common/disk_usage';
import { nowNs } from '../common/time';
import type { ContainerStatsSample } from '../runtime/cgroups';
import type { CriContext } from './context';
import { matchesLabels } from './ids';
import { containerState, type ContainerRecord, type SandboxRecord } from './store';

const u64 = (n: number | bigint | undefined) => (n === undefined ? null : { value: String(n) });
const writableLayers = new Map<string, CachedDiskUsage>();

function cpuMemory(sample: ContainerStatsSample | undefined) {
  const ts = (sample?.timestampNs ?? nowNs()).toString();
  const m = sample?.memory;
  return {
    cpu: {
      timestamp: ts,
      usage_core_nano_seconds: u64(sample?.cpu.usageNs ?? 0),
      usage_nano_cores: u64(sample?.cpu.usageNanoCores ?? 0),
    },
    memory: {
      timestamp: ts,
      working_set_bytes: u64(m?.workingSetBytes ?? 0),
      available_bytes: u64(m?.availableBytes ?? 0),
      usage_bytes: u64(m?.usageBytes ?? 0),
      rss_bytes: u64(m?.rssBytes ?? 0),
      page_faults: u64(m?.pageFaults ?? 0),
      major_page_faults: u64(m?.majorPageFaults ?? 0),
    },
  };
}

export async function containerStatsOf(ctx: CriContext, c: ContainerRecord): Promise<ContainerStats> {
  const upper = path.join(c.dir, 'upper');
  let layer = writableLayers.get(c.id);
  if (!layer) writableLayers.set(c.id, (layer = new CachedDiskUsage(upper, 10_000)));
  const usage = await layer.get();
  return {
    attributes: { id: c.id, metadata: c.metadata, labels: c.labels, annotations: c.annotations },
    ...cpuMemory(ctx.stats.sample(c.id)),
    writable_layer: {
      timestamp: nowNs().toString(),
      fs_id: { mountpoint: upper },
      used_bytes: u64(usage.bytes),
      inodes_used: u64(usage.inodes),
    },
  };
}

export function forgetContainerStats(id: string): void {
  writableLayers.delete(id);
}

export async function listContainerStats(
  ctx: CriContext,
  filter: ContainerStatsFilter__Output | null,
): Promise<ContainerStats[]> {
  const wanted = ctx.containers
    .list()
    .filter((c) => containerState(c) !== 'CONTAINER_EXITED')
    .filter((c) => !filter?.id || c.id.startsWith(filter.id))
    .filter((c) => !filter?.pod_sandbox_id || c.sandboxId.startsWith(filter.pod_sandbox_id))
    .filter((c) => matchesLabels(c.labels, filter?.label_selector));
  return Promise.all(wanted.map((c) => containerStatsOf(ctx, c)));
}

export async function podSandboxStatsOf(ctx: CriContext, pod: SandboxRecord): Promise<PodSandboxStats> {
  const containers = ctx.containers
    .list()
    .filter((c) => c.sandboxId === pod.id && containerState(c) === 'CONTAINER_RUNNING');
  const stats = await Promise.all(containers.map((c) => containerStatsOf(ctx, c)));
  const sample = ctx.stats.sample(pod.id);
  const net = sample?.network;
  const iface = (i: {
    name: string;
    rxBytes: number;
    rxErrors: number;
    txBytes: number;
    txErrors: number;
  }) => ({
    name: i.name,
    rx_bytes: u64(i.rxBytes),
    rx_errors: u64(i.rxErrors),
    tx_bytes: u64(i.txBytes),
    tx_errors: u64(i.txErrors),
  });
  const ts = (sample?.timestampNs ?? nowNs()).toString();
  const m = pod.config.metadata!;
  return {
    attributes: {
      id: pod.id,
      metadata: { name: m.name, uid: m.uid, namespace: m.namespace, attempt: m.attempt },
      labels: pod.config.labels,
      annotations: pod.config.annotations,
    },
    linux: {
      ...cpuMemory(sample),
      network: net
        ? {
            timestamp: ts,
            default_interface: net.defaultInterface ? iface(net.defaultInterface) : null,
            interfaces: net.interfaces.map(iface),
          }
        : null,
      process: { timestamp: ts, process_count: u64(sample?.pids?.current ?? 0) },
      containers: stats,
    },
  };
}

export async function listPodSandboxStats(
  ctx: CriContext,
  filter: PodSandboxStatsFilter__Output | null,
): Promise<PodSandboxStats[]> {
  const pods = ctx.sandboxes
    .list()
    .filter((p) => !p.stoppedAt)
    .filter((p) => !filter?.id || p.id.startsWith(filter.id))
    .filter((p) => matchesLabels(p.config.labels, filter?.label_selector));
  return Promise.all(pods.map((p) => podSandboxStatsOf(ctx, p)));
}
