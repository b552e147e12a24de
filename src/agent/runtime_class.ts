// The pod's runtimeClassName, as the kubelet's runtimeclass manager: the RuntimeClass object of the
// API server names the handler that RunPodSandbox gets as runtime_handler. A class the API does not
// have fails the sandbox (the pod stays Pending, FailedCreatePodSandBox, tried again), with the
// lister's NotFound words. Without an API server (standalone mode) the kubelet has no manager and
// runs the pod with the runtime's default handler; the agent does the same.
import type { Pod } from './pod_spec';

/** Where RuntimeClass objects come from (connected mode: the API server). */
export interface RuntimeClassSource {
  /** The class's handler; throws RuntimeClassNotFound when there is no such class. */
  handler(name: string): Promise<string>;
}

export class RuntimeClassNotFound extends Error {
  constructor(readonly className: string) {
    // The kubelet's lister answers errors.NewNotFound(node.k8s.io/runtimeclass, name).
    super(`runtimeclass.node.k8s.io "${className}" not found`);
  }
}

/** The runtime_handler for the pod's sandbox: '' for the runtime's default. */
export async function runtimeHandlerOf(pod: Pod, source: RuntimeClassSource | undefined): Promise<string> {
  const name = pod.spec.runtimeClassName;
  if (!name || !source) return '';
  try {
    return await source.handler(name);
  } catch (err) {
    if (err instanceof RuntimeClassNotFound) throw err;
    throw new Error(
      `failed to lookup RuntimeClass ${name}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}
