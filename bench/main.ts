// `npm run bench`: nodelet against containerd + runc, side by side in one run, through the CRI.
// Starts a registry with the fixture images and a 3-layer ~100 MB image, both runtimes in
// temporary roots, runs the suites (BENCH_ONLY=lifecycle,throughput,memory,image,lists,critest,node
// picks some), writes bench/results/<date>.md and prints its table. Sizes: see README "Benchmarks".
// The soak (bench/soak, nodelet alone, 30 minutes) runs only when BENCH_ONLY names it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroupTree } from '../test/support/containerd';
import { startRegistry, TestRegistry } from '../test/support/registry';
import { figureTable, reportMarkdown } from './lib/report';
import { BUSYBOX } from './lib/pods';
import { Figure, RUNTIMES, RuntimeName } from './lib/stats';
import { bigImageLayout, BIG_IMAGE_REPO, pushBigImage } from './setup/big_image';
import { machine, versions } from './setup/machine';
import { Peer, removeAllPods, startContainerdPeer, startNodeletPeer } from './setup/peers';
import { soakMain } from './soak/run';
import { BenchContext } from './suites/context';
import { critestBench } from './suites/critest';
import { imageBench } from './suites/image';
import { lifecycleBench } from './suites/lifecycle';
import { listsBench } from './suites/lists';
import { memoryBench } from './suites/memory';
import { nodeBench } from './suites/node';
import { throughputBench } from './suites/throughput';

const BIG_IMAGE = `registry.k8s.io/${BIG_IMAGE_REPO}`;
const started = Date.now();
const progress = (m: string) =>
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);

const SUITES: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  lifecycle: lifecycleBench,
  // Before the 100-pod runs, which leave a bigger heap behind in both daemons.
  memory: memoryBench,
  throughput: throughputBench,
  image: (ctx) => imageBench(ctx, BIG_IMAGE),
  lists: listsBench,
  critest: critestBench,
  // Last: it starts two more nodelet daemons and three nodes, and leaves the peers as it found them.
  node: nodeBench,
};

async function runSuites(ctx: BenchContext): Promise<Figure[]> {
  const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  const figures: Figure[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (only.length > 0 && !only.includes(name)) continue;
    progress(`suite ${name}`);
    try {
      figures.push(...(await suite(ctx)));
    } catch (err) {
      // One failing suite is a row of the report, not the end of the run.
      const why = (err as Error).message.split('\n')[0]!;
      progress(`suite ${name} failed: ${why}`);
      figures.push({ section: name, name: 'suite failed', unit: '', values: {}, notes: { nodelet: why } });
      for (const rt of RUNTIMES) await removeAllPods(ctx.peers[rt].cri).catch(() => undefined);
    }
  }
  return figures;
}

export async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  if (only.includes('soak')) {
    progress('suite soak');
    await soakMain(progress);
    if (only.length === 1) return;
  }
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse())
      await fn().catch((err) => progress(`cleanup: ${(err as Error).message}`));
    cleanups.length = 0;
  };
  const interrupted = () => process.exit(130);
  process.once('SIGINT', () => void cleanup().then(interrupted, interrupted));
  const logRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bench-logs-'));
  cleanups.push(async () => fs.rmSync(logRoot, { recursive: true, force: true }));
  try {
    const machineInfo = machine();
    progress('building or finding the fixture images and the ~100 MB image');
    const layout = await bigImageLayout();
    const registry: TestRegistry = await startRegistry({ withFixtures: true });
    cleanups.push(() => registry.stop());
    await pushBigImage(layout, registry.host);
    progress(`registry on ${registry.host}; starting containerd and nodelet`);
    const peers = {} as Record<RuntimeName, Peer>;
    peers.containerd = await startContainerdPeer(registry);
    cleanups.push(() => peers.containerd.stop());
    peers.nodelet = await startNodeletPeer(registry);
    cleanups.push(() => peers.nodelet.stop());
    for (const rt of RUNTIMES) await peers[rt].cri.image('PullImage', { image: { image: BUSYBOX } }, 300_000);
    // containerd leaves the parents of its pods' cgroups behind: give them a root we remove.
    const ctdCgroups = `/nodelet-bench-${path.basename(logRoot).slice(-6)}`;
    cleanups.push(async () => removeCgroupTree(ctdCgroups));
    const place = (rt: RuntimeName) => ({
      logRoot,
      cgroupRoot: rt === 'containerd' ? ctdCgroups : undefined,
    });
    const defer = (fn: () => Promise<void>) => void cleanups.push(fn);
    const figures = await runSuites({ peers, registry, place, progress, defer });
    machineInfo['load average at end'] = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const date = new Date().toISOString().slice(0, 10);
    // BENCH_RESULT names the file of a partial run, so it does not replace the day's full one.
    const file = path.resolve(__dirname, 'results', `${process.env.BENCH_RESULT ?? date}.md`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      reportMarkdown(figures, {
        date,
        machine: machineInfo,
        versions: versions(),
        settings: benchSettings(),
        durationS: (Date.now() - started) / 1000,
      }),
    );
    console.log(`\n${figureTable(figures)}\n\nWritten to ${path.relative(process.cwd(), file)}`);
  } finally {
    progress('stopping both runtimes and the registry');
    await cleanup();
  }
}

function benchSettings(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env)
      .filter(([k]) => k.startsWith('BENCH_'))
      .map(([k, v]) => [k, v ?? '']),
  );
}
