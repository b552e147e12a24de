// kubectl through a real kube-apiserver to the agent's kubelet API: `kubectl logs`, `kubectl exec`
// (WebSocket to the API server, SPDY from it to the agent, proxied to nodelet's streaming server)
// and the node proxy to /stats/summary and /metrics/resource. The agent runs in standalone mode;
// the test registers its Node (address and kubelet port) and a Pod of the static pod's name itself,
// which is all the API server needs to find the kubelet. Skipped when the kube tools are not built.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CriClient } from '../../../src/agent/cri_client';
import http from 'node:http';
import {
  ControlPlane,
  controlPlaneInstalled,
  KUBE_TOOLS,
  startControlPlane,
} from '../../support/control_plane';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { removeAllPods } from '../../support/cri_client';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { startRegistry, type TestRegistry } from '../../support/registry';
import { freePort } from './kubelet_api_scenario';

jest.setTimeout(180_000);

const NODE = 'kapi-api-node';
const POD = `talker-${NODE}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const CGROUP_ROOT = `/nodelet-kapi-apiserver-${process.pid}`;
const describeIf = controlPlaneInstalled() ? describe : describe.skip;
// The API server's node proxy refuses loopback addresses ("address not allowed"): the agent listens
// on the host's own address when it has one.
const HOST_IP = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

describeIf('kubectl through the API server to the agent', () => {
  let cp: ControlPlane;
  let registry: TestRegistry;
  let daemon: TestDaemon;
  let dir: string;
  let agent: ChildProcess | undefined;
  let agentLog = '';

  const kubectl = async (args: string[], input?: string) => {
    const r = await cp.kubectl(args, input);
    return { ...r, all: `${r.stdout}${r.stderr}` };
  };

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false>,
    timeoutMs = 90_000,
  ): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kapi-api-'));
    for (const d of ['manifests', 'root', 'logs']) fs.mkdirSync(path.join(dir, d));
    cp = await startControlPlane();
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
    const port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'manifests', 'talker.yaml'),
      `apiVersion: v1
kind: Pod
metadata: { name: talker }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sh", "-c", "echo hello from the node; exec sleep 3600"]
    - name: web
      image: ${IMAGE}
      command: ["sh", "-c", "mkdir /www && echo served in the pod > /www/index.html && exec httpd -f -p 8080 -h /www"]
`,
    );
    agent = spawnAgent(
      { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
      [
        ...['--address', HOST_IP ?? '127.0.0.1', '--port', String(port)],
        // the API server's kubelet client certificate is the only identity the agent trusts
        ...['--client-ca-file', cp.kubeletClient.caFile],
      ],
      (chunk) => (agentLog += chunk),
    );

    // What a connected agent would register: the Node with its address and kubelet port, the Pod bound to it.
    const node = await kubectl(
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } }),
    );
    expect(node.all).toContain('created');
    const status = {
      status: {
        addresses: [{ type: 'InternalIP', address: HOST_IP ?? '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
      },
    };
    const patched = await kubectl([
      'patch',
      'node',
      NODE,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
    expect(patched.code).toBe(0);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: 'default' },
      spec: {
        nodeName: NODE,
        containers: [
          { name: 'main', image: IMAGE },
          { name: 'web', image: IMAGE },
        ],
      },
    };
    expect((await kubectl(['create', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    // kubectl port-forward wants a Running pod; here no kubelet posts the status, so the test does.
    const running = JSON.stringify({ status: { phase: 'Running' } });
    const podPatch = await kubectl([
      'patch',
      'pod',
      POD,
      '--subresource=status',
      '--type=merge',
      '-p',
      running,
    ]);
    expect(podPatch.code).toBe(0);
    await waitFor('the container log', async () =>
      (await kubectl(['logs', POD, '-c', 'main'])).stdout.includes('hello'),
    );
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      fs.rmSync(path.join(dir, 'manifests', 'talker.yaml'), { force: true });
      const cri = new CriClient(daemon.endpoint);
      await waitFor('the pod to go', async () => (await cri.listPodSandbox()).items.length === 0).catch(
        () => undefined,
      );
      cri.close();
      await stopAgent(agent);
    }
    if (daemon) {
      await removeAllPods(daemon.endpoint);
      await daemon.stop();
      await daemon.cleanup();
    }
    await registry?.stop();
    await cp?.stop();
    if (dir) {
      await unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    removeCgroupTree(CGROUP_ROOT);
  });

  test('kubectl logs reads the container log through the agent', async () => {
    expect((await kubectl(['logs', POD, '-c', 'main'])).stdout).toBe('hello from the node\n');
    const stamped = await kubectl(['logs', POD, '-c', 'main', '--timestamps', '--tail=1']);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z hello from the node\n$/);
  });

  test('kubectl exec runs a command, passes stdin and returns its exit code', async () => {
    const r = await kubectl(['exec', POD, '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code).toBe(3);
    const cat = await kubectl(['exec', '-i', POD, '-c', 'main', '--', 'cat'], 'through the API server\n');
    expect(cat).toMatchObject({ code: 0, stdout: 'through the API server\n' });
  });

  (HOST_IP ? test : test.skip)('the node proxy reaches /stats/summary and /metrics/resource', async () => {
    const raw = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]);
    expect({ code: raw.code, err: raw.stderr }).toEqual({ code: 0, err: '' });
    const summary = JSON.parse(raw.stdout);
    expect(summary.node.nodeName).toBe(NODE);
    expect(summary.pods.map((p: { podRef: { name: string } }) => p.podRef.name)).toContain(POD);
    const resource = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/resource`]);
    expect(resource.stdout).toContain(
      `container_memory_working_set_bytes{container="main",namespace="default",pod="${POD}"}`,
    );
  });

  test('kubectl port-forward reaches a port in the pod', async () => {
    const pf = spawn(
      KUBE_TOOLS.kubectl,
      ['--kubeconfig', cp.adminKubeconfig, 'port-forward', `pod/${POD}`, ':8080', '--address', '127.0.0.1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    pf.stdout!.on('data', (d) => (out += d));
    pf.stderr!.on('data', (d) => (out += d));
    try {
      const local = await new Promise<string>((resolve, reject) => {
        const look = () => {
          const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
          if (port) resolve(port);
        };
        pf.stdout!.on('data', look);
        pf.once('exit', (code) => reject(new Error(`kubectl port-forward exited with ${code}: ${out}`)));
      });
      const body = await waitFor(
        'the page',
        () =>
          new Promise<string | undefined>((resolve) => {
            http
              .get(`http://127.0.0.1:${local}/index.html`, (res) => {
                let text = '';
                res.on('data', (d) => (text += d));
                res.on('end', () => resolve(res.statusCode === 200 ? text : undefined));
              })
              .setTimeout(5000, function (this: http.ClientRequest) {
                this.destroy();
              })
              .on('error', () => resolve(undefined));
          }),
        30_000,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\nkubectl port-forward said: ${out}`);
      });
      expect({ body, out }).toMatchObject({ body: 'served in the pod\n' });
    } finally {
      if (pf.exitCode === null && pf.signalCode === null) {
        const exited = new Promise((r) => pf.once('exit', r));
        pf.kill('SIGTERM');
        await exited;
      }
    }
  });
});
