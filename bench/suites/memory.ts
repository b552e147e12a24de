// 3. Memory: total PSS of each runtime's processes (nodelet: daemon, monitor, keeper and what they
//    start; containerd: daemon, shims and pause containers), idle and with M running pods, and the
//    marginal cost of one pod. The bench's own sleeping workloads are left out on both sides.
import { inParallel, removePod, runSleepingPod, SLEEP_ARGV } from '../lib/pods';
import { runtimePss, ProcessInfo } from '../lib/pss';
import { Figure, RUNTIMES } from '../lib/stats';
import { BenchContext, setting } from './context';

const isWorkload = (p: ProcessInfo) => p.argv.length === 2 && p.argv[1] === SLEEP_ARGV[1];
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The median of 5 readings a second apart: a Node heap grows and shrinks between collections. */
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
  const idle: Figure = { section: 'memory', name: 'total PSS, idle', unit: 'MB', values: {} };
  const loaded: Figure = { section: 'memory', name: `total PSS, ${pods} pods`, unit: 'MB', values: {} };
  const marginal: Figure = { section: 'memory', name: 'marginal PSS per pod', unit: 'MB', values: {} };
  const counted: Figure = {
    section: 'memory',
    name: `processes counted, ${pods} pods`,
    unit: '',
    values: {},
  };
  for (const rt of RUNTIMES) {
    const peer = ctx.peers[rt];
    const before = await steadyPss(() => peer.rootPids());
    ctx.progress(
      `memory: ${rt} idle ${before.mb.toFixed(1)} MB in ${before.processes} processes; starting ${pods} pods`,
    );
    const indexes = Array.from({ length: pods }, (_, i) => i);
    const started = await inParallel(indexes, 10, (i) =>
      runSleepingPod(peer.cri, `mem${i}`, 'cni', ctx.place(rt)),
    );
    const after = await steadyPss(() => peer.rootPids());
    idle.values[rt] = before.mb;
    loaded.values[rt] = after.mb;
    marginal.values[rt] = (after.mb - before.mb) / pods;
    counted.values[rt] = after.processes;
    ctx.progress(`memory: ${rt} at ${pods} pods ${after.mb.toFixed(1)} MB in ${after.processes} processes`);
    await inParallel(started, 10, (pod) => removePod(peer.cri, pod.id));
  }
  return [idle, loaded, marginal, counted];
}
