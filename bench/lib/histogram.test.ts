import { histogramQuantile, readHistogram } from './histogram';

const page = `# HELP kubelet_pod_start_duration_seconds [ALPHA] Duration in seconds ...
# TYPE kubelet_pod_start_duration_seconds histogram
kubelet_pod_start_duration_seconds_bucket{le="0.5"} 0
kubelet_pod_start_duration_seconds_bucket{le="1"} 10
kubelet_pod_start_duration_seconds_bucket{le="2"} 30
kubelet_pod_start_duration_seconds_bucket{le="+Inf"} 40
kubelet_pod_start_duration_seconds_sum 75.5
kubelet_pod_start_duration_seconds_count 40
kubelet_pod_start_sli_duration_seconds_bucket{le="0.5"} 0
kubelet_pod_start_sli_duration_seconds_bucket{le="+Inf"} 0
kubelet_pod_start_sli_duration_seconds_sum 0
kubelet_pod_start_sli_duration_seconds_count 0
`;

describe('histograms from a /metrics page', () => {
  it('reads the buckets, count and sum of one histogram and no other', () => {
    const h = readHistogram(page, 'kubelet_pod_start_duration_seconds')!;
    expect(h.count).toBe(40);
    expect(h.sum).toBe(75.5);
    expect(h.buckets.map((b) => b.le)).toEqual([0.5, 1, 2, Infinity]);
    expect(readHistogram(page, 'kubelet_pod_worker_duration_seconds')).toBeUndefined();
  });

  it('interpolates quantiles inside buckets as histogram_quantile does', () => {
    const h = readHistogram(page, 'kubelet_pod_start_duration_seconds')!;
    // rank 20 of 40: half way through the (1, 2] bucket, which holds ranks 10..30
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(1.5);
    // rank 4: in the (0.5, 1] bucket
    expect(histogramQuantile(h, 0.1)).toBeCloseTo(0.7);
    // in the +Inf bucket: the last finite edge
    expect(histogramQuantile(h, 0.99)).toBe(2);
  });

  it('has no quantile without observations', () => {
    expect(histogramQuantile(readHistogram(page, 'kubelet_pod_start_sli_duration_seconds')!, 0.5)).toBeNaN();
  });
});
