import type { ObservedContainer, ObservedPod } from './observed';
import type { Pod } from './pod_spec';
import { podStatus } from './pod_status';

const pod = (restartPolicy: 'Always' | 'OnFailure' | 'Never'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', uid: 'u' },
  spec: { restartPolicy, containers: [{ name: 'a', image: 'i' }] },
});

const c = (state: ObservedContainer['state'], exitCode = 0): ObservedContainer => ({
  id: `id-${state}-${exitCode}`,
  sandboxId: 's',
  name: 'a',
  state,
  hash: '',
  restartCount: 0,
  exitCode,
  reason: '',
  message: '',
  createdAtMs: 1,
  startedAtMs: 1,
  finishedAtMs: 2,
  image: 'i',
  imageRef: 'sha256:x',
  logPath: '',
});

const observed = (...containers: ObservedContainer[]): ObservedPod => ({
  sandboxes: [{ id: 's', attempt: 0, ready: true, createdAtMs: 0, ips: ['10.0.0.9'] }],
  containers,
});

const status = (p: Pod, o: ObservedPod, waiting = new Map()) =>
  podStatus({
    pod: p,
    observed: o,
    qos: 'BestEffort',
    hostIP: 'h',
    runtimeName: 'rt',
    startTime: 't',
    waiting,
    probes: () => ({ started: true, ready: true }),
  });

test('a pod whose container has not started yet is Pending with ContainerCreating', () => {
  const s = status(pod('Always'), observed());
  expect(s.phase).toBe('Pending');
  expect(s.containerStatuses[0].state).toEqual({ waiting: { reason: 'ContainerCreating' } });
});

test('in a pod with init containers every container not seen yet waits as PodInitializing, as the kubelet shows it', () => {
  const p = pod('Always');
  p.spec.initContainers = [
    { name: 'init1', image: 'i' },
    { name: 'init2', image: 'i' },
  ];
  const s = status(p, observed());
  for (const view of [...s.initContainerStatuses, ...s.containerStatuses])
    expect(view.state).toEqual({ waiting: { reason: 'PodInitializing' } });
});

test('a running container makes the pod Running and Ready, with its pod IP', () => {
  const s = status(pod('Always'), observed(c('running')));
  expect(s.phase).toBe('Running');
  expect(s.podIP).toBe('10.0.0.9');
  expect(s.conditions.find((x) => x.type === 'Ready')?.status).toBe('True');
  expect(s.containerStatuses[0].imageID).toBe('sha256:x');
});

test('finished containers make the pod Succeeded or Failed by exit code and restart policy', () => {
  expect(status(pod('Never'), observed(c('exited', 0))).phase).toBe('Succeeded');
  expect(status(pod('OnFailure'), observed(c('exited', 0))).phase).toBe('Succeeded');
  expect(status(pod('Never'), observed(c('exited', 1))).phase).toBe('Failed');
  expect(status(pod('Always'), observed(c('exited', 1))).phase).toBe('Running');
});

test('a container in back-off is waiting with the last termination as lastState', () => {
  const waiting = new Map([['a', { reason: 'CrashLoopBackOff', message: 'back-off 10s' }]]);
  const s = status(pod('Always'), observed(c('exited', 2)), waiting);
  expect(s.containerStatuses[0].state).toEqual({
    waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' },
  });
  expect(s.containerStatuses[0].lastState).toMatchObject({
    terminated: { exitCode: 2, reason: 'Error', containerID: 'rt://id-exited-2' },
  });
});

test('a pod on the host network reports the host address as its pod IP', () => {
  const p = pod('Always');
  p.spec.hostNetwork = true;
  expect(status(p, observed(c('running'))).podIPs).toEqual([{ ip: 'h' }]);
});

describe('sidecars, readiness gates and the deadline (the kubelet getPhase and generate.go)', () => {
  const withSidecar = (restartPolicy: 'Always' | 'Never' = 'Always'): Pod => ({
    ...pod(restartPolicy),
    spec: {
      restartPolicy,
      initContainers: [
        { name: 'proxy', image: 'i', restartPolicy: 'Always', startupProbe: { exec: { command: ['x'] } } },
      ],
      containers: [{ name: 'a', image: 'i' }],
    },
  });
  const named = (name: string, state: ObservedContainer['state'], exitCode = 0) => ({
    ...c(state, exitCode),
    id: `${name}-${state}`,
    name,
  });
  const conditionOf = (s: ReturnType<typeof status>, type: string) =>
    s.conditions.find((x) => x.type === type);

  test('a sidecar whose startup probe has not passed holds the pod in Pending, not initialized', () => {
    const s = podStatus({
      pod: withSidecar(),
      observed: observed(named('proxy', 'running')),
      qos: 'BestEffort',
      hostIP: 'h',
      runtimeName: 'rt',
      startTime: 't',
      waiting: new Map([['a', { reason: 'PodInitializing', message: '' }]]),
      probes: () => ({ started: false, ready: true }),
    });
    expect(s.phase).toBe('Pending');
    expect(s.initContainerStatuses[0]).toMatchObject({ started: false, ready: false });
    expect(conditionOf(s, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [proxy]',
    });
  });

  test('a started sidecar counts toward readiness and the pod runs', () => {
    const s = status(withSidecar(), observed(named('proxy', 'running'), named('a', 'running')));
    expect(s.phase).toBe('Running');
    expect(s.initContainerStatuses[0]).toMatchObject({ started: true, ready: true });
    expect(conditionOf(s, 'Ready')?.status).toBe('True');
    const unready = podStatus({
      pod: withSidecar(),
      observed: observed(named('proxy', 'running'), named('a', 'running')),
      qos: 'BestEffort',
      hostIP: 'h',
      runtimeName: 'rt',
      startTime: 't',
      waiting: new Map(),
      probes: (id) => ({ started: true, ready: id !== 'proxy-running' }),
    });
    expect(conditionOf(unready, 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [proxy]',
    });
  });

  test('a finished Never pod Succeeds whatever its killed sidecar exited with', () => {
    const s = status(withSidecar('Never'), observed(named('proxy', 'exited', 137), named('a', 'exited', 0)));
    expect(s.phase).toBe('Succeeded');
    expect(conditionOf(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  test('a running regular init container is not ready; a completed one is', () => {
    const p: Pod = {
      ...pod('Always'),
      spec: { initContainers: [{ name: 'setup', image: 'i' }], containers: [{ name: 'a', image: 'i' }] },
    };
    expect(status(p, observed(named('setup', 'running'))).initContainerStatuses[0]).toMatchObject({
      ready: false,
    });
    expect(status(p, observed(named('setup', 'exited'))).initContainerStatuses[0]).toMatchObject({
      ready: true,
    });
  });

  test('Ready waits for every readiness gate, with the kubelet message', () => {
    const p: Pod = {
      ...pod('Always'),
      spec: {
        ...pod('Always').spec,
        readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
      },
    };
    const base = {
      pod: p,
      observed: observed(c('running')),
      qos: 'BestEffort' as const,
      hostIP: 'h',
      runtimeName: 'rt',
      startTime: 't',
      waiting: new Map(),
      probes: () => ({ started: true, ready: true }),
    };
    const lb = { type: 'example.com/lb', status: 'False' as const, lastTransitionTime: 't' };
    const waiting = podStatus({ ...base, otherConditions: [lb] });
    expect(conditionOf(waiting, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message:
        'the status of pod readiness gate "example.com/lb" is not "True", but False, corresponding condition of pod readiness gate "example.com/dns" does not exist.',
    });
    expect(conditionOf(waiting, 'ContainersReady')?.status).toBe('True');
    expect(conditionOf(waiting, 'example.com/lb')).toEqual(lb);
    const dns = { type: 'example.com/dns', status: 'True' as const, lastTransitionTime: 't' };
    const ready = podStatus({ ...base, otherConditions: [{ ...lb, status: 'True' }, dns] });
    expect(conditionOf(ready, 'Ready')?.status).toBe('True');
  });

  test('a pod ended by its deadline is Failed with the reason, its containers not ready', () => {
    const s = podStatus({
      pod: pod('Always'),
      observed: observed(c('exited', 137)),
      qos: 'BestEffort',
      hostIP: 'h',
      runtimeName: 'rt',
      startTime: 't',
      waiting: new Map(),
      probes: () => ({ started: true, ready: true }),
      terminal: true,
      ended: {
        reason: 'DeadlineExceeded',
        message: 'Pod was active on the node longer than the specified deadline',
      },
    });
    expect(s).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
    expect(conditionOf(s, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'PodFailed' });
  });
});
