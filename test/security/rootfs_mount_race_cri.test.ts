// The same race as rootfs_mount_race.test.ts, the way a hostile pod runs it: through the daemon,
// two containers of one pod sharing a hostPath volume, which one of them mounts as its /dev while
// the other swaps the device names in it for symlinks to a host file, while the victim is created,
// started, run to its end and removed 200 times (about 0.5 s each here on 2 busy cores).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../support/cri_client';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../support/cri_env';

const CREATIONS = 200;
jest.setTimeout(600_000);

let env: CriEnv | undefined;
let cri: TestCriClient;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-race-cri-'));
  env = await startCriEnv();
  ({ cri } = env);
});

afterAll(async () => {
  await stopCriEnv(env);
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function waitExited(id: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { status } = await cri.runtime<{ status: { state: string } }>('ContainerStatus', {
      container_id: id,
    });
    if (status.state === 'CONTAINER_EXITED') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`container ${id} did not exit within 15 s`);
}

test('a pod container swapping symlinks into the /dev volume of its sibling never reaches a host file', async () => {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  execFileSync('gcc', [
    '-static',
    '-O2',
    '-o',
    path.join(bin, 'exchange_loop'),
    path.join(__dirname, 'fixtures/exchange_loop.c'),
  ]);
  const shared = path.join(tmp, 'shared-dev');
  fs.mkdirSync(shared);
  const logs = path.join(tmp, 'logs');
  fs.mkdirSync(logs);
  const canary = path.join(tmp, 'host-canary');
  const secret = 'HOST-CANARY-SECRET\n';
  fs.writeFileSync(canary, secret, { mode: 0o600 });
  fs.chownSync(canary, 4242, 4243);
  const before = fs.statSync(canary);

  const podConfig = {
    metadata: { name: 'hostile', namespace: 'race', uid: 'uid-hostile', attempt: 0 },
    log_directory: logs,
  };
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  );
  const create = (name: string, command: string[], mounts: object[]) =>
    cri.runtime<{ container_id: string }>(
      'CreateContainer',
      {
        pod_sandbox_id: pod,
        config: { metadata: { name }, image: { image: BUSYBOX }, command, mounts, log_path: `${name}.log` },
        sandbox_config: podConfig,
      },
      60_000,
    );
  const { container_id: attacker } = await create(
    'attacker',
    ['/attack/exchange_loop', '/shared', canary, 'null', 'zero', 'full', 'tty', 'random'],
    [
      { container_path: '/shared', host_path: shared },
      { container_path: '/attack', host_path: bin, readonly: true },
    ],
  );
  await cri.runtime('StartContainer', { container_id: attacker }, 60_000);

  const refused: Record<string, number> = {};
  const leaks: string[] = [];
  let ran = 0;
  const started = Date.now();
  for (let i = 0; i < CREATIONS; i++) {
    const name = `victim-${i}`;
    let id: string | undefined;
    try {
      ({ container_id: id } = await create(
        name,
        ['cat', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'],
        [{ container_path: '/dev', host_path: shared }],
      ));
      await cri.runtime('StartContainer', { container_id: id }, 60_000);
      await waitExited(id);
      ran++;
      const log = fs.readFileSync(path.join(logs, `${name}.log`), 'utf8');
      if (log.includes('CANARY')) leaks.push(log);
    } catch (e) {
      const why = String((e as Error).message).replace(/[0-9a-f]{64}/g, '<id>');
      refused[why] = (refused[why] ?? 0) + 1;
    } finally {
      if (id) await cri.runtime('RemoveContainer', { container_id: id }, 60_000);
    }
  }
  console.log(
    `${CREATIONS} CRI creations in ${((Date.now() - started) / 1000).toFixed(1)} s: ${ran} ran`,
    refused,
  );
  await cri.runtime('StopContainer', { container_id: attacker, timeout: 0 }, 60_000);

  const after = fs.statSync(canary);
  expect(leaks).toEqual([]);
  expect({ mode: after.mode, uid: after.uid, gid: after.gid }).toEqual({
    mode: before.mode,
    uid: before.uid,
    gid: before.gid,
  });
  expect(fs.readFileSync(canary, 'utf8')).toBe(secret);
  expect(ran + Object.values(refused).reduce((a, b) => a + b, 0)).toBe(CREATIONS);
});
