// The kubelet API scenario on nodelet's own runtime (daemon from dist/, images from the local registry).
import { CriClient } from '../../../src/agent/cri_client';
import { startDaemon } from '../../support/daemon';
import { startRegistry } from '../../support/registry';
import { kubeletApiScenario } from './kubelet_api_scenario';

jest.setTimeout(180_000);

kubeletApiScenario({
  name: 'nodelet',
  async start() {
    const registry = await startRegistry({ withFixtures: true });
    const daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } }).catch(async (err) => {
      await registry.stop();
      throw err;
    });
    return {
      endpoint: daemon.endpoint,
      image: 'registry.k8s.io/e2e-test-images/busybox:1.29-2',
      websocketProtocol: 'v5.channel.k8s.io',
      async stop() {
        const cri = new CriClient(daemon.endpoint);
        try {
          for (const pod of (await cri.listPodSandbox()).items) {
            await cri.stopPodSandbox(pod.id).catch(() => undefined);
            await cri.removePodSandbox(pod.id).catch(() => undefined);
          }
        } finally {
          cri.close();
        }
        await daemon.stop();
        await daemon.cleanup();
        await registry.stop();
      },
    };
  },
});
