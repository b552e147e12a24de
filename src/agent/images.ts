// Making a container's image present according to its imagePullPolicy, as the kubelet's image manager:
// Always pulls, IfNotPresent pulls when missing, Never fails when missing. A missing policy defaults to
// Always for ':latest' or untagged images, IfNotPresent otherwise.
import type { CriRuntime } from './cri_client';
import type { Container } from './pod_spec';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export class ImagePullError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'ImageInspectError',
    message: string,
  ) {
    super(message);
  }
}

export function pullPolicyOf(c: Container): PullPolicy {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const lastPart = c.image.split('/').pop()!;
  if (c.image.includes('@')) return 'IfNotPresent';
  const tag = lastPart.includes(':') ? lastPart.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Returns the image reference (ID) the runtime resolved, pulling as the policy says. */
export async function ensureImage(cri: CriRuntime, c: Container, sandboxConfig: unknown): Promise<string> {
  const policy = pullPolicyOf(c);
  if (policy !== 'Always') {
    let present: string | undefined;
    try {
      present = (await cri.imageStatus(c.image)).image?.id || undefined;
    } catch (err) {
      throw new ImagePullError(
        'ImageInspectError',
        `Failed to inspect image "${c.image}": ${(err as Error).message}`,
      );
    }
    if (present) return present;
    if (policy === 'Never') {
      throw new ImagePullError(
        'ErrImageNeverPull',
        `Container image "${c.image}" is not present with pull policy of Never`,
      );
    }
  }
  try {
    const res = await cri.pullImage({ image: { image: c.image }, sandbox_config: sandboxConfig as never });
    return res.image_ref;
  } catch (err) {
    throw new ImagePullError('ErrImagePull', `Failed to pull image "${c.image}": ${(err as Error).message}`);
  }
}
