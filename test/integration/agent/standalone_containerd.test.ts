// The standalone scenario on Debian's containerd 1.6 with runc: the peer the agent must work with unchanged.
import { startContainerd, TEST_BUSYBOX_IMAGE } from '../../support/containerd';
import { standaloneScenario } from './standalone_scenario';

jest.setTimeout(180_000);

standaloneScenario({
  name: 'containerd',
  async start() {
    const ctd = await startContainerd();
    return {
      endpoint: ctd.endpoint,
      image: TEST_BUSYBOX_IMAGE,
      runtimeName: 'containerd',
      stop: () => ctd.stop(),
    };
  },
});
