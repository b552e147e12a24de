// Fifty pods at once through the CRI, with CNI networking: every one gets its own address, and once
// they are removed the host holds nothing of them (veths, pinned namespaces, mounts, cgroups).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { TestCriClient } from '../../support/cri_client';
import type { TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

const IMAGE = BUSYBOX;
const PODS = 50;
/** Every tenth pod also runs a container, so pod and container cgroups exist to be cleaned. */
const WITH_CONTAINER = (i: number) => i % 10 === 0;

let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;

jest.setTimeout(600_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ daemon, cri } = env);
});

afterAll(async () => {
  await stopCriEnv(env);
});

function daemonConfig(): { cniBridge: string; cgroupParent: string } {
  return YAML.parse(fs.readFileSync(path.join(daemon.root, 'config.yaml'), 'utf8'));
}

function portsOnBridge(bridge: string): string[] {
  return execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** Mount points under the daemon's root: pinned namespaces, /dev/shm tmpfs, container roots. */
function mountsUnderRoot(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p) => p && p.startsWith(daemon.root));
}

/** Cgroups below the daemon's cgroup parent, in every v1 hierarchy (and the v2 mount). */
function cgroupsUnderParent(parent: string): string[] {
  const found: string[] = [];
  for (const hierarchy of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', hierarchy, parent);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) found.push(path.join(dir, entry.name));
    }
  }
  return found;
}

async function runPod(i: number): Promise<{ pod: string; ip: string }> {
  const config = { metadata: { name: `many${i}`, namespace: 'many', uid: `uid-many${i}`, attempt: 0 } };
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    300_000,
  );
  if (WITH_CONTAINER(i)) {
    const { container_id: id } = await cri.runtime<{ container_id: string }>(
      'CreateContainer',
      {
        pod_sandbox_id: pod,
        config: { metadata: { name: 'sleep' }, image: { image: IMAGE }, command: ['sleep', '3600'] },
        sandbox_config: config,
      },
      300_000,
    );
    await cri.runtime('StartContainer', { container_id: id }, 300_000);
  }
  const status = await cri.runtime<{ status: { network: { ip: string } } }>('PodSandboxStatus', {
    pod_sandbox_id: pod,
  });
  return { pod, ip: status.status.network.ip };
}

test('fifty pods run in parallel get distinct addresses, and removing them leaves no veth, namespace, mount or cgroup', async () => {
  const { cniBridge, cgroupParent } = daemonConfig();
  const results = await Promise.allSettled(Array.from({ length: PODS }, (_, i) => runPod(i)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  expect(failures).toEqual([]);
  const pods = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));

  const ips = pods.map((p) => p.ip);
  expect(ips.every((ip) => /^10\.\d+\.\d+\.\d+$/.test(ip))).toBe(true);
  expect(new Set(ips).size).toBe(PODS);
  expect(portsOnBridge(cniBridge)).toHaveLength(PODS);
  // Every pod's loopback is up, though the conflist names no loopback plugin: the daemon does it.
  const netns = path.join(daemon.runDir, 'ns', pods[0].pod, 'network');
  const lo = execFileSync('nsenter', [`--net=${netns}`, 'ip', '-o', 'addr', 'show', 'lo'], {
    encoding: 'utf8',
  });
  expect(lo).toContain('inet 127.0.0.1/8');
  const { containers } = await cri.runtime<{ containers: { state: string }[] }>('ListContainers', {});
  expect(containers.map((c) => c.state)).toEqual(Array(PODS / 10).fill('CONTAINER_RUNNING'));
  expect(cgroupsUnderParent(cgroupParent).length).toBeGreaterThan(0);

  await Promise.all(
    pods.map(async ({ pod }) => {
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod }, 300_000);
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod }, 300_000);
    }),
  );

  const { items } = await cri.runtime<{ items: unknown[] }>('ListPodSandbox', {});
  expect(items).toEqual([]);
  expect(portsOnBridge(cniBridge)).toEqual([]);
  expect(mountsUnderRoot()).toEqual([]);
  const nsDir = path.join(daemon.runDir, 'ns');
  expect(fs.existsSync(nsDir) ? fs.readdirSync(nsDir) : []).toEqual([]);
  expect(cgroupsUnderParent(cgroupParent)).toEqual([]);
});
