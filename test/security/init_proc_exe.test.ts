// Attack (CVE-2019-5736 class): the exec helper and the container init are the host's node binary,
// running as root in the container's PID namespace until they execve the command (the init is
// seen by its siblings in a pod that shares one PID namespace). A root process in the container with
// the default capabilities watches for it and tries to open /proc/<helper>/exe (the host's node:
// to run it, or to overwrite it once nothing runs it) and to reach the host's root through
// /proc/<helper>/root. The widest window is between the helper lowering its capabilities to the
// container's and its execve; big exec arguments (copied during execve) widen it further. The
// helpers are non-dumpable, so none of it may succeed; the workloads themselves (execve resets
// dumpable) keep their usual /proc/self.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildImage, HostileRegistry } from '../integration/image/hostile_registry';
import { criClient, type TestCriClient } from '../support/cri_client';
import { stopCriEnv } from '../support/cri_env';
import { startDaemon, type TestDaemon } from '../support/daemon';
import { busyboxLayer } from './hostile_layers';

jest.setTimeout(240_000);

let registry: HostileRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let tmp: string;
let pod: string;
let image: string;
const podConfig = {
  metadata: { name: 'proc-exe', namespace: 'security', uid: 'uid-proc-exe', attempt: 0 },
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-procexe-'));
  fs.mkdirSync(path.join(tmp, 'bin'));
  execFileSync('gcc', [
    '-static',
    '-O2',
    '-o',
    path.join(tmp, 'bin/attacker'),
    path.join(__dirname, 'fixtures/proc_exe_attacker.c'),
  ]);
  registry = new HostileRegistry();
  await registry.start();
  registry.add('attack/busybox', '1', buildImage([await busyboxLayer()]));
  image = `${registry.host}/attack/busybox:1`;
  daemon = await startDaemon({ timeoutMs: 30_000 });
  cri = criClient(daemon.endpoint);
  await cri.image('PullImage', { image: { image } }, 120_000);
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv({ cri, daemon, registry });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

const exec = (id: string, cmd: string[]) =>
  cri.runtime<ExecResult>('ExecSync', { container_id: id, cmd, timeout: 30 }, 60_000);

/** Starts the attacker in the pod; returns its container id and the host path of its log. */
async function startAttacker(
  podId: string,
  config: object,
  name: string,
): Promise<{ id: string; log: string }> {
  const node = fs.statSync(fs.realpathSync(process.execPath));
  const out = fs.mkdtempSync(path.join(tmp, 'out-'));
  const log = path.join(out, 'log');
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: podId,
      config: {
        metadata: { name },
        image: { image },
        command: ['/attack/attacker', String(node.dev), String(node.ino), '/out/log', tmp],
        mounts: [
          { host_path: path.join(tmp, 'bin'), container_path: '/attack', readonly: true },
          { host_path: out, container_path: '/out' },
        ],
        linux: {
          security_context: (config as { linux?: { security_context?: object } }).linux?.security_context,
        },
      },
      sandbox_config: config,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  while (!fs.existsSync(log) || !fs.readFileSync(log, 'utf8').includes('started')) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { id, log };
}

/** What the attacker got: nothing, while it did see (and was refused) the helpers. */
function expectRefusedEverything(log: string): void {
  const events = fs.readFileSync(log, 'utf8').split('\n');
  expect(events.filter((e) => e.startsWith('opened ') || e.startsWith('hostroot '))).toEqual([]);
  // The attacker did see the helpers (and was refused): the attack ran, it did not miss them.
  expect(events.filter((e) => e.startsWith('denied ')).length).toBeGreaterThan(0);
}

// Each argument is copied by execve after the capabilities are lowered: 800 KiB widen the window.
const BIG_ARGS = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(100 * 1024));

test('a root process in the container cannot open /proc/<exec helper>/exe nor reach the host root through it', async () => {
  const { id, log } = await startAttacker(pod, podConfig, 'attacker');
  for (let i = 0; i < 25; i++) {
    expect((await exec(id, ['/bin/true', ...BIG_ARGS])).exit_code).toBe(0);
  }

  // The workloads are dumpable again after execve: their own /proc entries work as usual.
  const status = await exec(id, ['cat', '/proc/self/status']);
  expect(status.exit_code).toBe(0);
  expect(status.stdout.toString()).toMatch(/^Name:\s+cat$/m);
  const exe = await exec(id, ['readlink', '/proc/1/exe']);
  expect(exe.stdout.toString().trim()).toBe('/attack/attacker');
  expectRefusedEverything(log);
});

test('a sibling in a pod-shared PID namespace cannot open /proc/<init>/exe of a starting container', async () => {
  const shared = {
    metadata: { name: 'proc-exe-shared', namespace: 'security', uid: 'uid-proc-exe-shared', attempt: 0 },
    linux: { security_context: { namespace_options: { pid: 'POD' } } },
  };
  const { pod_sandbox_id: sharedPod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: shared },
    60_000,
  );
  try {
    const { log } = await startAttacker(sharedPod, shared, 'sibling-attacker');
    for (let i = 0; i < 8; i++) {
      const { container_id: id } = await cri.runtime<{ container_id: string }>(
        'CreateContainer',
        {
          pod_sandbox_id: sharedPod,
          config: {
            metadata: { name: `victim-${i}` },
            image: { image },
            command: ['/bin/true', ...BIG_ARGS],
            linux: { security_context: shared.linux.security_context },
          },
          sandbox_config: shared,
        },
        60_000,
      );
      await cri.runtime('StartContainer', { container_id: id }, 60_000);
      await cri.runtime('RemoveContainer', { container_id: id }, 60_000);
    }
    expectRefusedEverything(log);
  } finally {
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sharedPod }, 60_000);
  }
});
