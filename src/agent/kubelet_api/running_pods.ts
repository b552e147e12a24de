// GET /runningpods/: the pods the runtime runs, whatever the agent was asked for (the kubelet's
// debugging view), as a PodList with each pod's identity and its running containers' names and images.
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../labels';
import type { KubeletApiCri } from './cri';

export async function runningPods(cri: KubeletApiCri): Promise<unknown> {
  const [sandboxes, containers] = await Promise.all([cri.listPodSandbox(), cri.listContainers()]);
  const items = sandboxes
    .filter((s) => s.state === 'SANDBOX_READY')
    .map((s) => ({
      metadata: {
        name: s.labels[POD_NAME_LABEL] ?? s.metadata?.name ?? '',
        namespace: s.labels[POD_NAMESPACE_LABEL] ?? s.metadata?.namespace ?? '',
        uid: s.labels[POD_UID_LABEL] ?? s.metadata?.uid ?? '',
        creationTimestamp: null,
      },
      spec: {
        containers: containers
          .filter((c) => c.pod_sandbox_id === s.id && c.state === 'CONTAINER_RUNNING')
          .map((c) => ({
            name: c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? '',
            image: c.image?.image ?? c.image_ref,
            resources: {},
          })),
      },
      status: {},
    }));
  return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items };
}
