import { Backoff } from './backoff';
import { containerHash } from './labels';
import type { ObservedContainer, ObservedPod } from './observed';
import { computePodActions } from './pod_actions';
import type { Pod } from './pod_spec';

const now = Date.now();
const backoff = () => new Backoff({ now: () => now });

function pod(restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always', withInit = true): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: {
      restartPolicy,
      initContainers: withInit
        ? [
            { name: 'init1', image: 'i' },
            { name: 'init2', image: 'i' },
          ]
        : undefined,
      containers: [
        { name: 'app', image: 'i' },
        { name: 'side', image: 'i' },
      ],
    },
  };
}

let seq = 0;
function ctr(
  p: Pod,
  name: string,
  state: ObservedContainer['state'],
  extra: Partial<ObservedContainer> = {},
): ObservedContainer {
  const spec = [...(p.spec.initContainers ?? []), ...p.spec.containers].find((c) => c.name === name)!;
  seq++;
  return {
    id: `c${seq}`,
    sandboxId: 'sb1',
    name,
    state,
    hash: containerHash(spec),
    restartCount: 0,
    exitCode: 0,
    reason: '',
    message: '',
    createdAtMs: now - 1000 + seq,
    startedAtMs: now - 1000,
    finishedAtMs: state === 'exited' ? now - 1 : 0,
    image: 'i',
    imageRef: 'sha',
    logPath: '',
    ...extra,
  };
}

const sandbox = { id: 'sb1', attempt: 0, ready: true, createdAtMs: now - 2000, ips: ['10.0.0.2'] };
const observed = (...containers: ObservedContainer[]): ObservedPod => ({
  sandboxes: [sandbox],
  containers: containers.sort((a, b) => b.createdAtMs - a.createdAtMs),
});
const opts = () => ({ backoff: backoff(), unhealthy: new Set<string>() });

test('a new pod gets a sandbox and its first init container, and its app containers wait', () => {
  const a = computePodActions(pod(), { sandboxes: [], containers: [] }, opts());
  expect(a.createSandbox).toEqual({ attempt: 0 });
  expect(a.start.map((s) => s.container.name)).toEqual(['init1']);
});

test('init containers run one after the other and app containers start when all succeeded', () => {
  const p = pod();
  const running = computePodActions(p, observed(ctr(p, 'init1', 'running')), opts());
  expect(running.start).toEqual([]);
  expect(running.waiting.get('app')?.reason).toBe('PodInitializing');
  const second = computePodActions(p, observed(ctr(p, 'init1', 'exited')), opts());
  expect(second.start.map((s) => s.container.name)).toEqual(['init2']);
  const apps = computePodActions(p, observed(ctr(p, 'init1', 'exited'), ctr(p, 'init2', 'exited')), opts());
  expect(apps.start.map((s) => s.container.name)).toEqual(['app', 'side']);
});

test('a failed init container fails the pod under restartPolicy Never and is retried otherwise', () => {
  const never = pod('Never');
  const failed = computePodActions(never, observed(ctr(never, 'init1', 'exited', { exitCode: 1 })), opts());
  expect(failed.terminal).toBe(true);
  expect(failed.start).toEqual([]);
  const always = pod();
  const retried = computePodActions(
    always,
    observed(ctr(always, 'init1', 'exited', { exitCode: 1 })),
    opts(),
  );
  expect(retried.start.map((s) => [s.container.name, s.restartCount])).toEqual([['init1', 1]]);
});

test('an exited app container restarts at once, then waits in CrashLoopBackOff', () => {
  const p = pod('Always', false);
  const o = opts();
  const exited = ctr(p, 'app', 'exited', { exitCode: 2 });
  const first = computePodActions(p, observed(exited, ctr(p, 'side', 'running')), o);
  expect(first.start.map((s) => [s.container.name, s.restartCount])).toEqual([['app', 1]]);
  const again = ctr(p, 'app', 'exited', { exitCode: 2, restartCount: 1 });
  const second = computePodActions(p, observed(exited, again, ctr(p, 'side', 'running')), o);
  expect(second.start).toEqual([]);
  expect(second.waiting.get('app')).toMatchObject({ reason: 'CrashLoopBackOff' });
  expect(second.waiting.get('app')?.message).toContain('back-off 10s restarting failed container=app');
  expect(second.requeueMs).toBeGreaterThan(0);
});

test('restartPolicy OnFailure restarts failures only, and a pod whose containers all succeeded is done', () => {
  const p = pod('OnFailure', false);
  const a = computePodActions(
    p,
    observed(ctr(p, 'app', 'exited', { exitCode: 0 }), ctr(p, 'side', 'exited', { exitCode: 3 })),
    opts(),
  );
  expect(a.start.map((s) => s.container.name)).toEqual(['side']);
  const done = computePodActions(p, observed(ctr(p, 'app', 'exited'), ctr(p, 'side', 'exited')), opts());
  expect(done.terminal).toBe(true);
  expect(done.start).toEqual([]);
});

test('restartPolicy Never leaves a failed container terminated', () => {
  const p = pod('Never', false);
  const a = computePodActions(
    p,
    observed(ctr(p, 'app', 'exited', { exitCode: 1 }), ctr(p, 'side', 'running')),
    opts(),
  );
  expect(a.start).toEqual([]);
  expect(a.terminal).toBe(false);
});

test('a running container whose spec changed, or whose liveness probe failed, is killed', () => {
  const p = pod('Always', false);
  const stale = ctr(p, 'app', 'running', { hash: 'old' });
  const sick = ctr(p, 'side', 'running');
  const a = computePodActions(p, observed(stale, sick), {
    backoff: backoff(),
    unhealthy: new Set([sick.id]),
  });
  expect(a.kill.map((k) => [k.name, k.reason])).toEqual([
    ['app', 'SpecChanged'],
    ['side', 'Unhealthy'],
  ]);
});

test('a dead sandbox is replaced and the pod starts over from its first init container', () => {
  const p = pod();
  const dead = { ...sandbox, ready: false };
  const a = computePodActions(
    p,
    { sandboxes: [dead], containers: [ctr(p, 'init1', 'exited'), ctr(p, 'app', 'exited')] },
    opts(),
  );
  expect(a.killPod).toBe(true);
  expect(a.createSandbox).toEqual({ attempt: 1 });
  expect(a.start.map((s) => s.container.name)).toEqual(['init1']);
});

test('a pod under restartPolicy Never whose sandbox died is not started again', () => {
  const p = pod('Never', false);
  const a = computePodActions(
    p,
    { sandboxes: [{ ...sandbox, ready: false }], containers: [ctr(p, 'app', 'exited')] },
    opts(),
  );
  expect(a.createSandbox).toBeNull();
  expect(a.terminal).toBe(true);
});

test('a container whose image cannot be pulled waits instead of starting', () => {
  const p = pod('Always', false);
  const blocked = new Map([['app', { reason: 'ImagePullBackOff', message: 'no' }]]);
  const a = computePodActions(p, observed(), { ...opts(), imageBlocked: blocked });
  expect(a.start.map((s) => s.container.name)).toEqual(['side']);
  expect(a.waiting.get('app')?.reason).toBe('ImagePullBackOff');
});
