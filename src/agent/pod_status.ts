// The pod's status in the API's shape (v1.PodStatus), derived from what the runtime reports, the
// probes' results and why containers wait. Kept in memory and, in standalone mode, written to
// <root-dir>/pods/<uid>/status.json (temp file + rename) for a person to read.
import fs from 'node:fs';
import path from 'node:path';
import { byNewest, ObservedContainer, ObservedPod } from './observed';
import type { Container, Pod } from './pod_spec';
import type { QosClass } from './qos';

type State =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        startedAt: string;
        finishedAt: string;
        containerID: string;
      };
    };

export interface ContainerStatusView {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: State;
  lastState: State | Record<string, never>;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface PodStatusView {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  reason?: string;
  message?: string;
  conditions: PodCondition[];
  hostIP: string;
  podIP?: string;
  podIPs: { ip: string }[];
  startTime?: string;
  qosClass?: QosClass;
  initContainerStatuses: ContainerStatusView[];
  containerStatuses: ContainerStatusView[];
}

export interface StatusInputs {
  pod: Pod;
  observed: ObservedPod;
  qos: QosClass;
  hostIP: string;
  runtimeName: string;
  startTime: string;
  waiting: Map<string, { reason: string; message: string }>;
  /** Probe results of running containers, by container id. */
  probes: (id: string) => { started: boolean; ready: boolean };
  previous?: PodStatusView;
}

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : '');

function terminated(c: ObservedContainer, runtimeName: string): State {
  const reason = c.reason || (c.exitCode === 0 ? 'Completed' : 'Error');
  return {
    terminated: {
      exitCode: c.exitCode,
      reason,
      ...(c.message ? { message: c.message } : {}),
      startedAt: iso(c.startedAtMs),
      finishedAt: iso(c.finishedAtMs),
      containerID: `${runtimeName}://${c.id}`,
    },
  };
}

function containerView(
  spec: Container,
  history: ObservedContainer[],
  inputs: StatusInputs,
): ContainerStatusView {
  const [last, before] = history;
  const waitingReason = inputs.waiting.get(spec.name);
  const view: ContainerStatusView = {
    name: spec.name,
    image: spec.image,
    imageID: last?.imageRef ?? '',
    ready: false,
    started: false,
    restartCount: last?.restartCount ?? 0,
    state: { waiting: { reason: 'ContainerCreating' } },
    lastState: {},
  };
  if (!last) {
    if (waitingReason) view.state = { waiting: waitingReason };
    return view;
  }
  view.containerID = `${inputs.runtimeName}://${last.id}`;
  if (last.state === 'running') {
    const probe = inputs.probes(last.id);
    view.state = { running: { startedAt: iso(last.startedAtMs) } };
    view.started = probe.started;
    view.ready = probe.started && probe.ready;
    if (before?.state === 'exited') view.lastState = terminated(before, inputs.runtimeName);
  } else if (last.state === 'exited') {
    if (waitingReason) {
      view.state = { waiting: waitingReason };
      view.lastState = terminated(last, inputs.runtimeName);
    } else {
      view.state = terminated(last, inputs.runtimeName);
      if (before?.state === 'exited') view.lastState = terminated(before, inputs.runtimeName);
    }
  } else if (waitingReason) view.state = { waiting: waitingReason };
  return view;
}

/** The kubelet's getPhase, for pods without sidecar containers. */
function phaseOf(
  pod: Pod,
  inits: ContainerStatusView[],
  apps: ContainerStatusView[],
): PodStatusView['phase'] {
  const policy = pod.spec.restartPolicy ?? 'Always';
  const initFailed = inits.some((s) => 'terminated' in s.state && s.state.terminated.exitCode !== 0);
  if (initFailed && policy === 'Never') return 'Failed';
  const initPending = inits.some((s) => !('terminated' in s.state && s.state.terminated.exitCode === 0));
  if (initPending) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of apps) {
    if ('running' in s.state) running++;
    else if ('terminated' in s.state) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if ('terminated' in s.lastState) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

function condition(
  type: string,
  ok: boolean,
  previous: PodStatusView | undefined,
  reason?: string,
): PodCondition {
  const before = previous?.conditions.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : iso(Date.now());
  return { type, status, lastTransitionTime, ...(reason && !ok ? { reason } : {}) };
}

export function podStatus(inputs: StatusInputs): PodStatusView {
  const { pod, observed } = inputs;
  const all = [...observed.containers].sort(byNewest);
  const historyOf = (name: string) => all.filter((c) => c.name === name);
  const inits = (pod.spec.initContainers ?? []).map((c) => containerView(c, historyOf(c.name), inputs));
  const apps = pod.spec.containers.map((c) => containerView(c, historyOf(c.name), inputs));
  const sandbox = observed.sandboxes[0];
  const phase = phaseOf(pod, inits, apps);
  const initialized =
    inits.every((s) => 'terminated' in s.state && s.state.terminated.exitCode === 0) || phase === 'Succeeded';
  const containersReady = apps.every((s) => s.ready);
  // A pod on the host's network has the host's address (the runtime reports none for it).
  const ips = !sandbox?.ready ? [] : pod.spec.hostNetwork ? [inputs.hostIP] : sandbox.ips;
  return {
    phase,
    conditions: [
      condition('PodReadyToStartContainers', sandbox?.ready ?? false, inputs.previous),
      condition('Initialized', initialized, inputs.previous, 'ContainersNotInitialized'),
      condition('Ready', containersReady, inputs.previous, 'ContainersNotReady'),
      condition('ContainersReady', containersReady, inputs.previous, 'ContainersNotReady'),
      condition('PodScheduled', true, inputs.previous),
    ],
    hostIP: inputs.hostIP,
    ...(ips[0] ? { podIP: ips[0] } : {}),
    podIPs: ips.map((ip) => ({ ip })),
    startTime: inputs.startTime,
    qosClass: inputs.qos,
    initContainerStatuses: inits,
    containerStatuses: apps,
  };
}

/** The status of a manifest that cannot run: it is shown, never silently dropped. */
export function rejectedStatus(message: string, hostIP: string, reason = 'InvalidManifest'): PodStatusView {
  return {
    phase: 'Failed',
    reason,
    message,
    conditions: [],
    hostIP,
    podIPs: [],
    initContainerStatuses: [],
    containerStatuses: [],
  };
}

/** Writes status.json by temp file, fsync and rename, so a reader never sees half a file. */
function writeStatusFile(dir: string, status: unknown): void {
  // A pod's directory (0750, as the kubelet's) may be made here first, for a pod that cannot run.
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  const file = path.join(dir, 'status.json');
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, JSON.stringify(status, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** <dir>/status.json of a pod: its identity, its manifest file (static pods) and its status. */
export function writePodStatusFile(
  dir: string,
  pod: { name: string; namespace: string; uid: string; file: string },
  status: PodStatusView,
): void {
  writeStatusFile(dir, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
    manifest: pod.file,
    status,
  });
}

/** The status a previous agent wrote, if any (it is only a starting point: the runtime decides). */
export function readStatusFile(dir: string): PodStatusView | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as { status?: PodStatusView })
      .status;
  } catch {
    return undefined;
  }
}
