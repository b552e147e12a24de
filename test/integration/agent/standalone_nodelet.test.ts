// The standalone scenario on nodelet's own CRI runtime (the daemon from dist/, images from a local
// registry standing in for registry.k8s.io): the same agent code as on containerd.
import { removeAllPods } from '../../support/cri_client';
import { startDaemon } from '../../support/daemon';
import { startRegistry } from '../../support/registry';
import { standaloneScenario } from './standalone_scenario';

jest.setTimeout(180_000);

standaloneScenario({
  name: 'nodelet',
  async start() {
    const registry = await startRegistry({ withFixtures: true });
    // The harness gives the daemon its own cgroup parent, bridge and pod range; we add the mirrors.
    const daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } }).catch(async (err) => {
      await registry.stop();
      throw err;
    });
    return {
      endpoint: daemon.endpoint,
      image: 'registry.k8s.io/e2e-test-images/busybox:1.29-2',
      runtimeName: 'nodelet',
      async stop() {
        await removeAllPods(daemon.endpoint);
        await daemon.stop();
        await daemon.cleanup();
        await registry.stop();
      },
    };
  },
});
