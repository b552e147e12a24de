import { orderFor, percentile, Samples } from './stats';

describe('bench statistics', () => {
  it('takes percentiles by nearest rank', () => {
    const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(samples, 0.5)).toBe(5);
    expect(percentile(samples, 0.9)).toBe(9);
    expect(percentile(samples, 0.99)).toBe(10);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('turns samples into one figure per operation and quantile, leaving out a runtime without samples', () => {
    const s = new Samples();
    s.add('RunPodSandbox', 'nodelet', 10);
    s.add('RunPodSandbox', 'nodelet', 20);
    s.add('RunPodSandbox', 'containerd', 40);
    s.add('ListImages', 'containerd', 1);
    const figures = s.figures('lifecycle', [0.5]);
    expect(figures).toEqual([
      {
        section: 'lifecycle',
        name: 'RunPodSandbox p50',
        unit: 'ms',
        values: { nodelet: 10, containerd: 40 },
      },
      { section: 'lifecycle', name: 'ListImages p50', unit: 'ms', values: { containerd: 1 } },
    ]);
  });

  it('alternates which runtime goes first', () => {
    expect(orderFor(0)).toEqual(['nodelet', 'containerd']);
    expect(orderFor(1)).toEqual(['containerd', 'nodelet']);
  });
});
