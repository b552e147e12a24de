// Pods and containers by state, read at scrape time from whatever holds them (the CRI stores
// implement WorkloadSource), so the gauges can never drift from the stores they describe.
import client from 'prom-client';

export type PodState = 'ready' | 'notready';
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface WorkloadSource {
  countPods(): Partial<Record<PodState, number>>;
  countContainers(): Partial<Record<ContainerState, number>>;
}

const POD_STATES: PodState[] = ['ready', 'notready'];
const CONTAINER_STATES: ContainerState[] = ['created', 'running', 'exited', 'unknown'];

export function workloadGauges(registry: client.Registry): { setSource(source: WorkloadSource): void } {
  let source: WorkloadSource | undefined;

  // Every known state is written, zeros included, so a state that empties reads 0 rather than
  // vanishing; with no source yet nothing is written: the count is unknown, not zero.
  function fill<S extends string>(
    gauge: client.Gauge<'state'>,
    states: S[],
    counts: Partial<Record<S, number>>,
  ) {
    gauge.reset();
    for (const state of states) gauge.set({ state }, counts[state] ?? 0);
  }

  new client.Gauge({
    name: 'nodelet_pods',
    help: 'Pod sandboxes known to nodelet, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      if (source) fill(this, POD_STATES, source.countPods());
    },
  });
  new client.Gauge({
    name: 'nodelet_containers',
    help: 'Containers known to nodelet, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      if (source) fill(this, CONTAINER_STATES, source.countContainers());
    },
  });
  return {
    setSource: (next) => {
      source = next;
    },
  };
}
