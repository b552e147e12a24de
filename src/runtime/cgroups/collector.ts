// One collector reads every tracked cgroup each period and keeps the latest sample per id, so the
// CRI stats RPCs and the Prometheus endpoint read the same cached numbers and no call fans out to
// the kernel. usage_nano_cores needs two readings: it is the CPU time between the last two
// samples divided by the wall time between them.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { isNodeletError } from './errors_util';
import type { CgroupManager } from './manager';
import { defaultInterface, readNetDev } from './netdev';
import type { CgroupStats, NetworkInterfaceStats } from './types';

export interface ContainerStatsSample extends Omit<CgroupStats, 'cpu' | 'memory'> {
  id: string;
  cgroup: string;
  cpu: CgroupStats['cpu'] & {
    /** Cores in use (1e9 = one core) between the last two samples; absent after the first. */
    usageNanoCores?: number;
  };
  memory?: NonNullable<CgroupStats['memory']> & { availableBytes?: number };
  network?: { defaultInterface?: NetworkInterfaceStats; interfaces: NetworkInterfaceStats[] };
}

export interface TrackOptions {
  cgroup: string;
  /** A process in the pod's network namespace, for network counters (pods, not containers). */
  netPid?: () => number | undefined;
}

export interface StatsCollectorOptions {
  /** How often refresh() runs once start() is called (default 10 s). */
  periodMs?: number;
  procRoot?: string;
  /** Called when one cgroup cannot be read; the others go on. */
  onError?: (id: string, err: unknown) => void;
}

/** Containers read before the collector lets other callbacks run. */
const BATCH = 50;

export class StatsCollector {
  private readonly targets = new Map<string, TrackOptions>();
  private readonly latest = new Map<string, ContainerStatsSample>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly manager: Pick<CgroupManager, 'stats'>,
    private readonly opts: StatsCollectorOptions = {},
  ) {}

  track(id: string, target: TrackOptions): void {
    this.targets.set(id, target);
  }

  untrack(id: string): void {
    this.targets.delete(id);
    this.latest.delete(id);
  }

  tracked(): string[] {
    return [...this.targets.keys()];
  }

  /** The latest sample; read at once when the id has none yet (a container just started). */
  sample(id: string): ContainerStatsSample | undefined {
    const cached = this.latest.get(id);
    if (cached !== undefined || !this.targets.has(id)) return cached;
    this.readOne(id);
    return this.latest.get(id);
  }

  samples(): ContainerStatsSample[] {
    return [...this.latest.values()];
  }

  /** Reads every tracked cgroup once. Overlapping calls share one pass. */
  refresh(): Promise<void> {
    this.running ??= this.readAll().finally(() => (this.running = undefined));
    return this.running;
  }

  start(): void {
    if (this.timer !== undefined) return;
    const next = () => {
      if (this.timer === undefined) return;
      this.timer = setTimeout(tick, this.opts.periodMs ?? 10_000);
      this.timer.unref();
    };
    // refresh() does not reject: readOne hands every failure to onError.
    const tick = () => void this.refresh().then(next, next);
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async readAll(): Promise<void> {
    let n = 0;
    for (const id of [...this.targets.keys()]) {
      this.readOne(id);
      if (++n % BATCH === 0) await yieldToLoop();
    }
  }

  private readOne(id: string): void {
    const target = this.targets.get(id);
    if (target === undefined) return;
    try {
      this.latest.set(id, this.sampleOf(id, target));
    } catch (err) {
      // A cgroup removed under us is the usual case at container exit: forget, don't report.
      if (!isNodeletError(err, 'NotFound')) this.opts.onError?.(id, err);
      this.latest.delete(id);
    }
  }

  private sampleOf(id: string, target: TrackOptions): ContainerStatsSample {
    const stats = this.manager.stats(target.cgroup);
    const previous = this.latest.get(id);
    const sample: ContainerStatsSample = { ...stats, id, cgroup: target.cgroup, cpu: { ...stats.cpu } };
    if (previous !== undefined) {
      const wallNs = Number(stats.timestampNs - previous.timestampNs);
      const cpuNs = stats.cpu.usageNs - previous.cpu.usageNs;
      if (wallNs > 0 && cpuNs >= 0) sample.cpu.usageNanoCores = Math.round((cpuNs * 1e9) / wallNs);
    }
    if (stats.memory !== undefined) {
      const { limitBytes, workingSetBytes } = stats.memory;
      sample.memory = {
        ...stats.memory,
        availableBytes: limitBytes === undefined ? undefined : Math.max(0, limitBytes - workingSetBytes),
      };
    }
    const pid = target.netPid?.();
    const ifaces = pid === undefined ? undefined : readNetDev(pid, this.opts.procRoot);
    if (ifaces !== undefined)
      sample.network = { defaultInterface: defaultInterface(ifaces), interfaces: ifaces };
    return sample;
  }
}
