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
