// The containerd harness itself: it serves CRI with the test images, runs a pod on its CNI network,
// and leaves no process, mount, bridge or directory behind.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { CriClient } from '../../../src/agent/cri_client';
import {
  startContainerd,
  TEST_BUSYBOX_IMAGE,
  TEST_PAUSE_IMAGE,
  removeCgroupTree,
} from '../../support/containerd';

jest.setTimeout(120_000);

const CGROUP = `nodelet-harness-${process.pid}`;

test('a throwaway containerd runs a busybox pod and leaves nothing behind when stopped', async () => {
  const ctd = await startContainerd();
  const client = new CriClient(ctd.endpoint);
  try {
    const images = await Promise.all([
      client.imageStatus(TEST_BUSYBOX_IMAGE),
      client.imageStatus(TEST_PAUSE_IMAGE),
    ]);
    expect(images.map((i) => i.image !== null)).toEqual([true, true]);
    const config = {
      metadata: { name: 'harness', namespace: 'default', uid: 'harness-uid', attempt: 0 },
      log_directory: `${ctd.root}/logs`,
      linux: { cgroup_parent: `/${CGROUP}/podharness` },
    };
    const { pod_sandbox_id } = await client.runPodSandbox({ config });
    const sandbox = await client.podSandboxStatus(pod_sandbox_id);
    expect(sandbox.status?.network?.ip).toMatch(/^10\./);
    const { container_id } = await client.createContainer({
      pod_sandbox_id,
      config: {
        metadata: { name: 'echo', attempt: 0 },
        image: { image: TEST_BUSYBOX_IMAGE },
        command: ['sh', '-c', 'echo hello; sleep 1000'],
        log_path: 'echo/0.log',
      },
      sandbox_config: config,
    });
    await client.startContainer(container_id);
    const exec = await client.execSync({ container_id, cmd: ['cat', '/proc/1/cmdline'], timeout: 5 });
    expect(exec.exit_code).toBe(0);
    await client.stopPodSandbox(pod_sandbox_id);
    await client.removePodSandbox(pod_sandbox_id);
  } finally {
    client.close();
    await ctd.stop();
    removeCgroupTree(CGROUP);
  }
  expect(fs.existsSync(ctd.root)).toBe(false);
  expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(ctd.root);
  expect(execFileSync('ip', ['-o', 'link']).toString()).not.toContain(ctd.bridge);
  expect(() => process.kill(ctd.pid, 0)).toThrow();
});
