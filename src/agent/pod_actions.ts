// What one sync of a pod must do, decided from the spec and what the runtime reports (as the
// kubelet's computePodActions). Pure: the worker executes the result, unit tests check the decisions.
//
//   no ready sandbox ──► kill what is left, create sandbox (attempt+1), start the first init container
//   init i exited 0  ──► start init i+1 … then every app container
//   init failed      ──► Never: pod Failed; else restart it after back-off
//   app running      ──► spec hash changed or liveness failed: kill (the next sync restarts it)
//   app exited       ──► Always, or OnFailure with exit≠0, or spec changed: restart after back-off
//                        (CrashLoopBackOff while waiting); otherwise it stays terminated
import type { Backoff } from './backoff';
import { containerHash } from './labels';
import { latestByName, ObservedContainer, ObservedPod } from './observed';
import type { Container, Pod } from './pod_spec';

export interface StartAction {
  container: Container;
  init: boolean;
  restartCount: number;
}

export interface KillAction {
  id: string;
  name: string;
  reason: 'SpecChanged' | 'Unhealthy' | 'NotStarted' | 'PodTerminated';
}

export interface PodActions {
  /** Kill every running container of the pod and stop its sandbox (before a new sandbox, or when done). */
  killPod: boolean;
  createSandbox: { attempt: number } | null;
  kill: KillAction[];
  start: StartAction[];
  /** Containers that wait, and why (CrashLoopBackOff, PodInitializing). */
  waiting: Map<string, { reason: string; message: string }>;
  /** Every container has finished for good (restartPolicy Never/OnFailure): the pod is done. */
  terminal: boolean;
  /** Look again after this many ms even if nothing happens (the end of a back-off). */
  requeueMs?: number;
}

export interface ComputeOptions {
  backoff: Backoff;
  /** Running containers (by id) whose liveness or startup probe has failed. */
  unhealthy: Set<string>;
  /** Container names whose image cannot be pulled yet: they wait (ImagePullBackOff) and are not started. */
  imageBlocked?: Map<string, { reason: string; message: string }>;
}

function backoffKey(pod: Pod, c: Container): string {
  return `${pod.metadata.uid}/${c.name}/${containerHash(c)}`;
}

function shouldRestart(pod: Pod, c: Container, last: ObservedContainer): boolean {
  if (last.hash !== containerHash(c)) return true;
  const policy = pod.spec.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && last.exitCode !== 0);
}

function nextRestartCount(all: ObservedContainer[], name: string): number {
  const previous = all.filter((c) => c.name === name);
  return previous.length === 0 ? 0 : Math.max(...previous.map((c) => c.restartCount)) + 1;
}

export function computePodActions(pod: Pod, observed: ObservedPod, options: ComputeOptions): PodActions {
  const actions: PodActions = {
    killPod: false,
    createSandbox: null,
    kill: [],
    start: [],
    waiting: new Map(),
    terminal: false,
  };
  const policy = pod.spec.restartPolicy ?? 'Always';
  const inits = pod.spec.initContainers ?? [];
  const sandbox = observed.sandboxes[0];

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

  // Init containers run one at a time, in order, each to success.
  for (const c of inits) {
    const last = latest.get(c.name);
    if (!last) {
      startOrWait(pod, c, true, observed, options, actions, undefined);
      return actions;
    }
    if (last.state === 'running') return waitForInit(pod, actions);
    if (last.state === 'created') {
      actions.kill.push({ id: last.id, name: c.name, reason: 'NotStarted' });
      return actions;
    }
    if (last.exitCode === 0) continue;
    if (policy === 'Never') {
      actions.terminal = true;
      actions.killPod = current.some((x) => x.state === 'running');
      return actions;
    }
    startOrWait(pod, c, true, observed, options, actions, last);
    return waitForInit(pod, actions);
  }

  let finished = 0;
  for (const c of pod.spec.containers) {
    const last = latest.get(c.name);
    if (!last) {
      startOrWait(pod, c, false, observed, options, actions, undefined);
    } else if (last.state === 'running') {
      if (last.hash !== containerHash(c))
        actions.kill.push({ id: last.id, name: c.name, reason: 'SpecChanged' });
      else if (options.unhealthy.has(last.id))
        actions.kill.push({ id: last.id, name: c.name, reason: 'Unhealthy' });
    } else if (last.state === 'created' || last.state === 'unknown') {
      actions.kill.push({ id: last.id, name: c.name, reason: 'NotStarted' });
    } else if (shouldRestart(pod, c, last)) {
      startOrWait(pod, c, false, observed, options, actions, last);
    } else {
      finished++;
    }
  }
  if (finished === pod.spec.containers.length) {
    actions.terminal = true;
    actions.killPod = true; // stops the sandbox: nothing will run in it again
  }
  return actions;
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
        message: `back-off ${delayS}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
      });
      actions.requeueMs = Math.min(actions.requeueMs ?? Infinity, remaining);
      return;
    }
    options.backoff.next(key, last.finishedAtMs);
  }
  actions.start.push({ container: c, init, restartCount: nextRestartCount(observed.containers, c.name) });
}
