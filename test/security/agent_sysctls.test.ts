// Attack: a pod asks for sysctls the node did not allow. The kubelet forwards only its safe sysctls
// (namespaced and isolated) and those --allowed-unsafe-sysctls names, and never a namespaced one
// when the pod shares that namespace with the host; any other pod is rejected at admission (Failed,
// SysctlForbidden) before it has a sandbox. The agent in standalone mode on nodelet's real daemon.
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/agent';
import { CriClient } from '../../src/agent/cri_client';
import type { PodStatusView } from '../../src/agent/pod_status';
import { IMAGE, NODE, useAgentNode } from './agent_node';

jest.setTimeout(240_000);

const HOST_PROBES = '/proc/sys/net/ipv4/tcp_keepalive_probes';

const node = useAgentNode('sysctls');
let cri: CriClient;
let agent: Agent | undefined;
let hostProbes: string;

const start = (allowedUnsafeSysctls?: string[]): Promise<Agent> =>
  node.start({ rescanMs: 500, allowedUnsafeSysctls });

function pod(name: string, sysctls: Record<string, string>, extra: Record<string, unknown> = {}) {
  const names = Object.keys(sysctls).map((s) => `/proc/sys/${s.replace(/\./g, '/')}`);
  fs.writeFileSync(
    path.join(node.dirs().manifests, `${name}.json`),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, uid: `${name}-uid` },
      spec: {
        terminationGracePeriodSeconds: 1,
        ...extra,
        securityContext: { sysctls: Object.entries(sysctls).map(([n, value]) => ({ name: n, value })) },
        containers: [
          { name: 'main', image: IMAGE, command: ['sh', '-c', `cat ${names.join(' ')}; sleep 3600`] },
        ],
      },
    }),
  );
}

async function waitForStatus(name: string, ok: (s: PodStatusView) => boolean): Promise<PodStatusView> {
  const until = Date.now() + 90_000;
  for (;;) {
    const s = agent!.pods().get(`${name}-uid`)?.status;
    if (s && ok(s)) return s;
    if (Date.now() > until) throw new Error(`timed out waiting for ${name}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function sandboxesOf(name: string): Promise<number> {
  const { items } = await cri.listPodSandbox({
    filter: { label_selector: { 'io.kubernetes.pod.uid': `${name}-uid` } },
  });
  return items.length;
}

function logOf(name: string): string {
  const file = path.join(node.dirs().logs, `default_${name}-${NODE}_${name}-uid`, 'main', '0.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

async function removePods(): Promise<void> {
  for (const f of fs.readdirSync(node.dirs().manifests)) fs.rmSync(path.join(node.dirs().manifests, f));
  agent!.rescan();
  await agent!.settled();
}

beforeAll(async () => {
  hostProbes = fs.readFileSync(HOST_PROBES, 'utf8');
  cri = new CriClient(node.daemon().endpoint);
});

afterAll(async () => {
  cri?.close();
  // Should an attack have reached the host, put the host back.
  if (hostProbes !== undefined && fs.readFileSync(HOST_PROBES, 'utf8') !== hostProbes) {
    fs.writeFileSync(HOST_PROBES, hostProbes);
  }
});

test('unsafe sysctls, and safe ones in a host namespace, reject the pod before it has a sandbox', async () => {
  const probes = hostProbes.trim() === '7' ? '6' : '7';
  pod('unsafe', { 'kernel.msgmax': '16384' });
  pod('hostnet', { 'net.ipv4.tcp_keepalive_probes': probes }, { hostNetwork: true });
  pod('not-namespaced', { 'vm.swappiness': '1' });
  pod('safe', { 'net.ipv4.tcp_keepalive_probes': probes });
  agent = await start();

  const safe = await waitForStatus('safe', (s) => s.phase === 'Running');
  expect(safe.reason).toBeUndefined();
  await new Promise((r) => setTimeout(r, 500));
  const rejected = {
    unsafe: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
    hostnet: 'forbidden sysctl: "net.ipv4.tcp_keepalive_probes" not allowed with host net enabled',
    'not-namespaced': 'forbidden sysctl: "vm.swappiness" not allowlisted',
  };
  for (const [name, message] of Object.entries(rejected)) {
    const s = await waitForStatus(name, (x) => x.phase !== 'Pending');
    expect({ name, phase: s.phase, reason: s.reason, message: s.message }).toEqual({
      name,
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: `Pod was rejected: ${message}`,
    });
    expect(await sandboxesOf(name)).toBe(0);
    expect(logOf(name)).toBe('');
  }
  // The safe sysctl was set in the pod's own network namespace only.
  await new Promise((r) => setTimeout(r, 1000));
  expect(logOf('safe')).toContain(` ${probes}\n`);
  expect(fs.readFileSync(HOST_PROBES, 'utf8')).toBe(hostProbes);
  await removePods();
});

test('--allowed-unsafe-sysctls lets a namespaced unsafe sysctl through, by name or by prefix*', async () => {
  await agent!.stop();
  agent = await start(['kernel.msg*']);
  pod('unsafe', { 'kernel.msgmax': '16384' });
  agent.rescan();
  await waitForStatus('unsafe', (s) => s.phase === 'Running');
  await new Promise((r) => setTimeout(r, 1000));
  expect(logOf('unsafe')).toContain(' 16384\n');
  await removePods();
  await expect(start(['vm.swappiness'])).rejects.toThrow(
    'the sysctl "vm.swappiness" are not known to be namespaced',
  );
});
