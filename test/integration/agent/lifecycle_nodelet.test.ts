// Pod lifecycle fields of the kubelet, end to end on nodelet's own runtime (the daemon from dist/,
// images from the local registry) with the agent running static pods: a native sidecar that feeds
// the app container through an emptyDir and is restarted when it exits, a restartPolicy Never pod
// whose sidecar does not keep it from Succeeded, activeDeadlineSeconds ending a pod as
// DeadlineExceeded, and termination messages from the file and from the log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Agent, startAgent } from '../../../src/agent';
import { Backoff } from '../../../src/agent/backoff';
import type { PodStatusView } from '../../../src/agent/pod_status';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { removeAllPods } from '../../support/cri_client';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(180_000);

const NODE = 'lifenode';
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const CGROUP_ROOT = `/nodelet-lifecycle-test-${process.pid}`;

let registry: TestRegistry;
let daemon: TestDaemon;
let agent: Agent;
let dir: string;

const manifests = () => path.join(dir, 'manifests');

function statusOf(name: string): PodStatusView | undefined {
  for (const { desired, status } of agent.pods().values())
    if (desired.name === `${name}-${NODE}`) return status;
  return undefined;
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function addPod(name: string, spec: Record<string, unknown>): void {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec };
  fs.writeFileSync(path.join(manifests(), `${name}.json`), JSON.stringify(pod));
  agent.rescan();
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-lifecycle-'));
  fs.mkdirSync(manifests());
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
  agent = await startAgent({
    endpoint: daemon.endpoint,
    manifestDir: manifests(),
    rootDir: path.join(dir, 'agent'),
    podLogsDir: path.join(dir, 'logs'),
    nodeName: NODE,
    cgroupRoot: CGROUP_ROOT,
    syncIntervalMs: 300,
    rescanMs: 1000,
    backoff: new Backoff({ initialMs: 1000, maxMs: 5000 }),
    log: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
  });
});

afterAll(async () => {
  if (agent) {
    for (const f of fs.readdirSync(manifests())) fs.rmSync(path.join(manifests(), f));
    agent.rescan();
    await agent.settled();
    await agent.stop();
  }
  if (daemon) {
    await removeAllPods(daemon.endpoint);
    await daemon.stop();
    await daemon.cleanup();
  }
  await registry?.stop();
  if (dir) {
    await unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  removeCgroupTree(CGROUP_ROOT);
});

test('a native sidecar starts first, feeds the app container through an emptyDir and is restarted when it exits', async () => {
  addPod('feed', {
    terminationGracePeriodSeconds: 2,
    volumes: [{ name: 'shared', emptyDir: {} }],
    initContainers: [
      {
        name: 'feeder',
        image: IMAGE,
        restartPolicy: 'Always',
        // Writes, then exits after a while: a sidecar comes back whatever the pod's restartPolicy.
        command: ['sh', '-c', 'echo fed-by-sidecar > /shared/feed; sleep 3; exit 1'],
        volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
      },
    ],
    containers: [
      {
        name: 'main',
        image: IMAGE,
        command: ['sh', '-c', 'cat /shared/feed; exec sleep 1000'],
        volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
      },
    ],
  });
  const running = await waitFor('the pod to run with its sidecar', () => {
    const s = statusOf('feed');
    return s?.phase === 'Running' && 'running' in (s.containerStatuses[0]?.state ?? {}) ? s : undefined;
  });
  expect(running.conditions.find((c) => c.type === 'Initialized')?.status).toBe('True');
  const uid = [...agent.pods().values()].find((p) => p.desired.name === `feed-${NODE}`)!.desired.uid;
  const mainLog = path.join(dir, 'logs', `default_feed-${NODE}_${uid}`, 'main', '0.log');
  await waitFor('the main container to read what the sidecar wrote', () => {
    return fs.existsSync(mainLog) && fs.readFileSync(mainLog, 'utf8').includes('fed-by-sidecar');
  });
  const restarted = await waitFor('the sidecar to be restarted', () => {
    const feeder = statusOf('feed')?.initContainerStatuses[0];
    return feeder && feeder.restartCount >= 1 && 'running' in feeder.state ? feeder : undefined;
  });
  expect(restarted.lastState).toMatchObject({ terminated: { exitCode: 1 } });
  expect(restarted.started).toBe(true);
  const main = statusOf('feed')!.containerStatuses[0];
  expect(main.restartCount).toBe(0);
  expect(statusOf('feed')!.phase).toBe('Running');
});

test('a restartPolicy Never pod whose app container completes Succeeds, its sidecar stopped', async () => {
  addPod('job', {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 2,
    initContainers: [{ name: 'helper', image: IMAGE, restartPolicy: 'Always', command: ['sleep', '1000'] }],
    containers: [{ name: 'work', image: IMAGE, command: ['sh', '-c', 'sleep 1; echo done'] }],
  });
  const done = await waitFor('the pod to succeed', () => {
    const s = statusOf('job');
    return s?.phase === 'Succeeded' ? s : undefined;
  });
  expect(done.containerStatuses[0].state).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } });
  expect('terminated' in done.initContainerStatuses[0].state).toBe(true);
  expect(done.conditions.find((c) => c.type === 'Ready')).toMatchObject({
    status: 'False',
    reason: 'PodCompleted',
  });
});

test('a pod past its activeDeadlineSeconds is killed and Failed with DeadlineExceeded', async () => {
  addPod('deadline', {
    activeDeadlineSeconds: 5,
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'sleeper', image: IMAGE, command: ['sleep', '1000'] }],
  });
  await waitFor('the pod to run', () => statusOf('deadline')?.phase === 'Running');
  const failed = await waitFor(
    'DeadlineExceeded',
    () => {
      const s = statusOf('deadline');
      return s?.phase === 'Failed' && 'terminated' in (s.containerStatuses[0]?.state ?? {}) ? s : undefined;
    },
    30_000,
  );
  expect(failed.reason).toBe('DeadlineExceeded');
  expect(failed.message).toBe('Pod was active on the node longer than the specified deadline');
});

test('termination messages come from the termination-log file, or from the log on error', async () => {
  addPod('messages', {
    restartPolicy: 'Never',
    containers: [
      {
        name: 'file',
        image: IMAGE,
        command: ['sh', '-c', 'echo -n "all went fine" > /dev/termination-log; exit 0'],
      },
      {
        name: 'custompath',
        image: IMAGE,
        terminationMessagePath: '/tmp/why',
        command: ['sh', '-c', 'echo -n "custom path" > /tmp/why; exit 3'],
      },
      {
        name: 'fromlog',
        image: IMAGE,
        terminationMessagePolicy: 'FallbackToLogsOnError',
        command: ['sh', '-c', 'echo first line; echo last words; exit 2'],
      },
    ],
  });
  const done = await waitFor('the pod to end', () => {
    const s = statusOf('messages');
    return s && s.containerStatuses.every((c) => 'terminated' in c.state) ? s : undefined;
  });
  const messageOf = (name: string) => {
    const state = done.containerStatuses.find((c) => c.name === name)!.state;
    return 'terminated' in state ? state.terminated.message : undefined;
  };
  expect(messageOf('file')).toBe('all went fine');
  expect(messageOf('custompath')).toBe('custom path');
  expect(messageOf('fromlog')).toBe('first line\nlast words\n');
  expect(done.phase).toBe('Failed');
});
