// The kubelet's forensic checkpoint on `nodelet agent`'s API: POST /checkpoint/<ns>/<pod>/<container>
// has the runtime (nodelet, with CRIU) write the archive under <root-dir>/checkpoints/ with the
// kubelet's name, answers {"items": [path]}, and leaves the container running.
import { ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { removeAllPods } from '../../support/cri_client';
import { workingCriu } from '../../support/criu';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { startRegistry } from '../../support/registry';
import { freePort } from './kubelet_api_scenario';

jest.setTimeout(240_000);

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const NODE = 'kapi-ckpt';
const CGROUP_ROOT = `/nodelet-kapi-ckpt-${process.pid}`;
let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
let daemon: TestDaemon | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';
let dir = '';
let port = 0;

interface Reply {
  status: number;
  body: string;
}

// Anonymous requests are let in (AlwaysAllow): this agent has no client CA.
function request(method: string, pathname: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    https
      .request({ host: '127.0.0.1', port, path: pathname, method, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .end();
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const until = Date.now() + 120_000;
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
metadata: { name: counter, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: count
      image: ${IMAGE}
      command: ["sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done"]
`;

beforeAll(async () => {
  const criu = workingCriu();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kapi-ckpt-'));
  for (const d of ['manifests', 'root', 'logs']) fs.mkdirSync(path.join(dir, d));
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig(), criuPath: criu } });
  port = await freePort();
  fs.writeFileSync(path.join(dir, 'manifests', 'counter.yaml'), manifest);
  agent = spawnAgent(
    { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
    ['--address', '127.0.0.1', '--port', String(port), '--anonymous-auth=true'],
    (chunk) => (agentLog += chunk),
  );
  await waitFor('the pod to run', async () => {
    const pods = JSON.parse((await request('GET', '/pods')).body) as {
      items: { status?: { containerStatuses?: { state?: { running?: unknown } }[] } }[];
    };
    return pods.items[0]?.status?.containerStatuses?.[0]?.state?.running !== undefined;
  });
});

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    fs.rmSync(path.join(dir, 'manifests', 'counter.yaml'), { force: true });
    await waitFor(
      'the pod to go',
      async () => JSON.parse((await request('GET', '/pods')).body).items.length === 0,
    ).catch(() => undefined);
    await stopAgent(agent);
  }
  if (daemon) {
    await removeAllPods(daemon.endpoint).catch(() => undefined);
    await daemon.stop();
    await daemon.cleanup();
  }
  await registry?.stop();
  if (dir) await unmountUnder(dir);
  removeCgroupTree(CGROUP_ROOT);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('POST /checkpoint writes the archive under the root dir with the kubelet name, and the pod runs on', async () => {
  const reply = await request('POST', `/checkpoint/default/counter-${NODE}/count?timeout=120`);
  expect(reply.status).toBe(200);
  const { items } = JSON.parse(reply.body) as { items: string[] };
  expect(items).toHaveLength(1);
  const archive = items[0];
  expect(path.dirname(archive)).toBe(path.join(dir, 'root', 'checkpoints'));
  expect(path.basename(archive)).toMatch(
    /^checkpoint-counter-kapi-ckpt_default-count-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.tar$/,
  );
  const members = execFileSync('tar', ['-tf', archive]).toString().split('\n');
  expect(members).toEqual(
    expect.arrayContaining(['./config.dump', './spec.dump', './checkpoint/inventory.img']),
  );
  const pods = JSON.parse((await request('GET', '/pods')).body) as {
    items: { status: { containerStatuses: { state: { running?: unknown }; restartCount: number }[] } }[];
  };
  expect(pods.items[0].status.containerStatuses[0].state.running).toBeDefined();
  expect(pods.items[0].status.containerStatuses[0].restartCount).toBe(0);
});

test('/checkpoint answers 404 for a container the pod does not have, and 405 to GET', async () => {
  expect((await request('POST', `/checkpoint/default/counter-${NODE}/nope`)).status).toBe(404);
  expect((await request('GET', `/checkpoint/default/counter-${NODE}/count`)).status).toBe(405);
  expect((await request('POST', `/checkpoint/default/counter-${NODE}/count?timeout=-1`)).status).toBe(400);
});
