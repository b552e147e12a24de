// GET /stats/summary: the kubelet's Summary API (stats/v1alpha1) — the node's CPU and memory and,
// per running pod, its containers' — built from CRI ListPodSandboxStats, or from
// ListContainerStats grouped by sandbox when the runtime lacks the pod-level call.
import * as grpc from '@grpc/grpc-js';
import type { ContainerStats__Output } from '../../gen/runtime/v1/ContainerStats';
import type { CpuUsage__Output } from '../../gen/runtime/v1/CpuUsage';
import type { MemoryUsage__Output } from '../../gen/runtime/v1/MemoryUsage';
import type { NetworkUsage__Output } from '../../gen/runtime/v1/NetworkUsage';
import type { PodSandboxStats__Output } from '../../gen/runtime/v1/PodSandboxStats';
import { hasGrpcCode } from '../cri_client';
import type { KubeletApiCri } from './cri';
import {
  CpuRates,
  nodeCpu,
  nodeMemory,
  type NodeReaders,
  type CpuSample,
  type MemorySample,
} from './node_stats';

export interface ContainerSummary {
  name: string;
  startTime: string;
  cpu?: CpuSample;
  memory?: Partial<MemorySample> & { time: string };
  rootfs?: { time: string; usedBytes: number; inodesUsed?: number };
}

export interface PodSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerSummary[];
  cpu?: CpuSample;
  memory?: Partial<MemorySample> & { time: string };
  network?: {
    time: string;
    name: string;
    rxBytes: number;
    rxErrors: number;
    txBytes: number;
    txErrors: number;
  };
}

export interface Summary {
  node: { nodeName: string; startTime: string; cpu: CpuSample; memory: MemorySample };
  pods: PodSummary[];
}

export interface SummaryContext {
  cri: KubeletApiCri;
  nodeName: string;
  /** When the node booted (the kubelet's node startTime). */
  nodeStartTime: string;
  readers: NodeReaders;
  rates: CpuRates;
}

const num = (v: { value: string } | null | undefined) => (v ? Number(v.value) : undefined);
const nsTime = (ns: string) => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

function cpuOf(key: string, cpu: CpuUsage__Output | null, rates: CpuRates): CpuSample | undefined {
  const usage = num(cpu?.usage_core_nano_seconds);
  if (!cpu || usage === undefined) return undefined;
  // containerd and nodelet fill the rate; when a runtime does not, it comes from our last sample.
  const computed = rates.rate(key, usage, Number(cpu.timestamp));
  const nanoCores = num(cpu.usage_nano_cores) || computed;
  return {
    time: nsTime(cpu.timestamp),
    usageCoreNanoSeconds: usage,
    ...(nanoCores !== undefined ? { usageNanoCores: nanoCores } : {}),
  };
}

function memoryOf(m: MemoryUsage__Output | null): ContainerSummary['memory'] {
  if (!m) return undefined;
  const out: NonNullable<ContainerSummary['memory']> = { time: nsTime(m.timestamp) };
  const set = (k: keyof MemorySample, v: number | undefined) => {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  };
  set('workingSetBytes', num(m.working_set_bytes));
  set('availableBytes', num(m.available_bytes));
  set('usageBytes', num(m.usage_bytes));
  set('rssBytes', num(m.rss_bytes));
  set('pageFaults', num(m.page_faults));
  set('majorPageFaults', num(m.major_page_faults));
  return out;
}

function networkOf(n: NetworkUsage__Output | null): PodSummary['network'] {
  const i = n?.default_interface;
  if (!n || !i) return undefined;
  return {
    time: nsTime(n.timestamp),
    name: i.name,
    rxBytes: num(i.rx_bytes) ?? 0,
    rxErrors: num(i.rx_errors) ?? 0,
    txBytes: num(i.tx_bytes) ?? 0,
    txErrors: num(i.tx_errors) ?? 0,
  };
}

/** The pod-level stats, or the container stats grouped under their sandboxes when the runtime has only those. */
async function podStats(cri: KubeletApiCri): Promise<PodSandboxStats__Output[]> {
  try {
    return await cri.listPodSandboxStats();
  } catch (err) {
    if (!hasGrpcCode(err, grpc.status.UNIMPLEMENTED)) throw err;
  }
  const [sandboxes, containers, stats] = await Promise.all([
    cri.listPodSandbox(),
    cri.listContainers(),
    cri.listContainerStats(),
  ]);
  const sandboxOf = new Map(containers.map((c) => [c.id, c.pod_sandbox_id]));
  return sandboxes.map((s) => ({
    attributes: { id: s.id, metadata: s.metadata, labels: s.labels, annotations: s.annotations },
    linux: {
      cpu: null,
      memory: null,
      network: null,
      process: null,
      io: null,
      containers: stats.filter((c: ContainerStats__Output) => sandboxOf.get(c.attributes?.id ?? '') === s.id),
    },
    windows: null,
  }));
}

export async function buildSummary(ctx: SummaryContext): Promise<Summary> {
  const [sandboxes, containers, stats] = await Promise.all([
    ctx.cri.listPodSandbox(),
    ctx.cri.listContainers(),
    podStats(ctx.cri),
  ]);
  const ready = new Map(sandboxes.filter((s) => s.state === 'SANDBOX_READY').map((s) => [s.id, s]));
  const containerById = new Map(containers.map((c) => [c.id, c]));
  const seen = new Set<string>();
  const pods: PodSummary[] = [];
  for (const pod of stats) {
    const sandbox = ready.get(pod.attributes?.id ?? '');
    if (!sandbox?.metadata) continue;
    seen.add(sandbox.id);
    const list: ContainerSummary[] = [];
    for (const c of pod.linux?.containers ?? []) {
      const id = c.attributes?.id ?? '';
      const info = containerById.get(id);
      if (!info || info.state !== 'CONTAINER_RUNNING') continue;
      seen.add(id);
      const used = num(c.writable_layer?.used_bytes);
      list.push({
        name: c.attributes?.metadata?.name ?? info.metadata?.name ?? '',
        startTime: nsTime(info.created_at),
        cpu: cpuOf(id, c.cpu, ctx.rates),
        memory: memoryOf(c.memory),
        ...(used !== undefined
          ? { rootfs: { time: nsTime(c.writable_layer!.timestamp), usedBytes: used } }
          : {}),
      });
    }
    pods.push({
      podRef: {
        name: sandbox.metadata.name,
        namespace: sandbox.metadata.namespace,
        uid: sandbox.metadata.uid,
      },
      startTime: nsTime(sandbox.created_at),
      containers: list,
      cpu: cpuOf(sandbox.id, pod.linux?.cpu ?? null, ctx.rates) ?? sumCpu(list),
      memory: memoryOf(pod.linux?.memory ?? null) ?? sumMemory(list),
      network: networkOf(pod.linux?.network ?? null),
    });
  }
  ctx.rates.keep(seen);
  return {
    node: {
      nodeName: ctx.nodeName,
      startTime: ctx.nodeStartTime,
      cpu: nodeCpu(ctx.readers, ctx.rates),
      memory: nodeMemory(ctx.readers),
    },
    pods,
  };
}

/** A pod's usage as the sum of its containers' when the runtime has no pod-level numbers. */
function sumCpu(list: ContainerSummary[]): CpuSample | undefined {
  const cpus = list.map((c) => c.cpu).filter((c): c is CpuSample => !!c);
  if (cpus.length === 0) return undefined;
  const total = (k: 'usageCoreNanoSeconds' | 'usageNanoCores') => cpus.reduce((a, c) => a + (c[k] ?? 0), 0);
  return {
    time: cpus[0].time,
    usageCoreNanoSeconds: total('usageCoreNanoSeconds'),
    usageNanoCores: total('usageNanoCores'),
  };
}

function sumMemory(list: ContainerSummary[]): PodSummary['memory'] {
  const mems = list.map((c) => c.memory).filter((m): m is NonNullable<ContainerSummary['memory']> => !!m);
  if (mems.length === 0) return undefined;
  const total = (k: 'workingSetBytes' | 'usageBytes' | 'rssBytes') =>
    mems.reduce((a, m) => a + (m[k] ?? 0), 0);
  return {
    time: mems[0].time,
    workingSetBytes: total('workingSetBytes'),
    usageBytes: total('usageBytes'),
    rssBytes: total('rssBytes'),
  };
}
