// Container logs as log shippers and `kubectl logs` see them, on nodelet's runtime with the agent
// from dist/: a container writes past --container-log-max-size, the agent rotates its log through
// ReopenContainerLog (older files gzipped, no more than --container-log-max-files), links it in
// --container-logs-dir, and the kubelet API reads the previous instance across the rotated files.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { removeAllPods } from '../../support/cri_client';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { kubeletGet } from '../../support/kubelet_api_client';
import { startRegistry } from '../../support/registry';
import { freePort } from './kubelet_api_scenario';

jest.setTimeout(300_000);

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const NODE = 'logs-node';
const CGROUP_ROOT = `/nodelet-agent-logs-${process.pid}`;
const LINES = 300;

// The first instance writes LINES numbered lines of about 100 bytes over ~15 s, then fails; the
// second (the emptyDir remembers the first ran) says so and sleeps.
const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: logsy, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{ name: data, emptyDir: {} }]
  containers:
    - name: app
      image: ${IMAGE}
      volumeMounts: [{ name: data, mountPath: /data }]
      command:
        - sh
        - -c
        - |
          if [ -e /data/ran ]; then echo second instance; exec sleep 3600; fi
          touch /data/ran
          i=1000
          while [ $i -lt ${1000 + LINES} ]; do
            echo "line $i ................................................................................"
            i=$((i+1)); sleep 0.05
          done
          exit 1
`;

let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
let daemon: TestDaemon | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';
let dir: string;
let port: number;

const get = (p: string) => kubeletGet(port, p);

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  ms = 120_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface ApiPod {
  metadata: { name: string; namespace: string; uid: string };
  status?: {
    containerStatuses?: { containerID?: string; restartCount: number; state: Record<string, unknown> }[];
  };
}

async function thePod(): Promise<ApiPod | undefined> {
  return (JSON.parse(await get('/pods')) as { items: ApiPod[] }).items[0];
}

/** The numbers of the `line NNNN` lines of an answer. */
const numbers = (text: string) => [...text.matchAll(/^line (\d+) /gm)].map((m) => Number(m[1]));
const contiguousTo = (ns: number[], last: number) => ns.every((n, i) => n === last - ns.length + 1 + i);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-agent-logs-'));
  for (const d of ['manifests', 'root', 'logs']) fs.mkdirSync(path.join(dir, d));
  port = await freePort();
  registry = await startRegistry({ withFixtures: true });
  // A loaded machine can take long to start the daemon.
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 60_000 });
  fs.writeFileSync(path.join(dir, 'manifests', 'logsy.yaml'), manifest);
  agent = spawnAgent(
    { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
    [
      ...['--address', '127.0.0.1', '--port', String(port), '--anonymous-auth=true'],
      ...['--container-log-max-size', '2Ki', '--container-log-max-files', '3'],
      ...['--container-log-monitor-interval', '3s'],
    ],
    (chunk) => (agentLog += chunk),
  );
});

afterAll(async () => {
  if (agent) await stopAgent(agent);
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

describe('container logs on an agent node', () => {
  let pod: ApiPod;
  let appDir: string;

  test('the running container is linked and its log is rotated: older files gzipped, at most max files', async () => {
    pod = await waitFor('the container to run', async () => {
      const p = await thePod();
      return p?.status?.containerStatuses?.[0]?.state.running ? p : undefined;
    });
    const { name, namespace, uid } = pod.metadata;
    appDir = path.join(dir, 'logs', `${namespace}_${name}_${uid}`, 'app');
    const id = pod.status!.containerStatuses![0].containerID!.replace(/^[a-z]+:\/\//, '');
    const link = path.join(dir, 'containers', `${name}_${namespace}_app-${id}.log`);
    expect(fs.readlinkSync(link)).toBe(path.join(appDir, '0.log'));
    // Rotated twice at least: the older rotation is gzipped.
    await waitFor('a gzipped rotation', async () =>
      fs.readdirSync(appDir).some((f) => /^0\.log\.\d{8}-\d{6}\.gz$/.test(f)),
    );
    const files = fs.readdirSync(appDir).filter((f) => f.startsWith('0.log'));
    expect(files.length).toBeLessThanOrEqual(3);
    expect(files).toContain('0.log');
    const gz = files.find((f) => f.endsWith('.gz'))!;
    expect(zlib.gunzipSync(fs.readFileSync(path.join(appDir, gz))).toString()).toMatch(/ stdout F line \d+ /);
  });

  test('after a restart, previous=true reads the first instance across its rotated files', async () => {
    await waitFor('the restart', async () => {
      const s = (await thePod())?.status?.containerStatuses?.[0];
      return s && s.restartCount >= 1 && s.state.running;
    });
    const { name, namespace } = pod.metadata;
    const base = `/containerLogs/${namespace}/${name}/app`;
    expect(await get(base)).toBe('second instance\n');
    const previous = numbers(await get(`${base}?previous=true`));
    const last = 1000 + LINES - 1;
    const live = numbers(fs.readFileSync(path.join(appDir, '0.log'), 'utf8'));
    // What the live file holds and more: the rotated files, read in order, up to the last line.
    expect(previous.length).toBeGreaterThan(live.length);
    expect(contiguousTo(previous, last)).toBe(true);
    // Rotation removed the oldest files: the first lines are gone.
    expect(previous[0]).toBeGreaterThan(1000);

    const tail = live.length + 5;
    const tailed = numbers(await get(`${base}?previous=true&tailLines=${tail}`));
    expect(tailed).toEqual(previous.slice(-tail));

    const limited = await get(`${base}?previous=true&limitBytes=150`);
    expect(limited.length).toBe(150);
    expect(limited.startsWith(`line ${previous[0]} `)).toBe(true);

    const stamped = await get(`${base}?previous=true&tailLines=1&timestamps=true`);
    expect(stamped).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z line ${last} \\.+\\n$`));
  });

  test("a removed pod's links and log files go with it", async () => {
    fs.rmSync(path.join(dir, 'manifests', 'logsy.yaml'));
    await waitFor('the pod to go', async () => (await thePod()) === undefined);
    await waitFor('the links to go', async () => fs.readdirSync(path.join(dir, 'containers')).length === 0);
    await waitFor('the log directory to go', async () => !fs.existsSync(appDir));
  });
});
