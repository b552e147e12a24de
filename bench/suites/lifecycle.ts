// 1. One pod and one /bin/true container through every lifecycle call, host network and CNI: p50
//    and p90 of each call, of start → exited, and of the whole pod cycle.
import { createContainer, Network, podConfig, runPod, startContainer, waitExited } from '../lib/pods';
import { Figure, orderFor, RuntimeName, Samples, timed } from '../lib/stats';
import { BenchContext, setting } from './context';

async function podCycle(
  ctx: BenchContext,
  rt: RuntimeName,
  network: Network,
  samples: Samples,
): Promise<void> {
  const cri = ctx.peers[rt].cri;
  const add = (op: string, ms: number) => samples.add(`${network}: ${op}`, rt, ms);
  const cycleStart = process.hrtime.bigint();
  const run = await timed(() => runPod(cri, podConfig('cycle', network, ctx.place(rt))));
  add('RunPodSandbox', run.ms);
  const pod = run.value;
  // Create + start + exit together: the start latency a user waits for (issue 3 item 8's figure).
  const startLatency = process.hrtime.bigint();
  const create = await timed(() => createContainer(cri, pod, 'true', ['/bin/true']));
  add('CreateContainer', create.ms);
  const id = create.value;
  const start = await timed(() => startContainer(cri, id));
  add('StartContainer', start.ms);
  // nodelet builds the root and the cgroup at create, runc at start: the pair is what compares.
  add('CreateContainer + StartContainer', create.ms + start.ms);
  add('start → exited', (await timed(() => waitExited(cri, id))).ms);
  add('create + start + exit', Number(process.hrtime.bigint() - startLatency) / 1e6);
  add(
    'StopContainer',
    (await timed(() => cri.runtime('StopContainer', { container_id: id, timeout: 10 }))).ms,
  );
  add('RemoveContainer', (await timed(() => cri.runtime('RemoveContainer', { container_id: id }))).ms);
  add('StopPodSandbox', (await timed(() => cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }))).ms);
  add(
    'RemovePodSandbox',
    (await timed(() => cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }))).ms,
  );
  add('whole pod cycle', Number(process.hrtime.bigint() - cycleStart) / 1e6);
}

export async function lifecycleBench(ctx: BenchContext): Promise<Figure[]> {
  const rounds = setting('BENCH_SAMPLES', 10);
  const samples = new Samples();
  for (let round = 0; round < rounds; round++) {
    ctx.progress(`lifecycle: round ${round + 1}/${rounds}`);
    for (const rt of orderFor(round)) {
      for (const network of ['host', 'cni'] as Network[]) await podCycle(ctx, rt, network, samples);
    }
  }
  return samples.figures('pod lifecycle', [0.5, 0.9]);
}
