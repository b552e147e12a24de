// Pod networking. Until CNI support lands, the network is honestly reported as not ready.
import type { RuntimeCondition } from '../gen/runtime/v1/RuntimeCondition';

export function networkCondition(): RuntimeCondition {
  return {
    type: 'NetworkReady',
    status: false,
    reason: 'NetworkPluginNotReady',
    message: 'nodelet does not set up pod networks (CNI) yet',
  };
}
