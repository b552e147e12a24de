// The node's gate for pods, between the pod set (agent.ts) and the two kubelet managers it stands
// for: admission, which takes or rejects each new pod against the node's allocatable, labels,
// taints and pressure; and eviction, which watches the signals and ends pods when the node runs
// short. The pod set tells it which pods there are; it tells the pod set which to end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../common/log';
import {
  admitPod,
  admitResize,
  type AdmissionNode,
  type Rejection,
  type ResizeRejection,
} from '../admission/admit';
import type { NodeView } from '../admission/node_match';
import { podLogDirectory } from '../cri_config';
import type { DesiredPod } from '../manifest';
import type { Pod } from '../pod_spec';
import type { PodStatusView } from '../pod_status';
import { CgroupDriver, podCgroupParent, qosClass } from '../qos';
import { createCgroupManager, detectCgroups, type CgroupManager } from '../../runtime/cgroups';
import {
  allocatable,
  DEFAULT_PRESSURE_TRANSITION_MS,
  EvictionConfig,
  parseGoDuration,
  parseThresholds,
} from './config';
import { DEFAULT_MONITORING_PERIOD_MS, EvictionManager, PressureCondition, type Eviction } from './manager';
import { observeHost, type Observations } from './signals';

export interface NodeGateConfig extends EvictionConfig {
  /** The kubelet's maxPods (default 110). */
  maxPods?: number;
  /** How often the eviction manager looks (the kubelet's housekeeping period, 10 s). */
  evictionMonitoringPeriodMs?: number;
  /** The runtime's image filesystem; the root directory's when absent. */
  imageFsDir?: string;
  /** The node's labels and taints (connected mode: from its Node object). */
  nodeView?: () => Omit<NodeView, 'name'> | undefined;
  /** Told when the node's pressure conditions change. */
  onPressure?: (conditions: PressureCondition[]) => void;
  /** Told of the node's own events (EvictionThresholdMet). */
  onNodeEvent?: (reason: string, message: string) => void;
  /** For tests: the signals measured another way. */
  observe?: () => Observations;
}

export interface GatePod {
  desired: DesiredPod;
  status: PodStatusView | undefined;
  /** The pod with the resources the node allocated to it (a resize not admitted yet is not in it). */
  allocatedPod?: Pod;
}

export interface NodeGate {
  /** Admission of a new pod: undefined when admitted (it then counts against the node). */
  admit(desired: DesiredPod): Rejection | undefined;
  /** Admission of an admitted pod's resize (`resized` has the new resources): undefined when it fits. */
  admitResize(desired: DesiredPod, resized: Pod): ResizeRejection | undefined;
  /** The pod is gone from the node. */
  forget(uid: string): void;
  pressure(): PressureCondition[];
  stop(): void;
}

/** The capacity the node reports: cores, memory, its root directory's filesystem, pods. */
export function nodeCapacity(rootDir: string, maxPods: number) {
  let ephemeralStorage = 0;
  try {
    const s = fs.statfsSync(rootDir);
    ephemeralStorage = s.blocks * s.bsize;
  } catch {
    // an unreadable root directory: no ephemeral storage to admit against
  }
  return { cpu: os.cpus().length * 1000, memory: os.totalmem(), ephemeralStorage, pods: maxPods };
}

/** Reads the config; an invalid one throws, naming what was refused, before anything starts. */
export function checkNodeGateConfig(config: NodeGateConfig): void {
  parseThresholds(config);
  allocatable({ cpu: 0, memory: 0, ephemeralStorage: 0, pods: 0 }, config);
  if (config.evictionPressureTransitionPeriod !== undefined)
    parseGoDuration(config.evictionPressureTransitionPeriod);
}

const terminal = (s: PodStatusView | undefined) => s?.phase === 'Failed' || s?.phase === 'Succeeded';

export function startNodeGate(
  config: NodeGateConfig,
  node: {
    rootDir: string;
    podLogsDir: string;
    nodeName: string;
    log: Logger;
    cgroupDriver: CgroupDriver;
    cgroupRoot: string;
    pods: () => GatePod[];
    evict: (e: Eviction) => void;
  },
): NodeGate {
  const admitted = new Set<string>();
  const capacity = nodeCapacity(node.rootDir, config.maxPods ?? 110);
  const alloc = allocatable(capacity, config);
  const activePods = () =>
    node.pods().filter((p) => admitted.has(p.desired.uid) && p.desired.pod && !terminal(p.status));
  // The other pods as admitted: with their allocations, not resizes still pending.
  const othersThan = (uid: string) =>
    activePods()
      .filter((p) => p.desired.uid !== uid)
      .map((p) => p.allocatedPod ?? p.desired.pod!);
  let cgroups: CgroupManager | undefined;
  const cgroupUsage = (p: GatePod) => () => {
    if (node.cgroupDriver !== 'cgroupfs' || !p.desired.pod) return undefined;
    try {
      cgroups ??= createCgroupManager(detectCgroups());
      const parent = podCgroupParent(p.desired.uid, qosClass(p.desired.pod), {
        driver: 'cgroupfs',
        cgroupRoot: node.cgroupRoot,
      });
      const s = cgroups.stats(parent);
      return { memory: s.memory?.workingSetBytes, pids: s.pids?.current };
    } catch {
      return undefined;
    }
  };
  const eviction = new EvictionManager({
    thresholds: parseThresholds(config),
    pressureTransitionMs:
      config.evictionPressureTransitionPeriod !== undefined
        ? parseGoDuration(config.evictionPressureTransitionPeriod)
        : DEFAULT_PRESSURE_TRANSITION_MS,
    maxPodGraceS: config.evictionMaxPodGracePeriod ?? 0,
    observe: config.observe ?? (() => observeHost({ rootDir: node.rootDir, imageFsDir: config.imageFsDir })),
    pods: () =>
      activePods().map((p) => ({
        uid: p.desired.uid,
        pod: p.desired.pod!,
        static: p.desired.source !== 'api',
        podDir: path.join(node.rootDir, 'pods', p.desired.uid),
        logDir: podLogDirectory(node.podLogsDir, p.desired.pod!),
        cgroupUsage: cgroupUsage(p),
      })),
    evict: node.evict,
    onPressure: config.onPressure,
    onNodeEvent: config.onNodeEvent,
    log: node.log,
  });
  eviction.start(config.evictionMonitoringPeriodMs ?? DEFAULT_MONITORING_PERIOD_MS);
  return {
    admit(desired) {
      if (!desired.pod) return undefined;
      const view = config.nodeView?.();
      const admissionNode: AdmissionNode = {
        name: node.nodeName,
        labels: view?.labels ?? { 'kubernetes.io/hostname': node.nodeName, 'kubernetes.io/os': 'linux' },
        taints: view?.taints ?? [],
        allocatable: alloc,
        pressure: eviction.pressure(),
      };
      const rejection = admitPod(
        { pod: desired.pod, static: desired.source !== 'api' },
        othersThan(desired.uid),
        admissionNode,
      );
      if (!rejection) admitted.add(desired.uid);
      return rejection;
    },
    admitResize: (desired, resized) => admitResize(resized, othersThan(desired.uid), alloc),
    forget: (uid) => admitted.delete(uid),
    pressure: () => eviction.pressure(),
    stop: () => eviction.stop(),
  };
}
