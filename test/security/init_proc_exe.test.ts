// Attack (CVE-2019-5736 class): the exec helper is the host's node binary, running as root in the
// container's PID namespace until it execve's the command. A root process in the container with
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
  for (const dir of ['bin', 'out']) fs.mkdirSync(path.join(tmp, dir));
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
  if (cri && pod) await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod }, 60_000);
  cri?.close();
  await daemon?.stop();
  await daemon?.cleanup();
  await registry?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

const exec = (id: string, cmd: string[]) =>
  cri.runtime<ExecResult>('ExecSync', { container_id: id, cmd, timeout: 30 }, 60_000);

test('a root process in the container cannot open /proc/<exec helper>/exe nor reach the host root through it', async () => {
  const node = fs.statSync(fs.realpathSync(process.execPath));
  const log = path.join(tmp, 'out/log');
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name: 'attacker' },
        image: { image },
        command: ['/attack/attacker', String(node.dev), String(node.ino), '/out/log', tmp],
        mounts: [
          { host_path: path.join(tmp, 'bin'), container_path: '/attack', readonly: true },
          { host_path: path.join(tmp, 'out'), container_path: '/out' },
        ],
      },
      sandbox_config: podConfig,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  while (!fs.existsSync(log) || !fs.readFileSync(log, 'utf8').includes('started')) {
    await new Promise((r) => setTimeout(r, 50));
  }

  const big = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(100 * 1024));
  for (let i = 0; i < 25; i++) {
    expect((await exec(id, ['/bin/true', ...big])).exit_code).toBe(0);
  }

  // The workloads are dumpable again after execve: their own /proc entries work as usual.
  const status = await exec(id, ['cat', '/proc/self/status']);
  expect(status.exit_code).toBe(0);
  expect(status.stdout.toString()).toMatch(/^Name:\s+cat$/m);
  const exe = await exec(id, ['readlink', '/proc/1/exe']);
  expect(exe.stdout.toString().trim()).toBe('/attack/attacker');

  const events = fs.readFileSync(log, 'utf8').split('\n');
  expect(events.filter((e) => e.startsWith('opened ') || e.startsWith('hostroot '))).toEqual([]);
  // The attacker did see the helpers (and was refused): the attack ran, it did not miss them.
  expect(events.filter((e) => e.startsWith('denied ')).length).toBeGreaterThan(0);
});
