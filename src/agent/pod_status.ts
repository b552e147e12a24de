// The pod's status in the API's shape (v1.PodStatus), derived from what the runtime reports, the
// probes' results and why containers wait. Kept in memory and, in standalone mode, written to
// <root-dir>/pods/<uid>/status.json (temp file + rename) for a person to read.
import fs from 'node:fs';
import path from 'node:path';
import type { Requirements } from './allocation';
import { byNewest, ObservedContainer, ObservedPod } from './observed';
import type { Container, Pod } from './pod_spec';
import type { QosClass } from './qos';
import { isSidecar } from './sidecar';

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
  /** The requests the node allocated to the container (InPlacePodVerticalScaling). */
  allocatedResources?: Record<string, string | number>;
  /** The resources applied to the container now: while running, what the runtime was given. */
  resources?: Requirements;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason?: string;
  message?: string;
  /** The pod generation the condition was set for (the resize conditions carry it). */
  observedGeneration?: number;
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
  /** Of the pod's ephemeral containers (ephemeral.ts), when it has any. */
  ephemeralContainerStatuses?: ContainerStatusView[];
  /** The metadata.generation of the pod spec this status was made for (observed_generation.ts). */
  observedGeneration?: number;
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
  /** The pod will not run again (its containers finished for good, or its deadline passed). */
  terminal?: boolean;
  /** Conditions others set on the pod (readiness gates, DisruptionTarget): kept, and gates read. */
  otherConditions?: PodCondition[];
  /** Why the node ended the pod (DeadlineExceeded): phase Failed with this reason and message. */
  ended?: { reason: string; message: string };
  /** PodResizePending and PodResizeInProgress, when set (pod_resize.ts). */
  resizeConditions?: PodCondition[];
  /** The resources applied to a running container (by id), when the agent knows them. */
  applied?: (name: string, containerId: string) => Requirements | undefined;
}

/** The conditions the kubelet writes; any other type on a pod belongs to someone else. */
export const KUBELET_CONDITIONS = new Set([
  'PodReadyToStartContainers',
  'Initialized',
  'Ready',
  'ContainersReady',
  'PodScheduled',
  'PodResizePending',
  'PodResizeInProgress',
]);

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
  kind: 'app' | 'init' | 'sidecar',
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
    // The kubelet's default: a pod with init containers shows every container not seen yet as
    // PodInitializing, init and app ones alike (convertToAPIContainerStatuses).
    state: {
      waiting: { reason: inputs.pod.spec.initContainers?.length ? 'PodInitializing' : 'ContainerCreating' },
    },
    lastState: {},
  };
  if (!last) {
    if (waitingReason) view.state = { waiting: waitingReason };
    return view;
  }
  view.containerID = `${inputs.runtimeName}://${last.id}`;
  // The kubelet's convertContainerStatusResources: the allocation, or while running what is applied.
  if (spec.resources?.requests) view.allocatedResources = { ...spec.resources.requests };
  const applied = last.state === 'running' ? inputs.applied?.(spec.name, last.id) : undefined;
  view.resources = { ...(applied ?? resourcesOf(spec)) };
  if (last.state === 'running') {
    const probe = inputs.probes(last.id);
    view.state = { running: { startedAt: iso(last.startedAtMs) } };
    view.started = probe.started;
    // A regular init container is ready only once it has completed (the kubelet's prober manager).
    view.ready = kind !== 'init' && probe.started && probe.ready;
    if (before?.state === 'exited') view.lastState = terminated(before, inputs.runtimeName);
  } else if (last.state === 'exited') {
    if (waitingReason) {
      view.state = { waiting: waitingReason };
      view.lastState = terminated(last, inputs.runtimeName);
    } else {
      view.state = terminated(last, inputs.runtimeName);
      if (before?.state === 'exited') view.lastState = terminated(before, inputs.runtimeName);
      view.ready = kind === 'init' && last.exitCode === 0;
    }
  } else if (waitingReason) view.state = { waiting: waitingReason };
  return view;
}

function resourcesOf(c: Container): Requirements {
  return {
    ...(c.resources?.requests ? { requests: { ...c.resources.requests } } : {}),
    ...(c.resources?.limits ? { limits: { ...c.resources.limits } } : {}),
  };
}

const isRunning = (s: ContainerStatusView) => 'running' in s.state;
const terminatedOf = (s: ContainerStatusView) => ('terminated' in s.state ? s.state.terminated : undefined);
const lastTerminatedOf = (s: ContainerStatusView) =>
  'terminated' in s.lastState ? (s.lastState as { terminated: { exitCode: number } }).terminated : undefined;

/** The kubelet's getPhase, sidecars included. */
function phaseOf(
  pod: Pod,
  inits: ContainerStatusView[],
  apps: ContainerStatusView[],
  facts: { terminal: boolean; initialized: boolean },
): PodStatusView['phase'] {
  const policy = pod.spec.restartPolicy ?? 'Always';
  const initSpecs = pod.spec.initContainers ?? [];
  let pendingInits = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  inits.forEach((s, i) => {
    const done = terminatedOf(s);
    if (isSidecar(initSpecs[i])) {
      // A sidecar holds the pod in Pending only until it has started; its exits never count.
      if (isRunning(s)) {
        running++;
        if (!s.started) pendingSidecars++;
      } else if (!done && !lastTerminatedOf(s)) pendingSidecars++;
      return;
    }
    if (isRunning(s)) pendingInits++;
    else if (done) {
      if (done.exitCode !== 0) failedInit++;
    } else if (lastTerminatedOf(s)) {
      if (lastTerminatedOf(s)!.exitCode !== 0) failedInit++;
    } else pendingInits++;
  });
  for (const s of apps) {
    const done = terminatedOf(s);
    if (isRunning(s)) running++;
    else if (done) {
      stopped++;
      if (done.exitCode === 0) succeeded++;
    } else if (lastTerminatedOf(s)) stopped++;
    else waiting++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInits > 0 || (pendingSidecars > 0 && !facts.initialized) || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    // A terminal pod's containers will not restart, whatever its restart policy.
    if (facts.terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
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
  detail: { reason?: string; message?: string } = {},
): PodCondition {
  const before = previous?.conditions.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : iso(Date.now());
  return {
    type,
    status,
    lastTransitionTime,
    ...(detail.reason ? { reason: detail.reason } : {}),
    ...(detail.message ? { message: detail.message } : {}),
  };
}

/** A list of names as Go's %s prints a []string: [a b]. */
const goList = (names: string[]) => `[${names.join(' ')}]`;

function unreadyMessage(unknown: string[], notDone: string[], what: string): string {
  const parts: string[] = [];
  if (unknown.length) parts.push(`containers with unknown status: ${goList(unknown)}`);
  if (notDone.length) parts.push(`containers with ${what} status: ${goList(notDone)}`);
  return parts.join(', ');
}

/** Initialized, ContainersReady and Ready, with the kubelet's reasons and messages (status/generate.go). */
function readinessConditions(
  inputs: StatusInputs,
  inits: ContainerStatusView[],
  apps: ContainerStatusView[],
  phase: PodStatusView['phase'],
  anyAppStarted: boolean,
): PodCondition[] {
  const { pod, previous } = inputs;
  const initSpecs = pod.spec.initContainers ?? [];
  const incomplete = inits
    .filter((s, i) => (isSidecar(initSpecs[i]) ? !s.started : !s.ready))
    .map((s) => s.name);
  const initialized =
    phase === 'Succeeded'
      ? condition('Initialized', true, previous, { reason: 'PodCompleted' })
      : anyAppStarted || incomplete.length === 0
        ? condition('Initialized', true, previous)
        : condition('Initialized', false, previous, {
            reason: 'ContainersNotInitialized',
            message: unreadyMessage([], incomplete, 'incomplete'),
          });

  const counted = [...inits.filter((_, i) => isSidecar(initSpecs[i])), ...apps];
  const unready = counted.filter((s) => !s.ready).map((s) => s.name);
  let containersReady: { ok: boolean; reason?: string; message?: string };
  if (phase === 'Succeeded') containersReady = { ok: false, reason: 'PodCompleted' };
  else if (phase === 'Failed') containersReady = { ok: false, reason: 'PodFailed' };
  else if (unready.length)
    containersReady = {
      ok: false,
      reason: 'ContainersNotReady',
      message: unreadyMessage([], unready, 'unready'),
    };
  else containersReady = { ok: true };

  let ready = containersReady;
  if (containersReady.ok) {
    const gates: string[] = [];
    for (const { conditionType } of pod.spec.readinessGates ?? []) {
      const c = inputs.otherConditions?.find((o) => o.type === conditionType);
      if (!c) gates.push(`corresponding condition of pod readiness gate "${conditionType}" does not exist.`);
      else if (c.status !== 'True')
        gates.push(`the status of pod readiness gate "${conditionType}" is not "True", but ${c.status}`);
    }
    if (gates.length) ready = { ok: false, reason: 'ReadinessGatesNotReady', message: gates.join(', ') };
  }
  return [
    initialized,
    condition('Ready', ready.ok, previous, ready),
    condition('ContainersReady', containersReady.ok, previous, containersReady),
  ];
}

export function podStatus(inputs: StatusInputs): PodStatusView {
  const { pod, observed } = inputs;
  const all = [...observed.containers].sort(byNewest);
  const historyOf = (name: string) => all.filter((c) => c.name === name);
  const inits = (pod.spec.initContainers ?? []).map((c) =>
    containerView(c, historyOf(c.name), inputs, isSidecar(c) ? 'sidecar' : 'init'),
  );
  const apps = pod.spec.containers.map((c) => containerView(c, historyOf(c.name), inputs, 'app'));
  const sandbox = observed.sandboxes[0];
  // Initialized once an app container exists in the current sandbox (the kubelet's
  // HasAnyActiveRegularContainerStarted): restarting sidecars do not make it Pending again.
  const appNames = new Set(pod.spec.containers.map((c) => c.name));
  const anyAppInSandbox = observed.containers.some(
    (c) => appNames.has(c.name) && c.sandboxId === sandbox?.id,
  );
  let phase = phaseOf(pod, inits, apps, { terminal: inputs.terminal ?? false, initialized: anyAppInSandbox });
  if (inputs.ended) phase = 'Failed';
  const anyAppStarted = apps.some((s) => isRunning(s) || terminatedOf(s) !== undefined);
  // A pod on the host's network has the host's address (the runtime reports none for it).
  const ips = !sandbox?.ready ? [] : pod.spec.hostNetwork ? [inputs.hostIP] : sandbox.ips;
  return {
    phase,
    ...(inputs.ended ?? {}),
    conditions: [
      ...(inputs.otherConditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
      condition('PodReadyToStartContainers', sandbox?.ready ?? false, inputs.previous),
      ...readinessConditions(inputs, inits, apps, phase, anyAppStarted),
      condition('PodScheduled', true, inputs.previous),
      ...(inputs.resizeConditions ?? []),
    ],
    hostIP: inputs.hostIP,
    ...(ips[0] ? { podIP: ips[0] } : {}),
    podIPs: ips.map((ip) => ({ ip })),
    startTime: inputs.startTime,
    qosClass: inputs.qos,
    initContainerStatuses: inits,
    containerStatuses: apps,
    ...(pod.spec.ephemeralContainers?.length
      ? {
          // Never probed and never ready (the kubelet's); started once running.
          ephemeralContainerStatuses: pod.spec.ephemeralContainers.map((c) =>
            containerView(
              c,
              historyOf(c.name),
              { ...inputs, probes: () => ({ started: true, ready: false }) },
              'app',
            ),
          ),
        }
      : {}),
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
