// 4. Images: cold pulls of the 3-layer ~100 MB image (RemoveImage before each), then ListImages and
//    ImageStatus latency.
import { BUSYBOX } from '../lib/pods';
import { Figure, orderFor, Samples, timed } from '../lib/stats';
import { BenchContext, setting } from './context';

export async function imageBench(ctx: BenchContext, bigImage: string): Promise<Figure[]> {
  const pulls = setting('BENCH_PULLS', 3);
  const calls = setting('BENCH_LIST_SAMPLES', 50);
  const pullSamples = new Samples();
  for (let round = 0; round < pulls; round++) {
    for (const rt of orderFor(round)) {
      const cri = ctx.peers[rt].cri;
      await cri.image('RemoveImage', { image: { image: bigImage } }, 60_000);
      await new Promise((r) => setTimeout(r, 500));
      const pull = await timed(() => cri.image('PullImage', { image: { image: bigImage } }, 600_000));
      ctx.progress(`image: ${rt} pulled ${bigImage} in ${pull.ms.toFixed(0)} ms`);
      pullSamples.add('cold pull, 3 layers ~100 MB', rt, pull.ms);
    }
  }
  const calls_ = new Samples();
  for (let i = 0; i < calls; i++) {
    for (const rt of orderFor(i)) {
      const cri = ctx.peers[rt].cri;
      calls_.add('ListImages', rt, (await timed(() => cri.image('ListImages', {}))).ms);
      calls_.add(
        'ImageStatus',
        rt,
        (await timed(() => cri.image('ImageStatus', { image: { image: BUSYBOX } }))).ms,
      );
    }
  }
  for (const rt of orderFor(0))
    await ctx.peers[rt].cri.image('RemoveImage', { image: { image: bigImage } }, 60_000);
  return [...pullSamples.figures('image', [0.5]), ...calls_.figures('image', [0.5, 0.99])];
}
