// The eviction manager (pkg/kubelet/eviction/eviction_manager.go): every monitoring period it
// measures the signals, keeps the node's pressure conditions (held for the transition period after
// the last time a threshold was met), evicts a pod whose emptyDir outgrew its sizeLimit, and when a
// threshold has been met for its grace period evicts one pod, the first of the kubelet's ranking.
// Critical pods (static, system-critical priority) are never evicted.
import path from 'node:path';
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import { isCriticalPod } from '../admission/admit';
import { podRequests } from '../admission/requests';
import type { Pod } from '../pod_spec';
import { bytes } from '../quantity';
import { formatBytes, Signal, Threshold, thresholdAmount, thresholdText } from './config';
import { rankForEviction, SIGNAL_RESOURCE, type PodUsage } from './ranking';
import { directoryUsage, type Observations } from './signals';

export const EVICTED_REASON = 'Evicted';
/** The kubelet's default housekeeping interval, which drives its eviction checks. */
export const DEFAULT_MONITORING_PERIOD_MS = 10_000;
/** Hard thresholds kill at once: the kubelet's immediateEvictionGracePeriodSeconds. */
const IMMEDIATE_GRACE_S = 1;

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

const SIGNAL_CONDITION: Record<Signal, PressureCondition> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** An admitted, running pod as the manager sees it. */
export interface ActivePod {
  uid: string;
  pod: Pod;
  static: boolean;
  /** <root-dir>/pods/<uid>: its volumes. */
  podDir: string;
  /** Its container logs. */
  logDir?: string;
  /** Its memory and pids use, from its pod cgroup; undefined when unknown. */
  cgroupUsage?: () => { memory?: number; pids?: number } | undefined;
}

export interface Eviction {
  uid: string;
  message: string;
  /** The grace period the pod gets. */
  graceS: number;
}

export interface EvictionManagerOptions {
  thresholds: Threshold[];
  pressureTransitionMs: number;
  /** evictionMaxPodGracePeriod: for soft thresholds, the longest grace period a pod gets. */
  maxPodGraceS: number;
  observe: () => Observations;
  pods: () => ActivePod[];
  evict: (e: Eviction) => void;
  /** Told when the set of pressure conditions changes. */
  onPressure?: (conditions: PressureCondition[]) => void;
  /** A Warning event on the Node (EvictionThresholdMet). */
  onNodeEvent?: (reason: string, message: string) => void;
  log: Logger;
}

/** A whole count as resource.Quantity prints a DecimalSI value: "5k" when it divides, else digits. */
function formatCount(n: number): string {
  for (const [suffix, size] of [
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const)
    if (n !== 0 && n % size === 0) return `${n / size}${suffix}`;
  return String(n);
}

export class EvictionManager {
  private firstObservedMs = new Map<Threshold, number>();
  private conditionLastSeenMs = new Map<PressureCondition, number>();
  private conditions: PressureCondition[] = [];
  /** Pods already told to go: not chosen again while they stop. */
  private readonly evicted = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EvictionManagerOptions) {}

  /** The node's pressure conditions now. */
  pressure(): PressureCondition[] {
    return [...this.conditions];
  }

  start(periodMs = DEFAULT_MONITORING_PERIOD_MS): void {
    const tick = () => {
      try {
        this.synchronize();
      } catch (err) {
        this.options.log.warn({ err: messageOf(err) }, 'eviction manager: cannot check the node');
      }
      this.timer = setTimeout(tick, periodMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** One round; returns the eviction made, if any. */
  synchronize(nowMs = Date.now()): Eviction | undefined {
    const { options } = this;
    const observations = options.observe();
    const met = options.thresholds.filter((t) => {
      const o = observations[t.signal];
      return o !== undefined && o.available < thresholdAmount(t, o.capacity);
    });
    const first = new Map<Threshold, number>();
    for (const t of met) first.set(t, this.firstObservedMs.get(t) ?? nowMs);
    this.firstObservedMs = first;
    for (const t of met) this.conditionLastSeenMs.set(SIGNAL_CONDITION[t.signal], nowMs);
    const conditions = (['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const).filter((c) => {
      const seen = this.conditionLastSeenMs.get(c);
      return seen !== undefined && nowMs - seen < options.pressureTransitionMs;
    });
    if (conditions.join() !== this.conditions.join()) {
      this.conditions = conditions;
      options.log.info({ conditions }, 'node pressure conditions changed');
      options.onPressure?.(conditions);
    }
    const active = options.pods().filter((p) => !this.evicted.has(p.uid));
    const known = new Set(options.pods().map((p) => p.uid));
    for (const uid of this.evicted) if (!known.has(uid)) this.evicted.delete(uid);

    const local = this.emptyDirEviction(active);
    if (local) return this.evict(local);

    const due = met.filter((t) => nowMs - first.get(t)! >= t.gracePeriodMs);
    if (due.length === 0) return undefined;
    // Memory first (byEvictionPriority), then the order of the configuration.
    const threshold = due.find((t) => t.signal === 'memory.available') ?? due[0];
    const resource = SIGNAL_RESOURCE[threshold.signal];
    options.onNodeEvent?.('EvictionThresholdMet', `Attempting to reclaim ${resource}`);
    const obs = observations[threshold.signal]!;
    const show = resource === 'inodes' || resource === 'pids' ? formatCount : formatBytes;
    const message =
      `The node was low on resource: ${resource}. ` +
      `Threshold quantity: ${thresholdText(threshold, obs.capacity)}, available: ${show(Math.max(0, obs.available))}. `;
    const candidates = active.filter((p) => !isCriticalPod(p));
    const ranked = rankForEviction(
      candidates.map((p) => this.usageOf(p, resource)),
      resource,
    );
    const victim = ranked[0];
    if (!victim) {
      options.log.warn({ signal: threshold.signal }, 'eviction threshold met but no pod can be evicted');
      return undefined;
    }
    const pod = candidates.find((p) => p.uid === victim.uid)!;
    const own = pod.pod.spec.terminationGracePeriodSeconds ?? 30;
    const graceS = threshold.hard ? IMMEDIATE_GRACE_S : Math.min(options.maxPodGraceS || own, own);
    return this.evict({ uid: pod.uid, message, graceS });
  }

  private evict(e: Eviction): Eviction {
    this.evicted.add(e.uid);
    this.options.log.info({ uid: e.uid, message: e.message }, 'evicting pod');
    this.options.evict(e);
    return e;
  }

  /** emptyDirLimitEviction: the first emptyDir of a pod that holds more than its sizeLimit. */
  private emptyDirEviction(pods: ActivePod[]): Eviction | undefined {
    for (const p of pods) {
      if (isCriticalPod(p)) continue;
      for (const v of p.pod.spec.volumes ?? []) {
        const limit = v.emptyDir?.sizeLimit;
        if (limit === undefined || bytes(limit) <= 0) continue;
        const dir = path.join(p.podDir, 'volumes', 'kubernetes.io~empty-dir', v.name);
        if (directoryUsage(dir).bytes > bytes(limit))
          return {
            uid: p.uid,
            message: `Usage of EmptyDir volume "${v.name}" exceeds the limit "${String(limit)}". `,
            graceS: 0,
          };
      }
    }
    return undefined;
  }

  private usageOf(p: ActivePod, resource: string): PodUsage {
    const req = podRequests(p.pod);
    const priority = (p.pod.spec as { priority?: unknown }).priority;
    const usage: PodUsage['usage'] = {};
    if (resource === 'memory' || resource === 'pids') Object.assign(usage, p.cgroupUsage?.() ?? {});
    else {
      const vol = directoryUsage(p.podDir);
      const logs = p.logDir ? directoryUsage(p.logDir) : { bytes: 0, inodes: 0 };
      usage.disk = vol.bytes + logs.bytes;
      usage.inodes = vol.inodes + logs.inodes;
    }
    return {
      uid: p.uid,
      priority: typeof priority === 'number' ? priority : 0,
      requests: { memory: req.memory, ephemeralStorage: req.ephemeralStorage },
      usage,
    };
  }
}
