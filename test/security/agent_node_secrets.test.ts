// Attack: an unprivileged user of the node reads what pods keep on it. Secrets, service account
// tokens and memory-backed emptyDirs live under <root-dir>/pods/<uid>; their tmpfs roots are 1777
// and their files 0644 (the pod's defaultMode), as with the kubelet, so only the pod directory's
// mode (0750, the kubelet's) keeps other users out. The reader is `setpriv` as nobody (65534) on the
// host; the pod's own containers, as nobody too, must still read everything.
import { execFileSync, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Agent, startAgent } from '../../src/agent';
import type { PodStatusView } from '../../src/agent/pod_status';
import { spawnAgent, stopAgent } from '../support/agent_process';
import { removeAllPods } from '../support/cri_client';
import { removeCgroupTree, unmountUnder } from '../support/containerd';
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../support/control_plane';
import { startDaemon, TestDaemon } from '../support/daemon';
import { startRegistry, TestRegistry } from '../support/registry';

jest.setTimeout(300_000);

const NODE = `secrets-${process.pid}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const CGROUP_ROOT = `/nodelet-agent-secrets-${process.pid}`;

let dir: string;
let registry: TestRegistry;
let daemon: TestDaemon;

/** Runs a command as nobody with no groups; returns whether it succeeded and what it printed. */
function asNobody(cmd: string[]): { ok: boolean; out: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Every regular file below `root` (read as root), including those on the pod's tmpfs mounts. */
function filesUnder(root: string): string[] {
  return execFileSync('find', [root, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Asserts that nobody can list the pod directory nor read any file in it, and that there are files. */
function expectSealed(podDir: string, secrets: string[]): void {
  const files = filesUnder(podDir);
  for (const s of secrets) expect(files.some((f) => fs.readFileSync(f, 'utf8').includes(s))).toBe(true);
  for (const f of files) {
    const r = asNobody(['cat', f]);
    for (const s of secrets) expect(r.out).not.toContain(s);
    expect({ file: f, ok: r.ok }).toEqual({ file: f, ok: false });
  }
  expect(asNobody(['ls', podDir]).ok).toBe(false);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-sec-secrets-'));
  // As /var/lib is: anyone may walk to the agent's root directory; its pods must keep them out.
  fs.chmodSync(dir, 0o755);
  for (const d of ['manifests', 'root', 'logs']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 });
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
});

afterAll(async () => {
  if (daemon) {
    await removeAllPods(daemon.endpoint);
    await daemon.stop();
    await daemon.cleanup();
  }
  await registry?.stop();
  await unmountUnder(dir);
  removeCgroupTree(CGROUP_ROOT);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('no other user of the node reads a pod’s memory-backed emptyDir or downwardAPI files', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'keeper', labels: { secret: 'label-s3cret' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsUser: 65534, runAsGroup: 65534 },
      volumes: [
        { name: 'mem', emptyDir: { medium: 'Memory' } },
        {
          name: 'info',
          downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
        },
      ],
      containers: [
        {
          name: 'main',
          image: IMAGE,
          // The container, as nobody, writes to and reads from its volumes.
          command: ['sh', '-c', 'echo mem-s3cret > /mem/key && cat /info/labels > /mem/copied; sleep 3600'],
          volumeMounts: [
            { name: 'mem', mountPath: '/mem' },
            { name: 'info', mountPath: '/info' },
          ],
        },
      ],
    },
  };
  fs.writeFileSync(path.join(dir, 'manifests', 'keeper.json'), JSON.stringify(pod));
  const agent: Agent = await startAgent({
    endpoint: daemon.endpoint,
    manifestDir: path.join(dir, 'manifests'),
    rootDir: path.join(dir, 'root'),
    podLogsDir: path.join(dir, 'logs'),
    nodeName: NODE,
    cgroupRoot: CGROUP_ROOT,
    syncIntervalMs: 300,
    rescanMs: 1000,
    log: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
  });
  try {
    const [uid] = [...agent.pods().keys()];
    const podDir = path.join(dir, 'root', 'pods', uid);
    const mem = path.join(podDir, 'volumes', 'kubernetes.io~empty-dir', 'mem');
    await waitFor('the container to write its secrets', async () => {
      const s: PodStatusView | undefined = agent.pods().get(uid)?.status;
      return s?.phase === 'Running' && fs.existsSync(path.join(mem, 'copied'));
    });
    expect(fs.readFileSync(path.join(mem, 'copied'), 'utf8')).toContain('label-s3cret');
    expectSealed(podDir, ['mem-s3cret', 'label-s3cret']);
    // The kubelet's modes: the pods directory and each pod's directory 0750.
    expect(fs.statSync(path.join(dir, 'root', 'pods')).mode & 0o777).toBe(0o750);
    expect(fs.statSync(podDir).mode & 0o777).toBe(0o750);
    expect(fs.statSync(path.join(podDir, 'volumes')).mode & 0o777).toBe(0o750);

    fs.rmSync(path.join(dir, 'manifests', 'keeper.json'));
    agent.rescan();
    await agent.settled();
  } finally {
    await agent.stop();
  }
});

const installed = controlPlaneInstalled();
(installed ? describe : describe.skip)(
  installed
    ? 'connected mode'
    : 'connected mode (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)',
  () => {
    let cp: ControlPlane;
    let agent: ChildProcess | undefined;
    let agentLog = '';

    beforeAll(async () => {
      cp = await startControlPlane();
    });
    afterAll(async () => {
      if (agent) await stopAgent(agent);
      await cp?.stop();
    });

    test('no other user of the node reads a pod’s secret volume or service account token', async () => {
      const objects = `apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: default }
stringData: { password: secret-hunter2 }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: reader, namespace: default }
---
apiVersion: v1
kind: Pod
metadata: { name: reader, namespace: default }
spec:
  nodeName: ${NODE}
  serviceAccountName: reader
  terminationGracePeriodSeconds: 1
  securityContext: { runAsUser: 65534, runAsGroup: 65534 }
  volumes:
    - name: api-access
      projected:
        sources:
          - serviceAccountToken: { path: token, expirationSeconds: 3607 }
    - { name: creds, secret: { secretName: creds } }
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sleep", "1000"]
      volumeMounts:
        - { name: creds, mountPath: /etc/creds, readOnly: true }
        - { name: api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true }
`;
      agent = spawnAgent(
        { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
        [
          ...['--kubeconfig', cp.kubeconfigFor(`system:node:${NODE}`, ['system:nodes'])],
          ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
          ...['--client-ca-file', cp.kubeletClient.caFile],
        ],
        (chunk) => (agentLog += chunk),
      );
      expect((await cp.kubectl(['apply', '-f', '-'], objects)).code).toBe(0);
      const uid = await waitFor('the reader to run', async () => {
        const r = await cp.kubectl(['get', 'pod', 'reader', '-o', 'json']);
        if (r.code !== 0) return undefined;
        const p = JSON.parse(r.stdout) as { metadata: { uid: string }; status: { phase: string } };
        return p.status.phase === 'Running' && p.metadata.uid;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n${agentLog.slice(-3000)}`);
      });
      // The container, as nobody, reads its secret and its token.
      const inPod = await cp.kubectl([
        'exec',
        'reader',
        '--',
        'sh',
        '-c',
        'cat /etc/creds/password; echo; head -c 3 /var/run/secrets/kubernetes.io/serviceaccount/token',
      ]);
      expect({ ...inPod, stderr: inPod.code ? inPod.stderr : '' }).toEqual({
        code: 0,
        stdout: 'secret-hunter2\neyJ',
        stderr: '',
      });
      const podDir = path.join(dir, 'root', 'pods', uid);
      expectSealed(podDir, ['secret-hunter2', 'eyJ']);
      expect((await cp.kubectl(['delete', 'pod', 'reader', '--wait=true', '--timeout=60s'])).code).toBe(0);
    });
  },
);
