// The kubelet's eviction thresholds and resource reservations (KubeletConfiguration evictionHard,
// evictionSoft, evictionSoftGracePeriod, systemReserved, kubeReserved and their flags), read once at
// start, and the node's allocatable: capacity minus the reservations and the hard eviction
// thresholds of memory and ephemeral storage (pkg/kubelet/cm/node_container_manager_linux.go).
import { parseQuantity } from '../../common/quantity';
import type { Allocatable } from '../admission/admit';
import { bytes, cpuMillis } from '../quantity';

export const SIGNALS = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'pid.available',
] as const;
export type Signal = (typeof SIGNALS)[number];

/** DefaultEvictionHard of the kubelet on Linux (pkg/kubelet/eviction/defaults_linux.go). */
export const DEFAULT_EVICTION_HARD: Record<string, string> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
};
/** The kubelet's default evictionPressureTransitionPeriod. */
export const DEFAULT_PRESSURE_TRANSITION_MS = 5 * 60_000;

export interface Threshold {
  signal: Signal;
  /** An absolute quantity (bytes, inodes, pids) or a fraction of the capacity. */
  value: { quantity: number } | { percentage: number };
  /** 0 for hard thresholds; soft ones must be met this long before a pod is evicted. */
  gracePeriodMs: number;
  hard: boolean;
}

/** The settings as the KubeletConfiguration names them (maps of strings, durations as strings). */
export interface EvictionConfig {
  evictionHard?: Record<string, string>;
  evictionSoft?: Record<string, string>;
  evictionSoftGracePeriod?: Record<string, string>;
  evictionPressureTransitionPeriod?: string;
  /** Longest grace period (s) a pod evicted by a soft threshold gets; 0: its own. */
  evictionMaxPodGracePeriod?: number;
  systemReserved?: Record<string, string>;
  kubeReserved?: Record<string, string>;
}

/** A Go duration ("1m30s", "500ms", "2h") in milliseconds. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '0') return 0;
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`Cannot parse duration '${text}': expected e.g. 1m30s, 500ms`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]], 0);
}

function thresholdValue(signal: string, text: string): Threshold['value'] {
  if (text.endsWith('%')) {
    const pct = Number(text.slice(0, -1));
    if (!Number.isFinite(pct) || pct < 0 || pct > 100)
      throw new Error(
        `Cannot use eviction threshold ${signal}<${text}: a percentage must be from 0% to 100%`,
      );
    return { percentage: pct / 100 };
  }
  let quantity: number;
  try {
    quantity = parseQuantity(text);
  } catch {
    throw new Error(`Cannot use eviction threshold ${signal}<${text}: not a quantity or percentage`);
  }
  if (quantity < 0)
    throw new Error(`Cannot use eviction threshold ${signal}<${text}: it must not be negative`);
  return { quantity };
}

function checkSignal(signal: string, where: string): Signal {
  if (!(SIGNALS as readonly string[]).includes(signal))
    throw new Error(
      `Cannot use ${where} '${signal}': unknown eviction signal (known: ${SIGNALS.join(', ')})`,
    );
  return signal as Signal;
}

/** The thresholds of the config; evictionHard replaces the defaults when given, as the kubelet's. */
export function parseThresholds(config: EvictionConfig): Threshold[] {
  const thresholds: Threshold[] = [];
  for (const [signal, text] of Object.entries(config.evictionHard ?? DEFAULT_EVICTION_HARD)) {
    const value = thresholdValue(checkSignal(signal, 'evictionHard'), text);
    // A zero threshold turns the signal off (the kubelet drops it too).
    if ('quantity' in value ? value.quantity === 0 : value.percentage === 0) continue;
    thresholds.push({ signal: signal as Signal, value, gracePeriodMs: 0, hard: true });
  }
  const graces = config.evictionSoftGracePeriod ?? {};
  for (const signal of Object.keys(graces)) {
    checkSignal(signal, 'evictionSoftGracePeriod');
    if (config.evictionSoft?.[signal] === undefined)
      throw new Error(`Cannot use evictionSoftGracePeriod of '${signal}': it has no evictionSoft threshold`);
  }
  for (const [signal, text] of Object.entries(config.evictionSoft ?? {})) {
    const value = thresholdValue(checkSignal(signal, 'evictionSoft'), text);
    if (graces[signal] === undefined)
      throw new Error(
        `Cannot use evictionSoft '${signal}': it needs a grace period in evictionSoftGracePeriod`,
      );
    thresholds.push({
      signal: signal as Signal,
      value,
      gracePeriodMs: parseGoDuration(graces[signal]),
      hard: false,
    });
  }
  return thresholds;
}

/** The amount a threshold stands for, given the signal's capacity. */
export function thresholdAmount(t: Threshold, capacity: number): number {
  return 'quantity' in t.value ? t.value.quantity : Math.floor(t.value.percentage * capacity);
}

/** What a threshold looks like in messages: "100Mi", "10%", as written. */
export function thresholdText(t: Threshold, capacity: number): string {
  return 'quantity' in t.value ? formatBytes(t.value.quantity) : formatBytes(thresholdAmount(t, capacity));
}

/** A byte count as a Kubernetes quantity string of the binary suffixes (resource.Quantity.String). */
export function formatBytes(n: number): string {
  for (const [suffix, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const)
    if (n !== 0 && n % size === 0) return `${n / size}${suffix}`;
  return String(n);
}

const RESERVABLE = ['cpu', 'memory', 'ephemeral-storage', 'pid'];

/** systemReserved or kubeReserved as numbers (cpu in millicores, the rest in bytes or pids). */
export function parseReserved(list: Record<string, string> | undefined, key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, text] of Object.entries(list ?? {})) {
    if (!RESERVABLE.includes(name))
      throw new Error(`Cannot use ${key} '${name}': only ${RESERVABLE.join(', ')} may be reserved`);
    try {
      out[name] = name === 'cpu' ? cpuMillis(text) : bytes(text);
    } catch {
      throw new Error(`Cannot use ${key} ${name}=${text}: not a quantity`);
    }
    if (out[name] < 0) throw new Error(`Cannot use ${key} ${name}=${text}: it must not be negative`);
  }
  return out;
}

export interface Capacity {
  /** millicores */
  cpu: number;
  memory: number;
  ephemeralStorage: number;
  pods: number;
}

/** Capacity minus systemReserved, kubeReserved and the hard memory and nodefs thresholds; never below 0. */
export function allocatable(capacity: Capacity, config: EvictionConfig): Allocatable {
  const system = parseReserved(config.systemReserved, 'systemReserved');
  const kube = parseReserved(config.kubeReserved, 'kubeReserved');
  const hard = parseThresholds(config).filter((t) => t.hard);
  const evictionReserve = (signal: Signal, cap: number) => {
    const t = hard.find((h) => h.signal === signal);
    return t ? thresholdAmount(t, cap) : 0;
  };
  const reserved = (name: string) => (system[name] ?? 0) + (kube[name] ?? 0);
  return {
    cpu: Math.max(0, capacity.cpu - reserved('cpu')),
    memory: Math.max(
      0,
      capacity.memory - reserved('memory') - evictionReserve('memory.available', capacity.memory),
    ),
    ephemeralStorage: Math.max(
      0,
      capacity.ephemeralStorage -
        reserved('ephemeral-storage') -
        evictionReserve('nodefs.available', capacity.ephemeralStorage),
    ),
    pods: capacity.pods,
  };
}

/** Flag text "a=b,c=d" (or "a<b,c<d" for thresholds) as a map. */
export function parseMapFlag(flag: string, text: string, separator: '=' | '<'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = part.indexOf(separator);
    if (at <= 0 || at === part.length - 1)
      throw new Error(
        `Cannot read --${flag}=${text}: expected name${separator}value pairs separated by commas`,
      );
    out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}
