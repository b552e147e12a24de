// From the API's names to the runtime's ids, by the labels the kubelet puts on sandboxes and
// containers (../labels.ts): the newest sandbox of the pod, and the container of that name in it —
// its current attempt, or the one before for `logs --previous`.
import type { Container__Output } from '../../gen/runtime/v1/Container';
import type { PodSandbox__Output } from '../../gen/runtime/v1/PodSandbox';
import {
  CONTAINER_NAME_LABEL,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  POD_UID_LABEL,
  RESTART_COUNT_ANNOTATION,
} from '../labels';
import type { KubeletApiCri } from './cri';
import { notFoundError } from './http_reply';

export interface PodRef {
  namespace: string;
  name: string;
  uid?: string;
}

const newestFirst = <T extends { created_at: string }>(a: T, b: T) =>
  BigInt(b.created_at) > BigInt(a.created_at) ? 1 : BigInt(b.created_at) < BigInt(a.created_at) ? -1 : 0;

export async function findSandbox(cri: KubeletApiCri, pod: PodRef): Promise<PodSandbox__Output> {
  const labels: Record<string, string> = {
    [POD_NAMESPACE_LABEL]: pod.namespace,
    [POD_NAME_LABEL]: pod.name,
    ...(pod.uid ? { [POD_UID_LABEL]: pod.uid } : {}),
  };
  const sandboxes = (await cri.listPodSandbox(labels)).sort(newestFirst);
  const sandbox = sandboxes.find((s) => s.state === 'SANDBOX_READY') ?? sandboxes[0];
  if (!sandbox) throw notFoundError(`pod "${pod.name}" not found in namespace "${pod.namespace}"`);
  return sandbox;
}

const restartCount = (c: Container__Output) => Number(c.annotations?.[RESTART_COUNT_ANNOTATION] ?? 0);

/** The container's attempts in the pod (found through its newest sandbox), newest attempt first. */
async function attempts(cri: KubeletApiCri, pod: PodRef, container: string): Promise<Container__Output[]> {
  const sandbox = await findSandbox(cri, pod);
  const list = await cri.listContainers({
    [POD_UID_LABEL]: sandbox.labels[POD_UID_LABEL] ?? pod.uid ?? '',
    [CONTAINER_NAME_LABEL]: container,
  });
  // Attempts of earlier sandboxes count too: the restart count goes on across a new sandbox.
  return list.sort((a, b) => restartCount(b) - restartCount(a) || newestFirst(a, b));
}

/** The container's current attempt (or the previous one), as the kubelet finds it for logs and exec. */
export async function findContainer(
  cri: KubeletApiCri,
  pod: PodRef,
  container: string,
  previous = false,
): Promise<Container__Output> {
  const found = await attempts(cri, pod, container);
  const where = `container "${container}" in pod "${pod.name}"`;
  if (found.length === 0) throw notFoundError(`${where} is not available`);
  if (!previous) return found[0];
  const before = found.find((c) => restartCount(c) < restartCount(found[0]));
  if (!before) throw notFoundError(`previous terminated container ${where} not found`);
  return before;
}
