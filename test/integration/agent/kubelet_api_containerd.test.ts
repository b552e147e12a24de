// The kubelet API scenario on Debian's containerd: the same agent and API code, another runtime.
import { startContainerd, TEST_BUSYBOX_IMAGE } from '../../support/containerd';
import { kubeletApiScenario } from './kubelet_api_scenario';

jest.setTimeout(180_000);

kubeletApiScenario({
  name: 'containerd',
  async start() {
    const ctd = await startContainerd();
    return {
      endpoint: ctd.endpoint,
      image: TEST_BUSYBOX_IMAGE,
      websocketProtocol: 'v4.channel.k8s.io',
      stop: () => ctd.stop(),
    };
  },
});
