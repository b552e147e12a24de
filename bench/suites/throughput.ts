// 2. Throughput: N pods (CNI) with one sleeping container each, with parallelism 1 and 10: the
//    time until all run, and the time until all are removed.
import { inParallel, removePod, runSleepingPod } from '../lib/pods';
import { Figure, orderFor, timed } from '../lib/stats';
import { BenchContext, setting } from './context';

export async function throughputBench(ctx: BenchContext): Promise<Figure[]> {
  const pods = setting('BENCH_PODS', 100);
  const figures: Figure[] = [];
  for (const [round, parallel] of [1, 10].entries()) {
    const running: Figure = {
      section: 'throughput',
      name: `${pods} pods running, parallelism ${parallel}`,
      unit: 's',
      values: {},
    };
    const removed: Figure = {
      section: 'throughput',
      name: `${pods} pods removed, parallelism ${parallel}`,
      unit: 's',
      values: {},
    };
    for (const rt of orderFor(round)) {
      const cri = ctx.peers[rt].cri;
      ctx.progress(`throughput: ${rt}, ${pods} pods, parallelism ${parallel}`);
      const indexes = Array.from({ length: pods }, (_, i) => i);
      const up = await timed(() =>
        inParallel(indexes, parallel, (i) => runSleepingPod(cri, `tp${i}`, 'cni', ctx.place(rt))),
      );
      running.values[rt] = up.ms / 1000;
      const down = await timed(() => inParallel(up.value, parallel, (pod) => removePod(cri, pod.id)));
      removed.values[rt] = down.ms / 1000;
    }
    figures.push(running, removed);
  }
  return figures;
}
