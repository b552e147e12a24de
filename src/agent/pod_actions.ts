// What one sync of a pod must do, decided from the spec and what the runtime reports (as the
// kubelet's computePodActions with native sidecars). Pure: the worker executes the result, unit tests
// check the decisions.
//
//   no ready sandbox ──► kill what is left, create sandbox (attempt+1), start the first init container
//   init i exited 0  ──► start init i+1 … then every app container
//   sidecar i started (startupProbe passed) ──► start init i+1; it is kept running from then on
//   init failed      ──► Never: pod Failed; else restart it after back-off
//   sidecar exited   ──► restart after back-off, whatever the pod's restartPolicy
//   app running      ──► spec hash changed or liveness/startup failed: kill (the next sync restarts it)
//   app exited       ──► Always, or OnFailure with exit≠0, or spec changed: restart after back-off
//                        (CrashLoopBackOff while waiting); otherwise it stays terminated
//   apps all done    ──► kill the pod, sidecars too: they never keep a finished pod alive
//   past activeDeadlineSeconds ──► kill the pod, start nothing
import type { Backoff } from './backoff';
import { containerHash } from './labels';
import { latestByName, ObservedContainer, ObservedPod } from './observed';
import type { Container, Pod } from './pod_spec';
import { isSidecar } from './sidecar';

export interface StartAction {
  container: Container;
  init: boolean;
  restartCount: number;
}

export type KillReason =
  'SpecChanged' | 'LivenessProbe' | 'StartupProbe' | 'NotStarted' | 'PodTerminated' | 'ResizeRestart';

export interface KillAction {
  id: string;
  name: string;
  reason: KillReason;
  /** The Killing event's message, in the kubelet's words (default `Stopping container <name>`). */
  message?: string;
}

export interface PodActions {
  /** Kill every running container of the pod and stop its sandbox (before a new sandbox, or when done). */
  killPod: boolean;
  createSandbox: { attempt: number } | null;
  kill: KillAction[];
  start: StartAction[];
  /** Containers that wait, and why (CrashLoopBackOff, PodInitializing). */
  waiting: Map<string, { reason: string; message: string }>;
  /** Containers held back by the restart back-off, with the exited container that started it. */
  backingOff: { name: string; lastId: string }[];
  /** Every container has finished for good (restartPolicy Never/OnFailure), or the deadline passed. */
  terminal: boolean;
  /** Look again after this many ms even if nothing happens (the end of a back-off). */
  requeueMs?: number;
}

export type ProbeFailure = 'liveness' | 'startup';

export interface ComputeOptions {
  backoff: Backoff;
  /** Running containers (by id) whose liveness or startup probe has failed, and which of the two. */
  unhealthy: Map<string, ProbeFailure>;
  /** Running containers (by id) whose startup probe has succeeded; a sidecar with one waits for it. */
  started?: Set<string>;
  /** Container names whose image cannot be pulled yet: they wait (ImagePullBackOff) and are not started. */
  imageBlocked?: Map<string, { reason: string; message: string }>;
  /** The pod has been active longer than spec.activeDeadlineSeconds: stop everything for good. */
  deadlineExceeded?: boolean;
}

function backoffKey(pod: Pod, c: Container): string {
  return `${pod.metadata.uid}/${c.name}/${containerHash(c)}`;
}

function shouldRestart(pod: Pod, c: Container, last: ObservedContainer): boolean {
  if (last.hash !== containerHash(c) || isSidecar(c)) return true;
  const policy = pod.spec.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && last.exitCode !== 0);
}

function nextRestartCount(all: ObservedContainer[], name: string): number {
  const previous = all.filter((c) => c.name === name);
  return previous.length === 0 ? 0 : Math.max(...previous.map((c) => c.restartCount)) + 1;
}

function emptyActions(): PodActions {
  return {
    killPod: false,
    createSandbox: null,
    kill: [],
    start: [],
    waiting: new Map(),
    backingOff: [],
    terminal: false,
  };
}

export function computePodActions(pod: Pod, observed: ObservedPod, options: ComputeOptions): PodActions {
  const actions = emptyActions();
  const policy = pod.spec.restartPolicy ?? 'Always';
  const inits = pod.spec.initContainers ?? [];
  const sandbox = observed.sandboxes[0];

  if (options.deadlineExceeded) {
    actions.terminal = true;
    actions.killPod = (sandbox?.ready ?? false) || observed.containers.some((c) => c.state === 'running');
    return actions;
  }

  if (!sandbox || !sandbox.ready) {
    const ranBefore = sandbox !== undefined && observed.containers.length > 0;
    const appsDone = pod.spec.containers.every((c) => {
      const last = observed.containers.find((o) => o.name === c.name);
      return last !== undefined && last.state === 'exited' && !shouldRestart(pod, c, last);
    });
    // A pod that ran and may not restart (Never, or everything finished under OnFailure) stays down.
    if (ranBefore && (policy === 'Never' || appsDone)) {
      actions.terminal = true;
      actions.killPod = observed.containers.some((c) => c.state === 'running');
      return actions;
    }
    actions.killPod = sandbox !== undefined;
    actions.createSandbox = { attempt: sandbox ? sandbox.attempt + 1 : 0 };
    const first = inits.length > 0 ? [inits[0]] : pod.spec.containers;
    for (const c of first) {
      actions.start.push({
        container: c,
        init: inits.length > 0,
        restartCount: nextRestartCount(observed.containers, c.name),
      });
    }
    return actions;
  }

  const current = observed.containers.filter((c) => c.sandboxId === sandbox.id);
  const latest = latestByName(current);
  const initialized = initContainerActions(pod, latest, observed, options, actions);
  if (initialized === 'failed') {
    actions.terminal = true;
    actions.killPod = current.some((x) => x.state === 'running');
    return actions;
  }
  if (!initialized) return waitForInit(pod, actions);

  let finished = 0;
  for (const c of pod.spec.containers) {
    const last = latest.get(c.name);
    if (!last) {
      startOrWait(pod, c, false, observed, options, actions, undefined);
    } else if (last.state === 'running') {
      const kill = killForRunning(pod, c, last, options);
      if (kill) actions.kill.push(kill);
    } else if (last.state === 'created' || last.state === 'unknown') {
      actions.kill.push({ id: last.id, name: c.name, reason: 'NotStarted' });
    } else if (shouldRestart(pod, c, last)) {
      startOrWait(pod, c, false, observed, options, actions, last);
    } else {
      finished++;
    }
  }
  if (finished === pod.spec.containers.length) {
    // Stops the sidecars and the sandbox: nothing will run in it again, and sidecars never keep a
    // finished pod alive (the kubelet drops their restarts here too).
    const sidecars = new Set(inits.filter(isSidecar).map((c) => c.name));
    actions.start = actions.start.filter((s) => !sidecars.has(s.container.name));
    actions.kill = actions.kill.filter((k) => !sidecars.has(k.name));
    actions.backingOff = actions.backingOff.filter((b) => !sidecars.has(b.name));
    actions.terminal = true;
    actions.killPod = true;
  }
  return actions;
}

/** Why a running container must be killed, if it must: spec changed, liveness or startup failed. */
function killForRunning(
  pod: Pod,
  c: Container,
  last: ObservedContainer,
  options: ComputeOptions,
): KillAction | undefined {
  const sidecar = isSidecar(c);
  const what = sidecar ? `Init container ${c.name}` : `Container ${c.name}`;
  // The kubelet says so when the container comes back; sidecars always do, app containers unless Never.
  const restarted = !sidecar && (pod.spec.restartPolicy ?? 'Always') !== 'Never' ? ', will be restarted' : '';
  const base = { id: last.id, name: c.name };
  if (last.hash !== containerHash(c)) {
    const suffix = sidecar ? '' : ', will be restarted';
    return { ...base, reason: 'SpecChanged', message: `${what} definition changed${suffix}` };
  }
  const failed = options.unhealthy.get(last.id);
  if (failed === 'liveness')
    return { ...base, reason: 'LivenessProbe', message: `${what} failed liveness probe${restarted}` };
  if (failed === 'startup')
    return { ...base, reason: 'StartupProbe', message: `${what} failed startup probe${restarted}` };
  return undefined;
}

/**
 * The init containers' part of a sync. Returns true once the pod is initialized (the app containers
 * may run), false while it initializes, 'failed' when an init container failed under restartPolicy
 * Never. The frontier is the last init container this sandbox has seen: those before it ran once
 * (regular ones are done; sidecars are kept running), it decides what comes next.
 */
function initContainerActions(
  pod: Pod,
  latest: Map<string, ObservedContainer>,
  observed: ObservedPod,
  options: ComputeOptions,
  actions: PodActions,
): boolean | 'failed' {
  const inits = pod.spec.initContainers ?? [];
  if (inits.length === 0) return true;
  // An app container in this sandbox means initialization finished once: only sidecars need care.
  let frontier = pod.spec.containers.some((c) => latest.has(c.name)) ? inits.length : -1;
  for (let i = inits.length - 1; frontier < 0 && i >= 0; i--) if (latest.has(inits[i].name)) frontier = i;
  if (frontier < 0) {
    startOrWait(pod, inits[0], true, observed, options, actions, undefined);
    return false;
  }
  for (const c of inits.slice(0, frontier)) {
    if (isSidecar(c)) keepSidecarRunning(pod, c, latest.get(c.name), observed, options, actions);
  }
  if (frontier === inits.length) return true;

  const c = inits[frontier];
  const last = latest.get(c.name)!;
  const startNext = () => {
    if (frontier + 1 === inits.length) return true;
    startOrWait(pod, inits[frontier + 1], true, observed, options, actions, undefined);
    return false;
  };
  if (last.state === 'created') {
    actions.kill.push({ id: last.id, name: c.name, reason: 'NotStarted' });
    return false;
  }
  if (isSidecar(c)) {
    if (last.state !== 'running') {
      keepSidecarRunning(pod, c, last, observed, options, actions);
      return false;
    }
    const kill = killForRunning(pod, c, last, options);
    if (kill) {
      actions.kill.push(kill);
      return false;
    }
    // The next init container waits for the sidecar's startup probe, as the kubelet's does.
    if (c.startupProbe && !options.started?.has(last.id)) return false;
    return startNext();
  }
  if (last.state === 'running') return false;
  if (last.exitCode === 0) return startNext();
  if ((pod.spec.restartPolicy ?? 'Always') === 'Never') return 'failed';
  startOrWait(pod, c, true, observed, options, actions, last);
  return false;
}

/** A sidecar that ran before must be running: started again (after back-off), or killed if unhealthy. */
function keepSidecarRunning(
  pod: Pod,
  c: Container,
  last: ObservedContainer | undefined,
  observed: ObservedPod,
  options: ComputeOptions,
  actions: PodActions,
): void {
  if (!last) return startOrWait(pod, c, true, observed, options, actions, undefined);
  if (last.state === 'running') {
    const kill = killForRunning(pod, c, last, options);
    if (kill) actions.kill.push(kill);
  } else if (last.state === 'created' || last.state === 'unknown') {
    actions.kill.push({ id: last.id, name: c.name, reason: 'NotStarted' });
  } else {
    startOrWait(pod, c, true, observed, options, actions, last);
  }
}

function waitForInit(pod: Pod, actions: PodActions): PodActions {
  for (const c of pod.spec.containers) {
    if (!actions.waiting.has(c.name)) actions.waiting.set(c.name, { reason: 'PodInitializing', message: '' });
  }
  return actions;
}

function startOrWait(
  pod: Pod,
  c: Container,
  init: boolean,
  observed: ObservedPod,
  options: ComputeOptions,
  actions: PodActions,
  last: ObservedContainer | undefined,
): void {
  const blocked = options.imageBlocked?.get(c.name);
  if (blocked) {
    actions.waiting.set(c.name, blocked);
    return;
  }
  if (last && last.hash === containerHash(c)) {
    const key = backoffKey(pod, c);
    const remaining = options.backoff.remainingMs(key, last.finishedAtMs);
    if (remaining > 0) {
      const delayS = Math.round(options.backoff.currentDelayMs(key) / 1000);
      actions.waiting.set(c.name, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${delayS}s restarting failed container=${c.name} pod=${podRef(pod)}`,
      });
      actions.backingOff.push({ name: c.name, lastId: last.id });
      actions.requeueMs = Math.min(actions.requeueMs ?? Infinity, remaining);
      return;
    }
    options.backoff.next(key, last.finishedAtMs);
  }
  actions.start.push({ container: c, init, restartCount: nextRestartCount(observed.containers, c.name) });
}

/** A pod as the kubelet's format.Pod writes it: name_namespace(uid). */
export function podRef(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}
