// 7. The node as a cluster user feels it: the upstream kubelet (standalone, static pods) on
//    containerd and on nodelet, and `nodelet agent` on nodelet, all three up at once.
//    - Pod start, one node at a time: N manifests of one busybox container each dropped at once;
//      the time until the node's /pods shows all Running, each pod's own time to Running there
//      (polled every 250 ms), and the node's kubelet_pod_start_duration_seconds and
//      kubelet_pod_start_sli_duration_seconds histograms from its /metrics.
//    - Footprint, all three side by side: PSS of every process of each node (kubelet or agent and
//      the runtime's: nodelet's daemon, monitor, keeper, init pool; containerd and its shims and
//      pause containers; the pods' sleep processes left out) and their CPU seconds over an idle
//      window, with no pod and with the N pods.
//    Each kubelet and each nodelet daemon runs from a copy of its binary, so no two nodes share
//    text pages and PSS gives each its whole cost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KUBELET_BIN } from '../../test/e2e/kubelet/kubelet';
import { cpuBetween, treeCpu } from '../lib/cpu';
import { histogramQuantile, readHistogram } from '../lib/histogram';
import { BUSYBOX, SLEEP_ARGV } from '../lib/pods';
import { processTree, ProcessInfo, pssKb, readProcesses, runtimePss } from '../lib/pss';
import { Figure, percentile, RuntimeName } from '../lib/stats';
import { BenchNode, startAgentNode, startKubeletNode } from '../setup/nodes';
import { Peer, startNodeletPeer } from '../setup/peers';
import { BenchContext, setting } from './context';

const isWorkload = (p: ProcessInfo) => p.argv.length === 2 && p.argv[1] === SLEEP_ARGV[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const START_METRICS = ['kubelet_pod_start_duration_seconds', 'kubelet_pod_start_sli_duration_seconds'];

type NodeKey = 'kubelet+containerd' | 'kubelet+nodelet' | 'agent+nodelet';
const KEYS: NodeKey[] = ['kubelet+containerd', 'kubelet+nodelet', 'agent+nodelet'];
/** The report's two comparisons: [section, the nodelet column, the containerd column]. */
const SECTIONS: [string, NodeKey, NodeKey][] = [
  ['node: kubelet', 'kubelet+nodelet', 'kubelet+containerd'],
  ['node: agent vs kubelet', 'agent+nodelet', 'kubelet+containerd'],
];

export function staticPod(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default }
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: sleep
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: ${JSON.stringify(SLEEP_ARGV)}
`;
}

interface PodItem {
  metadata: { name: string };
  status: { phase?: string; containerStatuses?: { state?: { running?: unknown } }[] };
}

const isRunning = (p: PodItem) =>
  p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running);

/** One node's pod start: seconds until each pod showed Running on /pods, and its /metrics after. */
interface StartResult {
  perPod: number[];
  allS?: number;
  metrics: string;
  why?: string;
}

async function startPods(node: BenchNode, pods: number, timeoutS: number): Promise<StartResult> {
  const t0 = Date.now();
  for (let i = 0; i < pods; i++) node.addManifest(`bench-${i}.yaml`, staticPod(`bench-${i}`));
  const seen = new Map<string, number>();
  let lastError = '';
  while (seen.size < pods && Date.now() - t0 < timeoutS * 1000) {
    try {
      const { items } = JSON.parse(await node.get('/pods')) as { items: PodItem[] };
      const at = (Date.now() - t0) / 1000;
      for (const p of items)
        if (p.metadata.name.startsWith('bench-') && !seen.has(p.metadata.name) && isRunning(p))
          seen.set(p.metadata.name, at);
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(250);
  }
  const perPod = [...seen.values()];
  // The agent observes its pod start at its next one-second look after /pods shows Running.
  await sleep(3000);
  const metrics = await node.get('/metrics').catch(() => '');
  if (seen.size < pods) {
    const why = `${seen.size} of ${pods} pods Running after ${timeoutS} s ${lastError}`.trim();
    return { perPod, metrics, why };
  }
  return { perPod, allS: Math.max(...perPod), metrics };
}

/** The median of 5 PSS readings a second apart, in MB, with the processes counted. */
async function steadyPss(roots: () => number[]): Promise<{ mb: number; processes: number }> {
  const readings = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    readings.push(runtimePss(roots(), isWorkload));
  }
  return readings.sort((a, b) => a.mb - b.mb)[2]!;
}

/** What a process is, for the progress lines: `cli/main.js daemon`, `monitor/main.js`, `containerd`. */
function role(p: ProcessInfo): string {
  const [exe = '?', script = '', sub = ''] = p.argv;
  if (!script.includes('/dist/')) return path.basename(exe);
  return `${script.split('/dist/')[1]}${sub && !sub.startsWith('-') ? ` ${sub}` : ''}`;
}

/** "kubelet-1 40.1, cli/main.js daemon 60.2, …": a value summed by process role, largest first. */
function breakdown(roots: number[], value: (pid: number) => number): string {
  const sums = new Map<string, number>();
  for (const p of processTree(readProcesses(), roots, isWorkload))
    sums.set(role(p), (sums.get(role(p)) ?? 0) + value(p.pid));
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .map(([r, v]) => `${r} ${v.toFixed(1)}`)
    .join(', ');
}

/** CPU seconds of each node's processes over one window in which all of them sit idle. */
async function idleCpu(
  nodes: Map<NodeKey, BenchNode>,
  seconds: number,
): Promise<Map<NodeKey, { total: number; by: string }>> {
  const before = new Map([...nodes].map(([k, n]) => [k, treeCpu(n.rootPids(), isWorkload)]));
  await sleep(seconds * 1000);
  return new Map(
    [...nodes].map(([k, n]) => {
      const was = before.get(k)!;
      const now = treeCpu(n.rootPids(), isWorkload);
      const spent = (pid: number) => Math.max(0, (now.get(pid) ?? 0) - (was.get(pid) ?? 0));
      return [k, { total: cpuBetween(was, now), by: breakdown(n.rootPids(), spent) }];
    }),
  );
}

function copyBinary(from: string, dir: string, name: string): string {
  const to = path.join(dir, name);
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o755);
  return to;
}

export async function nodeBench(ctx: BenchContext): Promise<Figure[]> {
  const pods = setting('BENCH_NODE_PODS', 100);
  const idleS = setting('BENCH_NODE_IDLE_S', 300);
  const startTimeoutS = setting('BENCH_NODE_START_TIMEOUT_S', Math.max(300, pods * 5));
  const undo: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of undo.splice(0).reverse())
      await fn().catch((err) => ctx.progress(`node: cleanup: ${(err as Error).message}`));
  };
  // An interrupted bench still stops the nodes; a finished suite has emptied the list by then.
  ctx.defer(cleanup);
  const values = new Map<string, Partial<Record<NodeKey, number>>>();
  const notes = new Map<string, Partial<Record<NodeKey, string>>>();
  const put = (figure: string, key: NodeKey, value: number | undefined, why?: string) => {
    if (value !== undefined && !Number.isNaN(value))
      values.set(figure, { ...values.get(figure), [key]: value });
    else notes.set(figure, { ...notes.get(figure), [key]: why ?? 'no value' });
  };
  try {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-node-'));
    undo.push(async () => fs.rmSync(bin, { recursive: true, force: true }));
    const nodelets: Peer[] = [];
    for (const i of [1, 2]) {
      const peer = await startNodeletPeer(ctx.registry, {
        execPath: copyBinary(process.execPath, bin, `node-${i}`),
      });
      undo.push(() => peer.stop());
      await peer.cri.image('PullImage', { image: { image: BUSYBOX } }, 300_000);
      nodelets.push(peer);
    }
    const nodes = new Map<NodeKey, BenchNode>();
    // The nodes stop side by side: each removes its pods one by one through the CRI.
    undo.push(async () => {
      const stops = [...nodes].map(([key, node]) =>
        node.stop().catch((err) => ctx.progress(`node: cannot stop ${key}: ${(err as Error).message}`)),
      );
      await Promise.all(stops);
    });
    const add = async (key: NodeKey, start: () => Promise<BenchNode>) => nodes.set(key, await start());
    await add('kubelet+containerd', () =>
      startKubeletNode(ctx.peers.containerd, copyBinary(KUBELET_BIN, bin, 'kubelet-1')),
    );
    await add('kubelet+nodelet', () =>
      startKubeletNode(nodelets[0]!, copyBinary(KUBELET_BIN, bin, 'kubelet-2')),
    );
    const agentNode = path.join(bin, 'node-2');
    await add('agent+nodelet', () => startAgentNode(nodelets[1]!, agentNode));
    ctx.progress(`node: three nodes up; settling 20 s, then ${idleS} s idle with no pod`);
    await sleep(20_000);

    const footprint = async (label: string) => {
      for (const [key, node] of nodes) {
        const pss = await steadyPss(() => node.rootPids());
        put(`whole node PSS, ${label}`, key, pss.mb);
        put(`processes counted, ${label}`, key, pss.processes);
        const by = breakdown(node.rootPids(), (pid) => pssKb(pid) / 1024);
        ctx.progress(`node: ${key} ${label}: ${pss.mb.toFixed(1)} MB PSS (${by})`);
      }
      for (const [key, cpu] of await idleCpu(nodes, idleS)) {
        put(`whole node CPU over ${idleS} s, ${label}`, key, cpu.total);
        ctx.progress(`node: ${key} ${label}: ${cpu.total.toFixed(2)} CPU s over ${idleS} s (${cpu.by})`);
      }
    };
    await footprint('idle');

    for (const key of KEYS) {
      ctx.progress(`node: ${key}: ${pods} static pods at once`);
      const r = await startPods(nodes.get(key)!, pods, startTimeoutS);
      ctx.progress(`node: ${key}: ${r.perPod.length} Running, all after ${r.allS?.toFixed(1) ?? '—'} s`);
      put(`${pods} static pods: all Running`, key, r.allS, r.why);
      for (const q of [0.5, 0.99])
        put(`pod start p${q * 100} (Running on /pods)`, key, percentile(r.perPod, q), r.why ?? 'no pod ran');
      for (const metric of START_METRICS) {
        const h = readHistogram(r.metrics, metric);
        const why = h ? `${metric} has no observation` : `no ${metric} on /metrics`;
        put(`${metric} count`, key, h?.count, why);
        for (const q of [0.5, 0.99])
          put(`${metric} p${q * 100}`, key, h ? histogramQuantile(h, q) : undefined, why);
      }
    }
    ctx.progress(`node: settling 20 s, then ${idleS} s idle with ${pods} pods on each node`);
    await sleep(20_000);
    await footprint(`${pods} pods`);
  } finally {
    ctx.progress('node: stopping the nodes and removing their pods');
    await cleanup();
  }
  const names = [...new Set([...values.keys(), ...notes.keys()])];
  return SECTIONS.flatMap(([section, ours, theirs]) =>
    names.map((name): Figure => {
      const pick = <T>(m: Partial<Record<NodeKey, T>> | undefined) => {
        const out: Partial<Record<RuntimeName, T>> = {};
        if (m?.[ours] !== undefined) out.nodelet = m[ours];
        if (m?.[theirs] !== undefined) out.containerd = m[theirs];
        return out;
      };
      const unit = /count|processes/.test(name) ? '' : /PSS/.test(name) ? 'MB' : 's';
      return { section, name, unit, values: pick(values.get(name)), notes: pick(notes.get(name)) };
    }),
  );
}
