// What the runtime says about one pod, reduced to what the pod worker decides on. Built from
// ListPodSandbox/ListContainers/ContainerStatus filtered by the pod UID label, so it is all an agent
// restarted from scratch needs: nothing about a pod lives only in the agent's memory.
import type { ContainerStatus__Output } from '../gen/runtime/v1/ContainerStatus';
import type { PodSandbox__Output } from '../gen/runtime/v1/PodSandbox';
import { CONTAINER_HASH_ANNOTATION, CONTAINER_NAME_LABEL, RESTART_COUNT_ANNOTATION } from './labels';

export type ContainerStateName = 'created' | 'running' | 'exited' | 'unknown';

export interface ObservedContainer {
  id: string;
  sandboxId: string;
  name: string;
  state: ContainerStateName;
  hash: string;
  restartCount: number;
  exitCode: number;
  reason: string;
  message: string;
  createdAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  image: string;
  imageRef: string;
  /** The log file on the node (absolute), removed with the container by the garbage collector. */
  logPath: string;
}

export interface ObservedSandbox {
  id: string;
  attempt: number;
  ready: boolean;
  createdAtMs: number;
  ips: string[];
}

export interface ObservedPod {
  /** Newest first. */
  sandboxes: ObservedSandbox[];
  /** Every container of the pod, in any sandbox, newest first. */
  containers: ObservedContainer[];
}

const nsToMs = (ns: string | number | undefined) => (ns ? Number(BigInt(ns) / 1_000_000n) : 0);

const STATE: Record<string, ContainerStateName> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
};

export function observedContainer(sandboxId: string, s: ContainerStatus__Output): ObservedContainer {
  return {
    id: s.id,
    sandboxId,
    name: s.labels[CONTAINER_NAME_LABEL] ?? s.metadata?.name ?? '',
    state: STATE[s.state] ?? 'unknown',
    hash: s.annotations[CONTAINER_HASH_ANNOTATION] ?? '',
    restartCount: Number(s.annotations[RESTART_COUNT_ANNOTATION] ?? s.metadata?.attempt ?? 0),
    exitCode: s.exit_code,
    reason: s.reason,
    message: s.message,
    createdAtMs: nsToMs(s.created_at),
    startedAtMs: nsToMs(s.started_at),
    finishedAtMs: nsToMs(s.finished_at),
    image: s.image?.image ?? '',
    imageRef: s.image_ref,
    logPath: s.log_path,
  };
}

export function observedSandbox(s: PodSandbox__Output, ips: string[]): ObservedSandbox {
  return {
    id: s.id,
    attempt: s.metadata?.attempt ?? 0,
    ready: s.state === 'SANDBOX_READY',
    createdAtMs: nsToMs(s.created_at),
    ips,
  };
}

/** The newest container of each name among `containers` (already sorted newest first). */
export function latestByName(containers: ObservedContainer[]): Map<string, ObservedContainer> {
  const latest = new Map<string, ObservedContainer>();
  for (const c of containers) if (!latest.has(c.name)) latest.set(c.name, c);
  return latest;
}

export function byNewest<T extends { createdAtMs: number }>(a: T, b: T): number {
  return b.createdAtMs - a.createdAtMs;
}
