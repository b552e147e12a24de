// Pods and containers as a kubelet asks for them (pid namespace per container, logs under a
// directory of the bench), the same requests for both runtimes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TestCriClient } from '../../test/support/cri_client';

/** The workload image, served by the bench registry under a mirrored name. */
export const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
/** What long-running bench containers run; the memory figures leave these processes out. */
export const SLEEP_ARGV = ['/bin/sleep', '86400'];

export type Network = 'host' | 'cni';

export interface PodRef {
  id: string;
  config: Record<string, unknown>;
}

/** Where a runtime's pods go: a log directory, and a cgroup root when the runtime needs one. */
export interface PodPlace {
  logRoot: string;
  /** A cgroup under which each pod gets `pod<uid>` (as the kubelet's); none: the runtime's default. */
  cgroupRoot?: string;
}

export function podConfig(name: string, network: Network, place: PodPlace): Record<string, unknown> {
  const uid = randomBytes(8).toString('hex');
  return {
    metadata: { name: `${name}-${uid.slice(0, 6)}`, uid, namespace: 'nodelet-bench', attempt: 0 },
    log_directory: path.join(place.logRoot, uid),
    linux: {
      cgroup_parent: place.cgroupRoot ? `${place.cgroupRoot}/pod${uid}` : '',
      security_context: {
        namespace_options: { network: network === 'host' ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' },
      },
    },
  };
}

export async function runPod(cri: TestCriClient, config: Record<string, unknown>): Promise<PodRef> {
  const res = await cri.runtime<{ pod_sandbox_id: string }>('RunPodSandbox', { config }, 120_000);
  return { id: res.pod_sandbox_id, config };
}

export async function createContainer(
  cri: TestCriClient,
  pod: PodRef,
  name: string,
  argv: string[],
): Promise<string> {
  const config = {
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX },
    command: argv,
    log_path: `${name}.log`,
    linux: { security_context: {} },
  };
  const req = { pod_sandbox_id: pod.id, config, sandbox_config: pod.config };
  return (await cri.runtime<{ container_id: string }>('CreateContainer', req, 120_000)).container_id;
}

export async function startContainer(cri: TestCriClient, id: string): Promise<void> {
  await cri.runtime('StartContainer', { container_id: id }, 120_000);
}

/** Polls ContainerStatus until the container has exited (every 5 ms, to see the exit soon). */
export async function waitExited(cri: TestCriClient, id: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const res = await cri.runtime<{ status?: { state?: string } }>('ContainerStatus', { container_id: id });
    if (res.status?.state === 'CONTAINER_EXITED') return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`Cannot see container '${id}' exit: still not exited after ${timeoutMs} ms`);
}

/** A pod with one sleeping container, running: the unit of the throughput and memory benches. */
export async function runSleepingPod(
  cri: TestCriClient,
  name: string,
  network: Network,
  place: PodPlace,
  containers = 1,
): Promise<PodRef> {
  const pod = await runPod(cri, podConfig(name, network, place));
  for (let i = 0; i < containers; i++) {
    await startContainer(cri, await createContainer(cri, pod, `sleep-${i}`, SLEEP_ARGV));
  }
  return pod;
}

export async function removePod(cri: TestCriClient, podId: string): Promise<void> {
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId }, 120_000);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId }, 120_000);
}

/** Runs fn over items with at most `parallel` calls in flight; rejects with the first failure. */
export async function inParallel<T, R>(
  items: T[],
  parallel: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}
