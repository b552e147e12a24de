// One nodelet daemon from dist/, alone (no containerd), and each CRI call of the pod cycle and the
// status and list calls in a loop: p50 and p90 of each, to find where a call's time goes. With
// NODELET_CPU_PROF=<dir> the daemon writes a V8 CPU profile there when it stops (open it in
// Chrome's DevTools or read it with bench/calls/top.js). The side-by-side figures are `npm run bench`'s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criClient } from '../../test/support/cri_client';
import { startDaemon } from '../../test/support/daemon';
import { startRegistry } from '../../test/support/registry';
import { BUSYBOX, createContainer, podConfig, runPod, startContainer, waitExited } from '../lib/pods';
import { Samples, timed } from '../lib/stats';
import { figureTable } from '../lib/report';

export async function main(args: string[]): Promise<void> {
  const cycles = Number(args[0] ?? 30);
  // Status and list calls asked per cycle: raise it to profile those calls' fixed cost.
  const repeats = Number(args[1] ?? 5);
  const profDir = process.env.NODELET_CPU_PROF;
  const registry = await startRegistry({ withFixtures: true });
  const logRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-calls-'));
  const daemon = await startDaemon({
    config: { registry: registry.mirrorConfig() },
    timeoutMs: 90_000,
    nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`] : [],
  });
  const cri = criClient(daemon.endpoint);
  try {
    await cri.image('PullImage', { image: { image: BUSYBOX } }, 300_000);
    const samples = new Samples();
    const add = (op: string, ms: number) => samples.add(op, 'nodelet', ms);
    const call = async (op: string, fn: () => Promise<unknown>) => add(op, (await timed(fn)).ms);
    for (let i = 0; i < cycles; i++) {
      const run = await timed(() => runPod(cri, podConfig('calls', 'host', { logRoot })));
      add('RunPodSandbox', run.ms);
      const pod = run.value;
      const created = await timed(() => createContainer(cri, pod, 'true', ['/bin/true']));
      add('CreateContainer', created.ms);
      const id = created.value;
      await call('StartContainer', () => startContainer(cri, id));
      await waitExited(cri, id);
      for (let k = 0; k < repeats; k++) {
        await call('ContainerStatus', () => cri.runtime('ContainerStatus', { container_id: id }));
        await call('PodSandboxStatus', () => cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id }));
        await call('ListContainers', () => cri.runtime('ListContainers', {}));
        await call('ListPodSandbox', () => cri.runtime('ListPodSandbox', {}));
        await call('ImageStatus', () => cri.image('ImageStatus', { image: { image: BUSYBOX } }));
        await call('ListImages', () => cri.image('ListImages', {}));
        await call('Version', () => cri.runtime('Version', {}));
      }
      await call('StopContainer', () => cri.runtime('StopContainer', { container_id: id, timeout: 10 }));
      await call('RemoveContainer', () => cri.runtime('RemoveContainer', { container_id: id }));
      await call('StopPodSandbox', () => cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }));
      await call('RemovePodSandbox', () => cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }));
    }
    console.log(figureTable(samples.figures('calls', [0.5, 0.9])));
  } finally {
    cri.close();
    await daemon.stop();
    await daemon.cleanup();
    await registry.stop();
    fs.rmSync(logRoot, { recursive: true, force: true });
  }
}
