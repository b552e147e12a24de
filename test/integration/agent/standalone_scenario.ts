// The standalone-mode scenario every CRI runtime must pass with the agent unchanged: static pods from
// a manifest directory run (init container, two app containers sharing an emptyDir, env without
// configMaps), a container whose liveness probe fails restarts with back-off, a restarted agent restarts
// nothing, and deleting the file removes the pod with its grace period. Used by one test file per runtime.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Backoff } from '../../../src/agent/backoff';
import { CriClient } from '../../../src/agent/cri_client';
import { Agent, startAgent } from '../../../src/agent';
import type { PodStatusView } from '../../../src/agent/pod_status';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';

export interface RuntimeUnderTest {
  endpoint: string;
  /** A busybox image the runtime has or can pull. */
  image: string;
  /** The prefix of container IDs in the pod status (`containerd://…`). */
  runtimeName: string;
  /** Stops the runtime and removes everything it had. */
  stop(): Promise<void>;
}

export function standaloneScenario(setup: { name: string; start(): Promise<RuntimeUnderTest> }): void {
  const NODE = 'testnode';
  const CGROUP_ROOT = `/nodelet-agent-test-${process.pid}-${setup.name}`;
  let runtime: RuntimeUnderTest;
  let dir: string;
  let cri: CriClient;
  let agent: Agent | undefined;

  const dirs = () => ({
    manifests: path.join(dir, 'manifests'),
    root: path.join(dir, 'agent'),
    logs: path.join(dir, 'logs'),
    host: path.join(dir, 'host'),
  });

  function start(): Promise<Agent> {
    const d = dirs();
    return startAgent({
      endpoint: runtime.endpoint,
      manifestDir: d.manifests,
      rootDir: d.root,
      podLogsDir: d.logs,
      nodeName: NODE,
      cgroupRoot: CGROUP_ROOT,
      syncIntervalMs: 300,
      rescanMs: 1000,
      backoff: new Backoff({ initialMs: 3000, maxMs: 20_000 }),
      log: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
    });
  }

  async function waitFor<T>(
    what: string,
    probe: () => T | undefined | false,
    timeoutMs = 60_000,
  ): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  function statusOf(name: string): PodStatusView | undefined {
    for (const { desired, status } of agent!.pods().values())
      if (desired.name === `${name}-${NODE}`) return status;
    return undefined;
  }

  function statusFile(name: string): { status: PodStatusView } | undefined {
    const entry = [...agent!.pods().values()].find((p) => p.desired.name === `${name}-${NODE}`);
    if (!entry) return undefined;
    const file = path.join(dirs().root, 'pods', entry.desired.uid, 'status.json');
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
  }

  const podYaml = (host: string, image: string) => `
  apiVersion: v1
  kind: Pod
  metadata:
    name: web
    labels: { app: web }
  spec:
    terminationGracePeriodSeconds: 4
    volumes:
      - name: shared
        emptyDir: {}
      - name: scratch
        emptyDir: { medium: Memory }
      - name: host
        hostPath: { path: ${host}, type: DirectoryOrCreate }
    initContainers:
      - name: init
        image: ${image}
        command: ["sh", "-c", "echo from-init > /shared/init.txt"]
        volumeMounts: [{ name: shared, mountPath: /shared }]
    containers:
      - name: writer
        image: ${image}
        env:
          - { name: GREETING, value: hello }
          - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
          - { name: MESSAGE, value: "$(GREETING) from $(POD_NAME)" }
        command: ["sh", "-c"]
        args:
          - |
            trap 'echo term > /host/writer-term; exit 0' TERM
            echo "$MESSAGE"
            echo "$MESSAGE" > /shared/message
            while true; do sleep 1; done
        volumeMounts:
          - { name: shared, mountPath: /shared }
          - { name: scratch, mountPath: /scratch }
          - { name: host, mountPath: /host }
        lifecycle:
          preStop:
            exec: { command: ["sh", "-c", "echo bye > /host/prestop"] }
      - name: flaky
        image: ${image}
        command: ["sh", "-c", "touch /tmp/alive; cat /shared/init.txt; sleep 2; rm /tmp/alive; sleep 1000"]
        volumeMounts: [{ name: shared, mountPath: /shared }]
        livenessProbe:
          exec: { command: ["cat", "/tmp/alive"] }
          periodSeconds: 1
          failureThreshold: 1
  `;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-agent-it-'));
    for (const d of Object.values(dirs())) if (!d.endsWith('host')) fs.mkdirSync(d, { recursive: true });
    runtime = await setup.start();
    cri = new CriClient(runtime.endpoint);
  });

  afterAll(async () => {
    await agent?.stop();
    cri?.close();
    await runtime?.stop();
    await unmountUnder(dir);
    removeCgroupTree(CGROUP_ROOT);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a static pod with an init container and two app containers sharing an emptyDir runs and reports its status', async () => {
    agent = await start();
    fs.writeFileSync(path.join(dirs().manifests, 'web.yaml'), podYaml(dirs().host, runtime.image));
    agent.rescan();
    const running = await waitFor('the pod to run', () => {
      const s = statusOf('web');
      return s?.phase === 'Running' && s.containerStatuses.every((c) => 'running' in c.state) ? s : undefined;
    });
    expect(running.podIP).toMatch(/^10\./);
    expect(running.qosClass).toBe('BestEffort');
    expect(running.initContainerStatuses[0].state).toMatchObject({
      terminated: { exitCode: 0, reason: 'Completed' },
    });
    expect(running.containerStatuses[0].containerID).toMatch(new RegExp(`^${runtime.runtimeName}://`));
    expect(running.conditions.find((c) => c.type === 'Initialized')?.status).toBe('True');

    const file = statusFile('web');
    expect(file?.status.phase).toBe('Running');

    const uid = [...agent.pods().values()][0].desired.uid;
    const logDir = path.join(dirs().logs, `default_web-${NODE}_${uid}`);
    const log = await waitFor('the writer log', () => {
      const p = path.join(logDir, 'writer', '0.log');
      return fs.existsSync(p) && fs.readFileSync(p, 'utf8').includes('hello from web-testnode')
        ? 'ok'
        : undefined;
    });
    expect(log).toBe('ok');
    // the runtime copies output to the log file on its own schedule: wait for the line
    await waitFor('the flaky log', () => {
      const p = path.join(logDir, 'flaky', '0.log');
      return fs.existsSync(p) && fs.readFileSync(p, 'utf8').includes('from-init');
    });
    expect(
      fs.readFileSync(
        path.join(dirs().root, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'shared', 'message'),
        'utf8',
      ),
    ).toBe('hello from web-testnode\n');
  });

  test('a container whose liveness probe fails is restarted with back-off and keeps its previous log', async () => {
    const restarted = await waitFor(
      'CrashLoopBackOff',
      () => {
        const flaky = statusOf('web')?.containerStatuses.find((c) => c.name === 'flaky');
        return flaky && 'waiting' in flaky.state && flaky.state.waiting.reason === 'CrashLoopBackOff'
          ? flaky
          : undefined;
      },
      90_000,
    );
    expect(restarted.restartCount).toBeGreaterThanOrEqual(1);
    expect(restarted.lastState).toMatchObject({ terminated: { exitCode: 137 } });
    const uid = [...agent!.pods().values()][0].desired.uid;
    const { containers } = await cri.listContainers({
      filter: { label_selector: { 'io.kubernetes.pod.uid': uid } },
    });
    const flaky = containers.filter((c) => c.metadata?.name === 'flaky');
    // the garbage collector keeps the newest dead container for `logs --previous`, and no older ones
    expect(flaky.filter((c) => c.state === 'CONTAINER_EXITED').length).toBeLessThanOrEqual(1);
    // the previous attempt's log stays readable (`kubectl logs --previous`)
    const logDir = path.join(dirs().logs, `default_web-${NODE}_${uid}`);
    expect(fs.readFileSync(path.join(logDir, 'flaky', `${restarted.restartCount}.log`), 'utf8')).not.toBe('');
    const writer = statusOf('web')!.containerStatuses.find((c) => c.name === 'writer')!;
    expect(writer.restartCount).toBe(0);
  });

  test('a restarted agent picks up the running pod without restarting it', async () => {
    const before = statusOf('web')!.containerStatuses.find((c) => c.name === 'writer')!;
    await agent!.stop();
    agent = await start();
    const after = await waitFor('the status after restart', () => {
      const s = statusOf('web');
      const w = s?.containerStatuses.find((c) => c.name === 'writer');
      return w && 'running' in w.state ? w : undefined;
    });
    expect(after.containerID).toBe(before.containerID);
    expect(after.restartCount).toBe(0);
    expect(statusOf('web')!.initContainerStatuses[0].restartCount).toBe(0);
  });

  test('deleting the manifest stops the pod within its grace period and removes everything it had', async () => {
    const uid = [...agent!.pods().values()][0].desired.uid;
    fs.rmSync(path.join(dirs().manifests, 'web.yaml'));
    agent!.rescan();
    await agent!.settled();
    expect(agent!.pods().size).toBe(0);
    expect(fs.readFileSync(path.join(dirs().host, 'prestop'), 'utf8')).toBe('bye\n');
    expect(fs.readFileSync(path.join(dirs().host, 'writer-term'), 'utf8')).toBe('term\n');
    const { items } = await cri.listPodSandbox({
      filter: { label_selector: { 'io.kubernetes.pod.uid': uid } },
    });
    expect(items).toEqual([]);
    expect(fs.existsSync(path.join(dirs().root, 'pods', uid))).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dirs().root);
  });

  test('a manifest using a configMap volume is reported as failed with a clear reason', async () => {
    fs.writeFileSync(
      path.join(dirs().manifests, 'cm.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'cm' },
        spec: {
          containers: [{ name: 'c', image: runtime.image }],
          volumes: [{ name: 'cfg', configMap: { name: 'x' } }],
        },
      }),
    );
    agent!.rescan();
    const file = await waitFor('the status file', () => statusFile('cm'));
    expect(file.status.phase).toBe('Failed');
    expect(file.status.message).toContain("volume 'cfg' of type configMap needs the API server");
    fs.rmSync(path.join(dirs().manifests, 'cm.json'));
    agent!.rescan();
    await agent!.settled();
  });
}
