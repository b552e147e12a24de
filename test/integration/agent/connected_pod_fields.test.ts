// Pod fields whose values cross the API server, against a real kube-apiserver
// (test/support/control_plane) with `nodelet agent --kubeconfig` as the node: an envFrom prefix that
// makes names which are not shell names ("1-data-1"), resourceFieldRef env vars with the divisor
// "0" the server sends for an unset one, a subPathExpr that fails until an annotation it expands
// from is set, status.observedGeneration following metadata.generation after a spec update, an
// image volume (whole and by subPath), a projected downwardAPI item of a container's limit, and the
// terminal phase written before a deleted pod goes (a Job's finalizer waits for it).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../../support/control_plane';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { spawnAgent } from '../../support/agent_process';
import { startRegistry, TestRegistry } from '../../support/registry';
import { stopConnectedParts } from '../../support/connected_node';

// Under load (other clusters on 2 cores) the control plane alone can take minutes to start.
jest.setTimeout(600_000);

const NODE = `nodelet-fields-${process.pid}`;
const CGROUP_ROOT = `/nodelet-fields-${process.pid}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const installed = controlPlaneInstalled();
const title = installed
  ? 'connected mode: pod fields from the API'
  : 'connected mode: pod fields from the API (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let cp: ControlPlane;
let registry: TestRegistry;
let daemon: TestDaemon;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

type ContainerState = {
  waiting?: { reason?: string; message?: string };
  running?: object;
  terminated?: { exitCode: number; message?: string };
};
type Pod = {
  metadata: { generation?: number };
  status: {
    phase?: string;
    observedGeneration?: number;
    containerStatuses?: { name: string; state: ContainerState }[];
  };
};

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getPod(name: string): Promise<Pod | undefined> {
  const r = await cp.kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const stateOf = (pod: Pod | undefined) => pod?.status.containerStatuses?.[0]?.state;

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-fields-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
    cp = await startControlPlane();
    const extra = [
      ...['--kubeconfig', cp.kubeconfigFor(`system:node:${NODE}`, ['system:nodes'])],
      ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
    ];
    const args = { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE };
    agent = spawnAgent(args, extra, (chunk) => (agentLog += chunk));
  });

  afterAll(async () => {
    await cp
      ?.kubectl(['delete', 'pod', 'env', 'subpath', 'volumes', '--wait=true', '--timeout=60s'])
      .catch(() => undefined);
    await stopConnectedParts({ agent, daemon, registry, cp, dir, cgroupRoot: CGROUP_ROOT });
  });

  test('envFrom with a prefix sets names that are not shell names, and resource env vars divide by 1', async () => {
    // PID 1's /proc/1/environ is what the runtime gave execve, whatever the shell keeps of it.
    const manifest = `apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: default }
data: { data-1: value-1 }
---
apiVersion: v1
kind: Pod
metadata: { name: env, namespace: default }
spec:
  nodeName: ${NODE}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sh", "-c", "tr '\\\\0' '\\\\n' < /proc/1/environ | grep -e data- -e _LIMIT -e _REQUEST > /dev/termination-log"]
      envFrom: [{ prefix: "1-", configMapRef: { name: cfg } }]
      resources: { limits: { cpu: 1250m, memory: 64Mi }, requests: { cpu: 250m, memory: 32Mi } }
      env:
        - { name: CPU_LIMIT, valueFrom: { resourceFieldRef: { resource: limits.cpu } } }
        - { name: MEMORY_LIMIT, valueFrom: { resourceFieldRef: { resource: limits.memory } } }
        - { name: CPU_REQUEST, valueFrom: { resourceFieldRef: { resource: requests.cpu } } }
        - { name: MEMORY_REQUEST, valueFrom: { resourceFieldRef: { resource: requests.memory } } }
`;
    await kubectl(['apply', '-f', '-'], manifest);
    const done = await waitFor('the env pod to finish', async () => {
      const pod = await getPod('env');
      return stateOf(pod)?.terminated ? pod : undefined;
    });
    const terminated = stateOf(done)!.terminated!;
    expect(terminated.exitCode).toBe(0);
    expect(terminated.message!.split('\n').filter(Boolean).sort()).toEqual([
      '1-data-1=value-1',
      'CPU_LIMIT=2',
      'CPU_REQUEST=1',
      'MEMORY_LIMIT=67108864',
      'MEMORY_REQUEST=33554432',
    ]);
  });

  test('an image volume shows the image read-only, whole or by subPath; a projected item shows a limit', async () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata: { name: volumes, namespace: default }
spec:
  nodeName: ${NODE}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sh", "-c", "{ ls /img/bin/sh /imgbin/sh; touch /img/x || echo refused; cat /info/memory_limit; echo; } > /dev/termination-log 2>&1"]
      resources: { limits: { memory: 64Mi } }
      volumeMounts:
        - { name: img, mountPath: /img }
        - { name: img, mountPath: /imgbin, subPath: bin }
        - { name: info, mountPath: /info }
  volumes:
    - name: img
      image: { reference: ${IMAGE}, pullPolicy: IfNotPresent }
    - name: info
      projected:
        sources:
          - downwardAPI:
              items:
                - path: memory_limit
                  resourceFieldRef: { containerName: main, resource: limits.memory, divisor: 1Mi }
`;
    await kubectl(['apply', '-f', '-'], manifest);
    const done = await waitFor('the volumes pod to finish', async () => {
      const pod = await getPod('volumes');
      return stateOf(pod)?.terminated ? pod : undefined;
    });
    const lines = stateOf(done)!.terminated!.message!.split('\n').filter(Boolean);
    expect(lines).toEqual(expect.arrayContaining(['/img/bin/sh', '/imgbin/sh', 'refused', '64']));
    expect(lines.join('\n')).toMatch(/Read-only file system/);
  });

  test('a deleted pod held by a finalizer shows a terminal phase, as a Job controller waits for', async () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata: { name: held, namespace: default, finalizers: [nodelet.test/hold] }
spec:
  nodeName: ${NODE}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - { name: main, image: ${IMAGE}, command: ["sleep", "3600"] }
`;
    await kubectl(['apply', '-f', '-'], manifest);
    await waitFor('the held pod to run', async () => stateOf(await getPod('held'))?.running);
    await kubectl(['delete', 'pod', 'held', '--wait=false']);
    try {
      const ended = await waitFor('a terminal phase', async () => {
        const pod = await getPod('held');
        return pod && ['Failed', 'Succeeded'].includes(pod.status.phase ?? '') ? pod : undefined;
      });
      // sleep as PID 1 ignores SIGTERM: the end of its 1 s grace period kills it (137).
      expect(ended.status.phase).toBe('Failed');
      expect(stateOf(ended)?.terminated?.exitCode).toBe(137);
    } finally {
      await kubectl(['patch', 'pod', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    }
    await waitFor('the held pod to go', async () => !(await getPod('held')));
  });

  test('a subPathExpr waits for the annotation it expands from; observedGeneration follows each spec update', async () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata: { name: subpath, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  volumes: [{ name: work, emptyDir: {} }]
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sh", "-c", "touch /subpath_mount/marker && test -f /volume_mount/mypath/subpath/marker && sleep 1000"]
      env:
        - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
        - { name: ANNOTATION, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['mysubpath']" } } }
      volumeMounts:
        - { name: work, mountPath: /subpath_mount, subPathExpr: "$(ANNOTATION)/$(POD_NAME)" }
        - { name: work, mountPath: /volume_mount }
`;
    await kubectl(['apply', '-f', '-'], manifest);
    const failing = await waitFor('CreateContainerConfigError', async () => {
      const pod = await getPod('subpath');
      return stateOf(pod)?.waiting?.reason === 'CreateContainerConfigError' ? pod : undefined;
    });
    expect(stateOf(failing)!.waiting!.message).toBe('missing value for ANNOTATION');
    expect(failing.status.observedGeneration).toBe(1);

    await kubectl(['annotate', 'pod', 'subpath', 'mysubpath=mypath']);
    await waitFor('the container to run', async () => stateOf(await getPod('subpath'))?.running);

    // A spec update bumps the generation; the node says it has seen it.
    await kubectl(['patch', 'pod', 'subpath', '-p', '{"spec":{"activeDeadlineSeconds":5000}}']);
    const seen = await waitFor('observedGeneration 2', async () => {
      const pod = await getPod('subpath');
      return pod?.status.observedGeneration === 2 ? pod : undefined;
    });
    expect(seen.metadata.generation).toBe(2);
    expect(stateOf(seen)?.running).toBeDefined();
  });
});
