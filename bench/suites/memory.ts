// 3. Memory: total PSS of each runtime's processes (nodelet: daemon, monitor, keeper and what they
//    start; containerd: daemon, shims and pause containers), idle and with M running pods, and the
//    marginal cost of one pod. The bench's own sleeping workloads are left out on both sides.
//    A Node heap grows and shrinks with its garbage collections, so the idle figure is read before
//    the pods and again after their removal, and the marginal cost is taken against the mean of both.
import { inParallel, removePod, runSleepingPod, SLEEP_ARGV } from '../lib/pods';
import { runtimePss, ProcessInfo } from '../lib/pss';
import { Figure, RUNTIMES } from '../lib/stats';
import { BenchContext, setting } from './context';

const isWorkload = (p: ProcessInfo) => p.argv.length === 2 && p.argv[1] === SLEEP_ARGV[1];
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The median of 5 readings a second apart. */
async function steadyPss(roots: () => number[]): Promise<{ mb: number; processes: number }> {
  const readings = [];
  for (let i = 0; i < 5; i++) {
    await settle(1000);
    readings.push(runtimePss(roots(), isWorkload));
  }
  return readings.sort((a, b) => a.mb - b.mb)[2]!;
}

export async function memoryBench(ctx: BenchContext): Promise<Figure[]> {
  const pods = setting('BENCH_MEMORY_PODS', 50);
  const figure = (name: string, unit = 'MB'): Figure => ({ section: 'memory', name, unit, values: {} });
  const idle = figure('total PSS, idle');
  const loaded = figure(`total PSS, ${pods} pods`);
  const idleAgain = figure('total PSS, idle again after removal');
  const marginal = figure('marginal PSS per pod');
  const counted = figure(`processes counted, ${pods} pods`, '');
  for (const rt of RUNTIMES) {
    const peer = ctx.peers[rt];
    const before = await steadyPss(() => peer.rootPids());
    ctx.progress(`memory: ${rt} idle ${before.mb.toFixed(1)} MB in ${before.processes} processes`);
    const indexes = Array.from({ length: pods }, (_, i) => i);
    const started = await inParallel(indexes, 10, (i) =>
      runSleepingPod(peer.cri, `mem${i}`, 'cni', ctx.place(rt)),
    );
    const during = await steadyPss(() => peer.rootPids());
    ctx.progress(`memory: ${rt} at ${pods} pods ${during.mb.toFixed(1)} MB in ${during.processes} processes`);
    await inParallel(started, 10, (pod) => removePod(peer.cri, pod.id));
    const after = await steadyPss(() => peer.rootPids());
    ctx.progress(`memory: ${rt} idle again ${after.mb.toFixed(1)} MB`);
    idle.values[rt] = before.mb;
    loaded.values[rt] = during.mb;
    idleAgain.values[rt] = after.mb;
    marginal.values[rt] = (during.mb - (before.mb + after.mb) / 2) / pods;
    counted.values[rt] = during.processes;
  }
  return [idle, loaded, idleAgain, marginal, counted];
}
