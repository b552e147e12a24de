import { Backoff } from './backoff';
import { containerHash } from './labels';
import type { ObservedContainer, ObservedPod } from './observed';
import { computePodActions, ProbeFailure } from './pod_actions';
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
const opts = () => ({ backoff: backoff(), unhealthy: new Map<string, ProbeFailure>() });

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

test('a running container whose spec changed, or whose liveness probe failed, is killed with the kubelet message', () => {
  const p = pod('Always', false);
  const stale = ctr(p, 'app', 'running', { hash: 'old' });
  const sick = ctr(p, 'side', 'running');
  const a = computePodActions(p, observed(stale, sick), {
    backoff: backoff(),
    unhealthy: new Map([[sick.id, 'liveness' as const]]),
  });
  expect(a.kill.map((k) => [k.name, k.reason, k.message])).toEqual([
    ['app', 'SpecChanged', 'Container app definition changed, will be restarted'],
    ['side', 'LivenessProbe', 'Container side failed liveness probe, will be restarted'],
  ]);
  const never = pod('Never', false);
  const late = ctr(never, 'app', 'running');
  const b = computePodActions(never, observed(late, ctr(never, 'side', 'running')), {
    backoff: backoff(),
    unhealthy: new Map([[late.id, 'startup' as const]]),
  });
  expect(b.kill.map((k) => [k.reason, k.message])).toEqual([
    ['StartupProbe', 'Container app failed startup probe'],
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

describe('native sidecars (init containers with restartPolicy Always)', () => {
  function withSidecar(
    restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always',
    startupProbe = false,
  ): Pod {
    const p = pod(restartPolicy, false);
    p.spec.initContainers = [
      {
        name: 'proxy',
        image: 'i',
        restartPolicy: 'Always',
        ...(startupProbe ? { startupProbe: { exec: { command: ['true'] } } } : {}),
      },
      { name: 'setup', image: 'i' },
    ];
    return p;
  }

  test('the next init container starts once the sidecar runs, and the apps once all are done', () => {
    const p = withSidecar();
    const proxy = ctr(p, 'proxy', 'running');
    const next = computePodActions(p, observed(proxy), opts());
    expect(next.start.map((s) => s.container.name)).toEqual(['setup']);
    const apps = computePodActions(p, observed(proxy, ctr(p, 'setup', 'exited')), opts());
    expect(apps.start.map((s) => s.container.name)).toEqual(['app', 'side']);
    const steady = computePodActions(
      p,
      observed(proxy, ctr(p, 'setup', 'exited'), ctr(p, 'app', 'running'), ctr(p, 'side', 'running')),
      opts(),
    );
    expect(steady).toMatchObject({ start: [], kill: [], killPod: false, terminal: false });
  });

  test('a sidecar with a startup probe holds the next init container until the probe passes', () => {
    const p = withSidecar('Always', true);
    const proxy = ctr(p, 'proxy', 'running');
    const waiting = computePodActions(p, observed(proxy), opts());
    expect(waiting.start).toEqual([]);
    expect(waiting.waiting.get('app')?.reason).toBe('PodInitializing');
    const started = computePodActions(p, observed(proxy), { ...opts(), started: new Set([proxy.id]) });
    expect(started.start.map((s) => s.container.name)).toEqual(['setup']);
  });

  test('a sidecar that exits is restarted, after back-off, even under restartPolicy Never', () => {
    const p = withSidecar('Never');
    const o = opts();
    const app = ctr(p, 'app', 'running');
    const gone = ctr(p, 'proxy', 'exited', { exitCode: 1 });
    const first = computePodActions(
      p,
      observed(gone, ctr(p, 'setup', 'exited'), app, ctr(p, 'side', 'running')),
      o,
    );
    expect(first.start.map((s) => [s.container.name, s.init, s.restartCount])).toEqual([['proxy', true, 1]]);
    const again = ctr(p, 'proxy', 'exited', { exitCode: 1, restartCount: 1 });
    const second = computePodActions(
      p,
      observed(gone, again, ctr(p, 'setup', 'exited'), app, ctr(p, 'side', 'running')),
      o,
    );
    expect(second.start).toEqual([]);
    expect(second.waiting.get('proxy')?.reason).toBe('CrashLoopBackOff');
    expect(second.backingOff).toEqual([{ name: 'proxy', lastId: again.id }]);
  });

  test('a sidecar whose liveness probe failed is killed with the init container message', () => {
    const p = withSidecar();
    const proxy = ctr(p, 'proxy', 'running');
    const a = computePodActions(
      p,
      observed(proxy, ctr(p, 'setup', 'exited'), ctr(p, 'app', 'running'), ctr(p, 'side', 'running')),
      { ...opts(), unhealthy: new Map([[proxy.id, 'liveness' as const]]) },
    );
    expect(a.kill).toEqual([
      {
        id: proxy.id,
        name: 'proxy',
        reason: 'LivenessProbe',
        message: 'Init container proxy failed liveness probe',
      },
    ]);
  });

  test('a pod whose apps completed kills its sidecars and does not restart them', () => {
    const p = withSidecar('OnFailure');
    const a = computePodActions(
      p,
      observed(
        ctr(p, 'proxy', 'exited', { exitCode: 137 }),
        ctr(p, 'setup', 'exited'),
        ctr(p, 'app', 'exited'),
        ctr(p, 'side', 'exited'),
      ),
      opts(),
    );
    expect(a).toMatchObject({ terminal: true, killPod: true, start: [] });
  });
});

test('a pod past its activeDeadlineSeconds is killed and nothing starts again', () => {
  const p = pod('Always', false);
  const a = computePodActions(p, observed(ctr(p, 'app', 'running'), ctr(p, 'side', 'exited')), {
    ...opts(),
    deadlineExceeded: true,
  });
  expect(a).toMatchObject({ terminal: true, killPod: true, start: [], createSandbox: null });
  const after = computePodActions(
    p,
    { sandboxes: [{ ...sandbox, ready: false }], containers: [ctr(p, 'app', 'exited')] },
    { ...opts(), deadlineExceeded: true },
  );
  expect(after).toMatchObject({ terminal: true, killPod: false, createSandbox: null });
});
