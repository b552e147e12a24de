// The upstream kubelet, standalone (no apiserver), running static pods on nodelet: init containers,
// shared emptyDirs, resource limits, liveness restarts and back-off, host networking, removal when
// the manifest goes, and a clean kubelet log. Needs root, the real kernel and the kubelet binary.
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';
import { freePort, kubeletInstalled, KUBELET_BIN, startKubelet, TestKubelet } from './kubelet';
import { crashyPod, hostnetPod, webPod } from './pods';
import { ContainerStatus, crictl, criErrors, kubeletPods, Pod, waitFor } from './observe';
import { leftovers, listening, mountsUnder } from './leftovers';

const suite = kubeletInstalled() ? describe : (describe.skip as typeof describe);
const reason = kubeletInstalled() ? '' : ` (skipped: no ${KUBELET_BIN}; run scripts/install-kube-tools.sh)`;

suite(`the upstream kubelet, standalone, on nodelet${reason}`, () => {
  let registry: TestRegistry;
  let daemon: TestDaemon;
  let kubelet: TestKubelet | undefined;
  let startedAt = 0;
  let httpPort = 0;

  const pods = () => kubeletPods(kubelet!.address, kubelet!.port);
  const podName = (name: string) => `${name}-${kubelet!.nodeName}`;
  const logLines = (pattern: RegExp) =>
    kubelet!
      .logs()
      .split('\n')
      .filter((l) => pattern.test(l));
  const container = (pod: Pod | undefined, name: string): ContainerStatus | undefined =>
    pod?.status.containerStatuses?.find((c) => c.name === name);

  beforeAll(async () => {
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
    kubelet = await startKubelet({ endpoint: daemon.endpoint });
    startedAt = Date.now();
    httpPort = await freePort();
    kubelet.addManifest('web.yaml', webPod);
    kubelet.addManifest('crashy.yaml', crashyPod);
    kubelet.addManifest('hostnet.yaml', hostnetPod(httpPort));
  }, 180_000);

  afterAll(async () => {
    await kubelet?.stop().catch(() => undefined);
    await daemon?.stop();
    await daemon?.cleanup();
    await registry?.stop();
  }, 180_000);

  test('the kubelet takes the cgroupfs driver from nodelet and starts without CAP_SYS_RESOURCE', () => {
    const driver = logLines(/cgroup driver setting received from the CRI runtime/i);
    expect(driver.join('\n')).toMatch(/cgroupDriver="cgroupfs"/);
    expect(kubelet!.proc.exitCode).toBeNull();
  });

  test('a static pod with an init container and two containers sharing an emptyDir reaches Running', async () => {
    const web = await waitFor('web to run', async () => {
      const p = (await pods()).get(podName('web'));
      const all = p?.status.containerStatuses ?? [];
      return p?.status.phase === 'Running' && all.length === 2 && all.every((c) => c.ready) ? p : undefined;
    });
    expect(web.status.initContainerStatuses?.[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(web.status.podIP).toMatch(/^10\./);
    const ids = crictl(daemon.endpoint, 'ps', '-q', '--name', '^reader$').out.trim();
    const logs = await waitFor('the reader to see both writers', () => {
      const out = crictl(daemon.endpoint, 'logs', ids).out;
      return out.includes('saw-writer') ? out : undefined;
    });
    expect(logs).toContain('made-by-init');
  });

  test("the writer's resource limits are in its cgroup under the kubelet's cgroup root", async () => {
    const web = (await pods()).get(podName('web'))!;
    const podDir = path.join(
      '/sys/fs/cgroup/memory',
      kubelet!.cgroupRoot,
      'kubepods',
      'burstable',
      `pod${web.metadata.uid}`,
    );
    const limits = fs
      .readdirSync(podDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => fs.readFileSync(path.join(podDir, e.name, 'memory.limit_in_bytes'), 'utf8').trim());
    expect(limits).toContain(String(64 * 1024 * 1024));
    const cpuDir = podDir.replace('/memory/', '/cpu/');
    const quotas = fs
      .readdirSync(cpuDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => fs.readFileSync(path.join(cpuDir, e.name, 'cpu.cfs_quota_us'), 'utf8').trim());
    expect(quotas).toContain('25000');
  });

  test("a hostNetwork pod serves on the host's loopback", async () => {
    const body = await waitFor('httpd on the host network', () =>
      fetch(`http://127.0.0.1:${httpPort}/index.html`).then(
        (r) => (r.ok ? r.text() : undefined),
        () => undefined,
      ),
    );
    expect(body).toContain('served-from-host-network');
    const pod = JSON.parse(crictl(daemon.endpoint, 'pods', '--name', podName('hostnet'), '-o', 'json').out);
    expect(pod.items[0].metadata.name).toBe(podName('hostnet'));
  });

  test('a failing liveness probe and a crashing container are restarted by the kubelet with back-off', async () => {
    const crashy = await waitFor(
      'two restarts of each crashy container',
      async () => {
        const p = (await pods()).get(podName('crashy'));
        const u = container(p, 'unhealthy');
        const c = container(p, 'crasher');
        return u && c && u.restartCount >= 2 && c.restartCount >= 2 ? p : undefined;
      },
      150_000,
    );
    expect(container(crashy, 'crasher')?.lastState?.terminated).toMatchObject({
      exitCode: 1,
      reason: 'Error',
    });
    expect(logLines(/back-off \d+s restarting failed container=crasher/).length).toBeGreaterThan(0);
    expect(logLines(/Container unhealthy failed liveness probe, will be restarted/).length).toBeGreaterThan(
      0,
    );
    // Each restart is a new CRI container with the next attempt number.
    const attempts = JSON.parse(
      crictl(daemon.endpoint, 'ps', '-a', '--name', '^crasher$', '-o', 'json').out,
    ).containers.map((c: { metadata: { attempt: number } }) => c.metadata.attempt);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  }, 180_000);

  test('crictl pods and ps show the sandboxes and containers the kubelet made', () => {
    const sandboxes = JSON.parse(crictl(daemon.endpoint, 'pods', '-o', 'json').out).items as {
      metadata: { name: string; namespace: string };
      state: string;
      labels: Record<string, string>;
    }[];
    const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY').map((s) => s.metadata.name);
    expect(ready.sort()).toEqual([podName('crashy'), podName('hostnet'), podName('web')].sort());
    expect(sandboxes[0].labels['io.kubernetes.pod.namespace']).toBe('default');
    const running = crictl(daemon.endpoint, 'ps', '-o', 'json').out;
    const names = (JSON.parse(running).containers as { metadata: { name: string } }[]).map(
      (c) => c.metadata.name,
    );
    expect(names).toEqual(expect.arrayContaining(['writer', 'reader', 'httpd']));
    // The crashy containers are running or waiting out their back-off: both exist, under their names.
    const all = JSON.parse(crictl(daemon.endpoint, 'ps', '-a', '-o', 'json').out).containers as {
      metadata: { name: string };
    }[];
    expect(all.map((c) => c.metadata.name)).toEqual(expect.arrayContaining(['unhealthy', 'crasher', 'init']));
    const exited = crictl(daemon.endpoint, 'ps', '-a', '--name', '^init$', '-o', 'json').out;
    expect(JSON.parse(exited).containers[0].state).toBe('CONTAINER_EXITED');
  });

  test('removing a manifest makes the kubelet remove its pod from nodelet', async () => {
    fs.rmSync(path.join(kubelet!.manifestDir, 'web.yaml'));
    await waitFor('the kubelet to forget web', async () => !(await pods()).has(podName('web')));
    await waitFor(
      'the web sandbox to go',
      () => crictl(daemon.endpoint, 'pods', '-q', '--name', podName('web')).out.trim() === '',
      150_000,
    );
    expect(crictl(daemon.endpoint, 'ps', '-a', '-q', '--name', '^writer$').out.trim()).toBe('');
  }, 180_000);

  test('over at least two minutes the kubelet log shows no repeated CRI error', async () => {
    const wait = startedAt + 125_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const repeated = [...criErrors(kubelet!.logs())].filter(([, n]) => n > 1);
    expect(repeated).toEqual([]);
  }, 180_000);

  test('stopping the kubelet and removing its pods leaves no mount, cgroup, pod or namespace behind', async () => {
    const k = kubelet!;
    kubelet = undefined;
    await k.stop();
    expect(leftovers(k)).toEqual([]);
    // No pinned namespace, /dev/shm or rootfs of the kubelet's pods is left in nodelet either.
    expect(mountsUnder(daemon.runDir)).toEqual([]);
    expect(mountsUnder(daemon.stateDir)).toEqual([]);
    expect(crictl(daemon.endpoint, 'pods', '-q').out.trim()).toBe('');
    expect(await listening(httpPort)).toBe(false);
  }, 180_000);
});
