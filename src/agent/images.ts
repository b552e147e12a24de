// Making a container's image present according to its imagePullPolicy, as the kubelet's image manager:
// Always pulls, IfNotPresent pulls when missing, Never fails when missing. A missing policy defaults to
// Always for ':latest' or untagged images, IfNotPresent otherwise. Credentials of the pod's
// imagePullSecrets (connected mode) whose registry matches the image's are tried in turn.
import type { AuthConfig } from '../gen/runtime/v1/AuthConfig';
import type { CriRuntime } from './cri_client';
import type { Container, Pod } from './pod_spec';

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

/** A registry credential, as docker's config.json holds it (server as written there). */
export interface PullAuth {
  server: string;
  username?: string;
  password?: string;
  auth?: string;
}

/** The registry host of an image reference, docker.io for short names. */
export function registryOf(image: string): string {
  const first = image.split('/')[0];
  const isHost = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}

/** The host a config.json server key names ('https://index.docker.io/v1/' is docker.io). */
function hostOf(server: string): string {
  const host = server.replace(/^[a-z]+:\/\//, '').split('/')[0];
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The credentials for the image's registry, in the order given, then no credentials at all. */
export function authsFor(image: string, auths: PullAuth[] = []): (AuthConfig | undefined)[] {
  const registry = registryOf(image);
  const matching = auths
    .filter((a) => hostOf(a.server) === registry)
    .map((a) => ({ username: a.username, password: a.password, auth: a.auth, server_address: a.server }));
  return matching.length ? matching : [undefined];
}

/** Told what the image manager did, as the kubelet's image events (reason and message). */
export type ImageEventSink = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

/**
 * A duration as Go's time.Duration prints it after Truncate(time.Millisecond): 523ms, 1.2s, 1m3.05s.
 */
export function goDuration(ms: number): string {
  ms = Math.floor(ms);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = ((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Returns the image reference (ID) the runtime resolved, pulling as the policy says. */
/**
 * The image volumes container `c` mounts, each as the image and pull policy to ensure (the kubelet
 * pulls them before it creates the container, with the same events).
 */
export function imageVolumesOf(pod: Pod, c: Container): { volume: string; image: Container }[] {
  const mounted = new Set((c.volumeMounts ?? []).map((m) => m.name));
  return (pod.spec.volumes ?? []).flatMap((v) =>
    v.image && mounted.has(v.name)
      ? [
          {
            volume: v.name,
            image: { name: c.name, image: v.image.reference, imagePullPolicy: v.image.pullPolicy },
          },
        ]
      : [],
  );
}

export async function ensureImage(
  cri: CriRuntime,
  c: Container,
  sandboxConfig: unknown,
  auths?: PullAuth[],
  onEvent: ImageEventSink = () => {},
): Promise<string> {
  const policy = pullPolicyOf(c);
  if (policy !== 'Always') {
    let present: string | undefined;
    try {
      present = (await cri.imageStatus(c.image)).image?.id || undefined;
    } catch (err) {
      const message = `Failed to inspect image "${c.image}": ${(err as Error).message}`;
      onEvent('Warning', 'InspectFailed', message);
      throw new ImagePullError('ImageInspectError', message);
    }
    if (present) {
      onEvent('Normal', 'Pulled', `Container image "${c.image}" already present on machine`);
      return present;
    }
    if (policy === 'Never') {
      const message = `Container image "${c.image}" is not present with pull policy of Never`;
      onEvent('Warning', 'ErrImageNeverPull', message);
      throw new ImagePullError('ErrImageNeverPull', message);
    }
  }
  onEvent('Normal', 'Pulling', `Pulling image "${c.image}"`);
  const startedAt = Date.now();
  let lastError: unknown;
  for (const auth of authsFor(c.image, auths)) {
    try {
      const res = await cri.pullImage({
        image: { image: c.image },
        sandbox_config: sandboxConfig as never,
        ...(auth ? { auth } : {}),
      });
      // Pulls are not queued here: the pull's time and the time including waiting are the same.
      const took = goDuration(Date.now() - startedAt);
      const size = await cri
        .imageStatus(c.image)
        .then((s) => String(s.image?.size ?? 0))
        .catch(() => '0');
      onEvent(
        'Normal',
        'Pulled',
        `Successfully pulled image "${c.image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`,
      );
      return res.image_ref;
    } catch (err) {
      lastError = err;
    }
  }
  const message = `Failed to pull image "${c.image}": ${(lastError as Error).message}`;
  onEvent('Warning', 'Failed', message);
  throw new ImagePullError('ErrImagePull', message);
}
