// Stopping containers and pods with their grace period: the preStop hook runs first, the runtime then
// gets what is left of the grace period before it sends SIGKILL. Works from the runtime's labels and
// annotations alone, so a restarted agent can also stop pods whose manifest has gone (orphans).
import type { Logger } from '../common/log';
import type { CriRuntime } from './cri_client';
import { GRACE_PERIOD_ANNOTATION, PRESTOP_ANNOTATION } from './labels';
import type { Container } from './pod_spec';
import { runCheck, ProbeAction } from './probe_check';
import { terminationTurns } from './sidecar';

export interface StopTarget {
  id: string;
  name: string;
  /** The container's spec when known; otherwise the preStop hook is read from its annotation. */
  spec?: Container;
}

export async function stopContainerGracefully(
  cri: CriRuntime,
  log: Logger,
  target: StopTarget,
  options: {
    graceS: number;
    podIP: string;
    /** Resolves when this container may be stopped (a sidecar waits for the app containers). */
    waitForTurn?: () => Promise<void>;
  },
): Promise<void> {
  const started = Date.now();
  let preStop: ProbeAction | undefined = target.spec?.lifecycle?.preStop;
  if (!target.spec) {
    const { status } = await cri.containerStatus(target.id).catch(() => ({ status: null }));
    const text = status?.annotations[PRESTOP_ANNOTATION];
    if (text) preStop = JSON.parse(text) as ProbeAction;
  }
  if (preStop && options.graceS > 0) {
    const spec = target.spec ?? ({ name: target.name, image: '' } as Container);
    const result = await runCheck(
      cri,
      preStop,
      { containerId: target.id, container: spec, podIP: options.podIP },
      options.graceS,
    );
    if (!result.ok) log.warn({ container: target.name, message: result.message }, 'preStop hook failed');
  }
  await options.waitForTurn?.();
  // Whatever the hook (and the wait for its turn) used is taken from the grace period, with 2 s left at least, as the kubelet does.
  const elapsedS = Math.floor((Date.now() - started) / 1000);
  const remaining = options.graceS === 0 ? 0 : Math.max(2, options.graceS - elapsedS);
  await cri.stopContainer(target.id, remaining);
}

/** The grace period a container was created with (its annotation), for pods the agent no longer knows. */
function graceFromAnnotations(annotations: Record<string, string>, fallbackS: number): number {
  const v = Number(annotations[GRACE_PERIOD_ANNOTATION]);
  return Number.isFinite(v) ? v : fallbackS;
}

/**
 * Stops every running container of the pod, then its sandboxes, and optionally removes them. App
 * containers stop in parallel; sidecars (named in spec order) after them, the last one first.
 */
export async function killPod(
  cri: CriRuntime,
  log: Logger,
  uidSelector: { uid: string },
  options: {
    graceS?: number;
    specs?: Map<string, Container>;
    podIP?: string;
    remove: boolean;
    sidecars?: string[];
    /** Told of each container about to be stopped (the Killing event). */
    onKilling?: (name: string) => void;
  },
): Promise<void> {
  const selector = { label_selector: { 'io.kubernetes.pod.uid': uidSelector.uid } };
  const { containers } = await cri.listContainers({ filter: selector });
  const running = containers.filter((c) => c.state === 'CONTAINER_RUNNING');
  const turns = terminationTurns(
    running.map((c) => c.metadata?.name ?? ''),
    options.sidecars ?? [],
  );
  await Promise.all(
    running.map(async (c) => {
      const name = c.metadata?.name ?? '';
      const graceS = options.graceS ?? graceFromAnnotations(c.annotations, 30);
      options.onKilling?.(name);
      try {
        await stopContainerGracefully(
          cri,
          log,
          { id: c.id, name, spec: options.specs?.get(name) },
          { graceS, podIP: options.podIP ?? '', waitForTurn: () => turns.waitForTurn(name) },
        );
      } finally {
        turns.stopped(name);
      }
    }),
  );
  const { items } = await cri.listPodSandbox({ filter: selector });
  for (const s of items) {
    if (s.state === 'SANDBOX_READY') await cri.stopPodSandbox(s.id);
    if (options.remove) await cri.removePodSandbox(s.id);
  }
}
