// The pod's spec.os, as the kubelet's admission (lifecycle/predicate.go): the agent runs Linux pods
// only, so a pod that names another OS is rejected before its sandbox exists, with the kubelet's
// reason and message (phase Failed, "Pod was rejected: …"). A pod without spec.os is a Linux pod.
import type { Pod } from './pod_spec';

export const POD_OS_NOT_SUPPORTED_REASON = 'PodOSNotSupported';
const NODE_OS = 'linux';

/** Why the node refuses the pod's OS, or undefined when it runs it. */
export function podOsRejection(pod: Pod): { reason: string; message: string } | undefined {
  const name = pod.spec.os?.name;
  if (name === undefined || name === NODE_OS) return undefined;
  return {
    reason: POD_OS_NOT_SUPPORTED_REASON,
    message: "Failed to admit pod as the OS field doesn't match node OS",
  };
}
