// RuntimeClass objects read from the API server (node.k8s.io/v1), one GET per sandbox created: a
// sandbox is rare enough that a watch would cost more than it saves.
import { RuntimeClassNotFound, type RuntimeClassSource } from '../runtime_class';
import { isNotFound, type KubeApi } from './kube_api';

export function apiRuntimeClasses(api: KubeApi): RuntimeClassSource {
  return {
    async handler(name) {
      try {
        const rc = await api.request<{ handler?: string }>(
          'GET',
          `/apis/node.k8s.io/v1/runtimeclasses/${encodeURIComponent(name)}`,
        );
        return rc.handler ?? '';
      } catch (err) {
        if (isNotFound(err)) throw new RuntimeClassNotFound(name);
        throw err;
      }
    },
  };
}
