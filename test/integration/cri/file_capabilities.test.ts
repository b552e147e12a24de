// A non-root container whose capabilities are dropped but for one added back (CoreDNS's
// securityContext: runAsUser 65532, drop ALL, add NET_BIND_SERVICE, allowPrivilegeEscalation
// false) gets that capability from its binary's file capability, as on runc: the added
// capability must be in the process's permitted set before execve, since no_new_privs keeps
// only file capabilities the process already held. CoreDNS crash-looped on nodelet with
// "listen tcp :53: bind: permission denied" before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildImage, HostileRegistry } from '../image/hostile_registry';
import { busyboxLayer } from '../../security/hostile_layers';
import { criClient, type TestCriClient } from '../../support/cri_client';
import { stopCriEnv } from '../../support/cri_env';
import { startDaemon, type TestDaemon } from '../../support/daemon';

jest.setTimeout(180_000);

let registry: HostileRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let tmp: string;
let pod: string;
let image: string;
const podConfig = {
  metadata: { name: 'filecaps', namespace: 'caps', uid: 'uid-filecaps', attempt: 0 },
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-filecaps-'));
  // A static busybox carrying cap_net_bind_service=ep, as the CoreDNS image's binary does.
  fs.mkdirSync(path.join(tmp, 'bin'), { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.copyFileSync('/bin/busybox', path.join(tmp, 'bin', 'busybox'));
  fs.chmodSync(path.join(tmp, 'bin', 'busybox'), 0o755);
  execFileSync('setcap', ['cap_net_bind_service=ep', path.join(tmp, 'bin', 'busybox')]);
  registry = new HostileRegistry();
  await registry.start();
  registry.add('plain/busybox', '1', buildImage([await busyboxLayer()]));
  image = `${registry.host}/plain/busybox:1`;
  daemon = await startDaemon({ timeoutMs: 30_000 });
  cri = criClient(daemon.endpoint);
  await cri.image('PullImage', { image: { image } }, 120_000);
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    // The pod's log directory is the one its containers' log_path is under (the sandbox config
    // given again at CreateContainer does not move it).
    { config: { ...podConfig, log_directory: tmp } },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv({ cri, daemon, registry });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function runToExit(name: string, capabilities: object): Promise<{ code: number; log: string }> {
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name },
        image: { image },
        // httpd binds, then goes to the background: exit 0 means port 80 was bound.
        command: ['/capbin/busybox', 'httpd', '-p', '80', '-h', '/'],
        mounts: [{ container_path: '/capbin', host_path: path.join(tmp, 'bin'), readonly: true }],
        log_path: `${name}.log`,
        linux: {
          security_context: {
            run_as_user: { value: 65532 },
            no_new_privs: true,
            capabilities,
          },
        },
      },
      sandbox_config: { ...podConfig, log_directory: tmp },
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  for (let i = 0; i < 100; i++) {
    const { status } = await cri.runtime<{ status: { state: string; exit_code: number } }>(
      'ContainerStatus',
      { container_id: id },
    );
    if (status.state === 'CONTAINER_EXITED') {
      // The log must exist: a check on a log that was never written passes whatever happened.
      const log = fs.readFileSync(path.join(tmp, `${name}.log`), 'utf8');
      return { code: status.exit_code, log };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not exit`);
}

it('a non-root process gets an added capability from its binary under no_new_privs', async () => {
  const { code, log } = await runToExit('bind-added', {
    drop_capabilities: ['ALL'],
    add_capabilities: ['NET_BIND_SERVICE'],
  });
  expect(log).not.toMatch(/permission denied/i);
  expect(code).toBe(0);
});

it('a binary whose file capability is outside the container set does not run', async () => {
  // The kernel refuses the execve of a capability-dumb binary (effective bit set) that cannot get
  // all its file capabilities, as on runc.
  await expect(runToExit('bind-dropped', { drop_capabilities: ['ALL'] })).rejects.toThrow(
    /Cannot execve '\/capbin\/busybox': operation not permitted/,
  );
});
