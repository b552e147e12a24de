// Graceful node shutdown (the kubelet's nodeshutdown manager, with shutdownGracePeriod and
// shutdownGracePeriodCriticalPods): the pods are stopped in priority groups, regular pods first with
// what the critical pods' share leaves of the grace period, then the critical pods (priority at least
// system-cluster-critical's 2000000000) with theirs. A pod's own terminationGracePeriodSeconds is used
// when shorter than its group's. A group that outlasts its share is left running on and the next
// group starts, as the kubelet's does.
import type { DesiredPod } from './manifest';

/** The kubelet's scheduling.SystemCriticalPriority. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;
const PRIORITY_CLASSES: Record<string, number> = {
  'system-cluster-critical': SYSTEM_CRITICAL_PRIORITY,
  'system-node-critical': SYSTEM_CRITICAL_PRIORITY + 1000,
};

/** The status the kubelet gives a pod it stopped for the node's shutdown. */
export const NODE_SHUTDOWN_REASON = 'Terminated';
export const NODE_SHUTDOWN_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';
/** The Ready condition's message while the node shuts down. */
export const NODE_SHUTTING_DOWN_MESSAGE = 'node is shutting down';

const DEFAULT_POD_GRACE_S = 30;

export interface ShutdownSettings {
  gracePeriodS: number;
  criticalPodsGracePeriodS: number;
}

export interface ShutdownGroup {
  /** The least priority of the group's pods. */
  priority: number;
  graceS: number;
  pods: { uid: string; name: string; graceS: number }[];
}

/** A pod's priority: spec.priority (the API server's Priority admission sets it), else its class's. */
export function podPriority(desired: DesiredPod): number {
  const spec = desired.pod?.spec as { priority?: unknown; priorityClassName?: unknown } | undefined;
  if (typeof spec?.priority === 'number') return spec.priority;
  return (typeof spec?.priorityClassName === 'string' && PRIORITY_CLASSES[spec.priorityClassName]) || 0;
}

/** Checks the two periods as the kubelet's validation does. */
export function checkShutdownSettings(s: ShutdownSettings): string | undefined {
  if (s.gracePeriodS < 0 || s.criticalPodsGracePeriodS < 0)
    return 'shutdown grace periods must not be negative';
  if (s.criticalPodsGracePeriodS > s.gracePeriodS)
    return `shutdownGracePeriodCriticalPods (${s.criticalPodsGracePeriodS}s) must not exceed shutdownGracePeriod (${s.gracePeriodS}s)`;
  return undefined;
}

/** The groups in the order they stop (lowest priority first); empty groups are left out. */
export function shutdownPlan(pods: DesiredPod[], settings: ShutdownSettings): ShutdownGroup[] {
  const groups = [
    { priority: 0, graceS: settings.gracePeriodS - settings.criticalPodsGracePeriodS },
    { priority: SYSTEM_CRITICAL_PRIORITY, graceS: settings.criticalPodsGracePeriodS },
  ];
  const planned: ShutdownGroup[] = groups.map((g) => ({ ...g, pods: [] }));
  for (const desired of pods) {
    const priority = podPriority(desired);
    // The last group whose priority the pod reaches; pods below every group go to the first.
    let index = 0;
    groups.forEach((g, i) => priority >= g.priority && (index = i));
    const group = planned[index];
    const own = desired.pod?.spec.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_S;
    group.pods.push({ uid: desired.uid, name: desired.name, graceS: Math.min(own, group.graceS) });
  }
  return planned.filter((g) => g.pods.length > 0);
}

export interface ShutdownSteps {
  /** Stops the pod's containers and sandbox within graceS (they stay, stopped, in the runtime). */
  stopPod(uid: string, graceS: number): Promise<void>;
  /** Tells the API (or whoever) that the pod ended for the shutdown. */
  markTerminated(uid: string): Promise<void>;
  onGroup?(group: ShutdownGroup): void;
  onError?(uid: string, err: unknown): void;
}

/** Runs the plan: each group's pods at once, the next group when they stopped or the share ran out. */
export async function runShutdown(plan: ShutdownGroup[], steps: ShutdownSteps): Promise<void> {
  for (const group of plan) {
    steps.onGroup?.(group);
    const stopped = Promise.all(
      group.pods.map(async (p) => {
        try {
          await steps.stopPod(p.uid, p.graceS);
          await steps.markTerminated(p.uid);
        } catch (err) {
          steps.onError?.(p.uid, err);
        }
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    // The runtime's stop takes up to graceS; a little more for the status call before moving on.
    const share = new Promise<void>((r) => (timer = setTimeout(r, group.graceS * 1000 + 2000)));
    await Promise.race([stopped, share]);
    clearTimeout(timer);
  }
}
