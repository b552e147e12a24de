// The kubelet API scenario on nodelet's own runtime (daemon from dist/, images from the local registry),
// then the probers' series and the configuration of an agent whose pod has an exec readiness probe.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { removeAllPods } from '../../support/cri_client';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { startRegistry } from '../../support/registry';
import { freePort, kubeletApiScenario } from './kubelet_api_scenario';

jest.setTimeout(180_000);

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
/** The scenario's registry, which the probe test's daemon pulls from too. */
let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;

kubeletApiScenario({
  name: 'nodelet',
  async start() {
    registry = await startRegistry({ withFixtures: true });
    const daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } }).catch(async (err) => {
      await registry?.stop();
      throw err;
    });
    return {
      endpoint: daemon.endpoint,
      image: IMAGE,
      websocketProtocol: 'v5.channel.k8s.io',
      async stop() {
        try {
          await removeAllPods(daemon.endpoint);
        } finally {
          await daemon.stop();
          await daemon.cleanup();
          await registry?.stop();
        }
      },
    };
  },
});

describe('the probers and the configuration on the kubelet API', () => {
  const NODE = 'kapi-probes';
  const POD = `probed-${NODE}`;
  const CGROUP_ROOT = `/nodelet-kapi-probes-${process.pid}`;
  let daemon: TestDaemon | undefined;
  let dir: string;
  let port: number;
  let agent: ChildProcess | undefined;
  let agentLog = '';

  // Anonymous requests are let in (AlwaysAllow): this agent has no client CA.
  function get(pathname: string): Promise<string> {
    return new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: pathname, rejectUnauthorized: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(body))));
        })
        .on('error', reject);
    });
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
    const until = Date.now() + 90_000;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: probed, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: ${IMAGE}
      command: ["sleep", "3600"]
      readinessProbe:
        exec: { command: ["true"] }
        periodSeconds: 1
`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kapi-probes-'));
    for (const d of ['manifests', 'root', 'logs']) fs.mkdirSync(path.join(dir, d));
    port = await freePort();
    daemon = await startDaemon({ config: { registry: registry!.mirrorConfig() } });
    fs.writeFileSync(path.join(dir, 'manifests', 'probed.yaml'), manifest);
    agent = spawnAgent(
      { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
      ['--address', '127.0.0.1', '--port', String(port), '--anonymous-auth=true'],
      (chunk) => (agentLog += chunk),
    );
    await waitFor('the kubelet API', async () => (await get('/healthz')) === 'ok');
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      fs.rmSync(path.join(dir, 'manifests', 'probed.yaml'), { force: true });
      await waitFor('the pod to go', async () => JSON.parse(await get('/pods')).items.length === 0).catch(
        () => undefined,
      );
      await stopAgent(agent);
    }
    if (daemon) {
      await removeAllPods(daemon.endpoint).catch(() => undefined);
      await daemon.stop();
      await daemon.cleanup();
    }
    if (dir) await unmountUnder(dir);
    removeCgroupTree(CGROUP_ROOT);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('/metrics/probes counts the successful readiness probes of the pod and times them', async () => {
    const who = `container="web",pod="${POD}",namespace="default"`;
    const total = new RegExp(
      `^prober_probe_total\\{probe_type="Readiness",result="successful",${who},pod_uid="[^"]+"\\} ([1-9]\\d*)$`,
      'm',
    );
    const text = await waitFor('a counted readiness probe', async () => {
      const body = await get('/metrics/probes');
      return total.test(body) ? body : undefined;
    });
    expect(text).toMatch(
      new RegExp(`^prober_probe_duration_seconds_count\\{probe_type="Readiness",${who}\\} [1-9]`, 'm'),
    );
    expect(text).not.toContain('result="failed"');
    // its own registry: the agent's /metrics series are not there
    expect(text).not.toContain('kubelet_runtime_operations_total');
  });

  test('/configz answers the agent settings as a KubeletConfiguration', async () => {
    const body = await get('/configz');
    expect(JSON.parse(body).kubeletconfig).toMatchObject({
      kind: 'KubeletConfiguration',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      staticPodPath: path.join(dir, 'manifests'),
      fileCheckFrequency: '1s',
      address: '127.0.0.1',
      port,
      readOnlyPort: 0,
      containerRuntimeEndpoint: daemon!.endpoint,
      cgroupRoot: CGROUP_ROOT,
      authentication: { anonymous: { enabled: true } },
      authorization: { mode: 'AlwaysAllow' },
    });
    expect(body).not.toContain('PRIVATE KEY');
  });

  test("a removed pod's probe series leave /metrics/probes", async () => {
    fs.rmSync(path.join(dir, 'manifests', 'probed.yaml'));
    await waitFor('the pod to go', async () => JSON.parse(await get('/pods')).items.length === 0);
    await waitFor('its series to go', async () => !(await get('/metrics/probes')).includes(`pod="${POD}"`));
  });
});
