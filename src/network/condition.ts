// NetworkReady, told truthfully: true only when a conf dir holds a config that loads and every
// plugin it names is an executable in one of the bin dirs. The kubelet keeps pods off a node whose
// network is not ready, so the message says exactly what is missing.
import type { RuntimeCondition } from '../gen/runtime/v1/RuntimeCondition';
import { loadNetwork, missingPlugins, LoadedNetwork } from './conf';

export const NETWORK_NOT_READY = 'NetworkPluginNotReady';

export type Readiness = { ready: true; network: LoadedNetwork } | { ready: false; message: string };

export function networkReadiness(confDirs: string[], binDirs: string[]): Readiness {
  let network: LoadedNetwork;
  try {
    network = loadNetwork(confDirs);
  } catch (err) {
    return { ready: false, message: (err as Error).message };
  }
  const missing = missingPlugins(network.list, binDirs);
  if (missing.length > 0) {
    return {
      ready: false,
      message:
        `Cannot find CNI plugin${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ` +
        `named by '${network.file}' in ${binDirs.join(':')}`,
    };
  }
  return { ready: true, network };
}

export function readinessCondition(readiness: Readiness): RuntimeCondition {
  return readiness.ready
    ? { type: 'NetworkReady', status: true, reason: '', message: '' }
    : { type: 'NetworkReady', status: false, reason: NETWORK_NOT_READY, message: readiness.message };
}
