// A container the node refuses to create because of its own spec or its image (a subPath that leaves
// its volume, runAsNonRoot with a root image): the kubelet's ErrCreateContainerConfig. The container
// stays waiting with reason CreateContainerConfigError and this message, and is tried again each sync.
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContainerConfigError';
  }
}
