// 5. Lists and stats with many containers on each runtime (20 pods × 10 sleeping containers by
//    default, host network): ListContainers, ListPodSandbox, ListContainerStats p50 and p99.
import { inParallel, removePod, runSleepingPod } from '../lib/pods';
import { Figure, orderFor, RUNTIMES, Samples, timed } from '../lib/stats';
import { BenchContext, setting } from './context';

export async function listsBench(ctx: BenchContext): Promise<Figure[]> {
  const pods = setting('BENCH_LIST_PODS', 20);
  const perPod = setting('BENCH_LIST_CONTAINERS_PER_POD', 10);
  const calls = setting('BENCH_LIST_SAMPLES', 50);
  const section = `lists at ${pods * perPod} containers`;
  const created: Record<string, { id: string }[]> = {};
  try {
    for (const rt of RUNTIMES) {
      ctx.progress(`lists: ${rt}, starting ${pods} pods × ${perPod} containers`);
      const indexes = Array.from({ length: pods }, (_, i) => i);
      created[rt] = await inParallel(indexes, 5, (i) =>
        runSleepingPod(ctx.peers[rt].cri, `list${i}`, 'host', ctx.place(rt), perPod),
      );
    }
    const samples = new Samples();
    for (let i = 0; i < calls; i++) {
      for (const rt of orderFor(i)) {
        const cri = ctx.peers[rt].cri;
        samples.add('ListContainers', rt, (await timed(() => cri.runtime('ListContainers', {}))).ms);
        samples.add('ListPodSandbox', rt, (await timed(() => cri.runtime('ListPodSandbox', {}))).ms);
        samples.add(
          'ListContainerStats',
          rt,
          (await timed(() => cri.runtime('ListContainerStats', {}, 60_000))).ms,
        );
      }
    }
    return samples.figures(section, [0.5, 0.99]);
  } finally {
    for (const rt of RUNTIMES) {
      ctx.progress(`lists: ${rt}, removing pods`);
      await inParallel(created[rt] ?? [], 5, (pod) => removePod(ctx.peers[rt].cri, pod.id));
    }
  }
}
