// runAsNonRoot checked against the user the image runs as, as the kubelet's verifyRunAsNonRoot
// (pkg/kubelet/kuberuntime/security_context_others.go): a runAsUser in the security context decides
// alone; otherwise the image's numeric user must not be 0, an image with no user runs as root, and a
// user given by name cannot be verified. A refusal is a ContainerConfigError with the kubelet's words.
import { ContainerConfigError } from './container_config_error';
import type { Container, Pod } from './pod_spec';

const MAX_UID = 2147483647;

/** What the CRI ImageStatus says of the image's user (`uid` is an Int64Value, as a string or number). */
export interface ImageUser {
  uid?: { value: string | number } | null;
  username?: string;
}

function effective(pod: Pod, c: Container) {
  return {
    runAsNonRoot: c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot,
    runAsUser: c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser,
  };
}

/** Whether checking needs the image's user: runAsNonRoot is set and no runAsUser decides. */
export function needsImageUser(pod: Pod, c: Container): boolean {
  const sc = effective(pod, c);
  return sc.runAsNonRoot === true && sc.runAsUser === undefined;
}

/** The kubelet's format.Pod: `name_namespace(uid)`. */
const podName = (pod: Pod) =>
  `${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})`;

/** Throws if the container would run as root although runAsNonRoot asks otherwise. */
export function verifyRunAsNonRoot(pod: Pod, c: Container, image: ImageUser | null | undefined): void {
  const sc = effective(pod, c);
  if (sc.runAsNonRoot !== true) return;
  const where = `(pod: ${JSON.stringify(podName(pod))}, container: ${c.name})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0)
      throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  // The kubelet's getImageUser: a uid if the image has one, else its user name, else root.
  const uid = image?.uid ? Number(image.uid.value) : image?.username ? undefined : 0;
  if (uid === undefined) {
    throw new ContainerConfigError(
      `container has runAsNonRoot and image has non-numeric user (${image!.username}), cannot verify user is non-root ${where}`,
    );
  }
  if (uid === 0)
    throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  if (!Number.isInteger(uid) || uid < 0 || uid > MAX_UID) {
    throw new ContainerConfigError(
      `container has runAsNonRoot and image has an invalid user id (${uid}). (Must be 1-(${MAX_UID})): must be between 0 and ${MAX_UID}, inclusive ${where}`,
    );
  }
}
