// GET /metrics/cadvisor: the runtime's own container metrics when it has the CRI metrics calls
// (ListMetricDescriptors + ListPodSandboxMetrics; nodelet has them), written out as they come, as
// the kubelet's CRI metrics collector does; otherwise a few cAdvisor series derived from
// ListContainerStats (containerd 1.6 has only those).
import * as grpc from '@grpc/grpc-js';
import { hasGrpcCode } from '../cri_client';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL } from '../labels';
import type { KubeletApiCri } from './cri';
import { PromText, type Labels } from './prom_text';

const nsToMs = (ns: string) => Number(BigInt(ns || '0') / 1_000_000n);

export async function cadvisorMetrics(cri: KubeletApiCri): Promise<string> {
  let descriptors;
  try {
    descriptors = await cri.listMetricDescriptors();
  } catch (err) {
    if (!hasGrpcCode(err, grpc.status.UNIMPLEMENTED)) throw err;
    return fromContainerStats(cri);
  }
  const byName = new Map(descriptors.map((d) => [d.name, d]));
  const out = new PromText();
  for (const pod of await cri.listPodSandboxMetrics()) {
    const all = [...pod.metrics, ...pod.container_metrics.flatMap((c) => c.metrics)];
    for (const m of all) {
      const d = byName.get(m.name);
      if (!d) continue;
      const labels: Labels = {};
      d.label_keys.forEach((k, i) => (labels[k] = m.label_values[i] ?? ''));
      out.family(m.name, m.metric_type === 'COUNTER' ? 'counter' : 'gauge', d.help);
      out.sample(m.name, labels, Number(m.value?.value ?? 0), nsToMs(m.timestamp) || undefined);
    }
  }
  return out.toString();
}

async function fromContainerStats(cri: KubeletApiCri): Promise<string> {
  const [stats, containers] = await Promise.all([cri.listContainerStats(), cri.listContainers()]);
  const byId = new Map(containers.map((c) => [c.id, c]));
  const out = new PromText()
    .family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.')
    .family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.')
    .family(
      'container_memory_usage_bytes',
      'gauge',
      'Current memory usage in bytes, including all memory regardless of when it was accessed',
    )
    .family('container_memory_rss', 'gauge', 'Size of RSS in bytes.')
    .family(
      'container_fs_usage_bytes',
      'gauge',
      'Number of bytes that are consumed by the container on this filesystem.',
    );
  for (const s of stats) {
    const c = byId.get(s.attributes?.id ?? '');
    if (!c) continue;
    const labels: Labels = {
      container: c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? '',
      id: c.id,
      image: c.image?.image ?? c.image_ref,
      name: c.id,
      namespace: c.labels[POD_NAMESPACE_LABEL] ?? '',
      pod: c.labels[POD_NAME_LABEL] ?? '',
    };
    const v = (x: { value: string } | null | undefined) => (x ? Number(x.value) : undefined);
    const put = (name: string, value: number | undefined, ts: string | undefined) => {
      if (value !== undefined) out.sample(name, labels, value, ts ? nsToMs(ts) : undefined);
    };
    const cpu = v(s.cpu?.usage_core_nano_seconds);
    put('container_cpu_usage_seconds_total', cpu === undefined ? undefined : cpu / 1e9, s.cpu?.timestamp);
    put('container_memory_working_set_bytes', v(s.memory?.working_set_bytes), s.memory?.timestamp);
    put('container_memory_usage_bytes', v(s.memory?.usage_bytes), s.memory?.timestamp);
    put('container_memory_rss', v(s.memory?.rss_bytes), s.memory?.timestamp);
    put('container_fs_usage_bytes', v(s.writable_layer?.used_bytes), s.writable_layer?.timestamp);
  }
  return out.toString();
}
