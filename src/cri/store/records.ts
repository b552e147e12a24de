// What the daemon keeps on disk about each pod sandbox and container. The CRI state is derived
// from timestamps, never stored beside them:
//
//   container:  created (no startedAt) ──start──> running (startedAt) ──exit──> exited (finishedAt)
//                     └───────────────────── exit before start ──────────────────────┘
//   sandbox:    ready ──stop──> notready ──remove──> (gone)
import type { PodUserNamespace } from '../userns';
import type { ContainerSpec } from '../../runtime/spec';
import type { Mount__Output } from '../../gen/runtime/v1/Mount';
import type { LinuxContainerResources } from '../../gen/runtime/v1/LinuxContainerResources';
import type { PodSandboxConfig__Output } from '../../gen/runtime/v1/PodSandboxConfig';

export const SANDBOX_RECORD_VERSION = 1;
export const CONTAINER_RECORD_VERSION = 1;

export interface SandboxRecord {
  version: typeof SANDBOX_RECORD_VERSION;
  id: string;
  /** The reserved name: <name>_<namespace>_<uid>_<attempt>. */
  name: string;
  /** The config as the kubelet sent it (labels, annotations, DNS, ports, linux). */
  config: PodSandboxConfig__Output;
  runtimeHandler: string;
  createdAt: string;
  /** Set by StopPodSandbox: the sandbox is NOTREADY from then on. */
  stoppedAt?: string;
  /** <stateDir>/sandboxes/<id>: hostname, hosts, resolv.conf. */
  dir: string;
  hostNetwork: boolean;
  hostIpc: boolean;
  /** 'pod' when containers share one PID namespace (catatonit -P is its PID 1). */
  pidMode: 'pod' | 'container' | 'node';
  /** Pinned namespace files, by type (network, ipc, uts, pid). */
  namespaces: Record<string, string>;
  /** The pod's user namespace maps (userns_options mode POD); its pin is namespaces.user. */
  userns?: PodUserNamespace;
  /** PID of the pod's catatonit, when pidMode is 'pod'. */
  pidInit?: number;
  /** A tmpfs for /dev/shm shared by the pod's containers (absent with host IPC). */
  shmPath?: string;
  /** Containers' cgroups go under this one. */
  cgroupParent: string;
  /** nodelet made the pod cgroup (no cgroup_parent given) and removes it with the pod. */
  ownsCgroup: boolean;
  ips: string[];
  /** The pod's totals and overhead as UpdatePodSandboxResources last told them. */
  resources?: LinuxContainerResources;
  overhead?: LinuxContainerResources;
}

export interface ContainerRecord {
  version: typeof CONTAINER_RECORD_VERSION;
  id: string;
  sandboxId: string;
  name: string;
  metadata: { name: string; attempt: number };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The image as the caller named it, and what it resolved to. */
  image: { spec: string; userSpecified: string; id: string; ref: string };
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** Absolute path of the CRI log file ('' when the kubelet asked for none). */
  logPath: string;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  /** Only the mounts the caller asked for, as ContainerStatus must echo them. */
  mounts: Mount__Output[];
  resources?: LinuxContainerResources;
  stopSignal: string;
  /** Where the writable layer and the root mount point live. */
  dir: string;
  cgroupsPath: string;
  /** Host pid of the container's process (the init, then the workload it became). */
  pid?: number;
  spec: ContainerSpec;
  /** The monitor lost track of the process (its exit was not seen). */
  unknown?: boolean;
  /** Created from a checkpoint archive, unpacked here: StartContainer restores it with CRIU. */
  restoreFrom?: string;
  /** The images mounted as volumes and their layers, which garbage collection keeps while this lives. */
  imageVolumes?: { image: string; id: string; lowerDirs: string[] }[];
}

export type ContainerState =
  'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export function containerState(rec: ContainerRecord): ContainerState {
  if (rec.finishedAt) return 'CONTAINER_EXITED';
  if (rec.unknown) return 'CONTAINER_UNKNOWN';
  return rec.startedAt ? 'CONTAINER_RUNNING' : 'CONTAINER_CREATED';
}

export function sandboxState(rec: SandboxRecord): 'SANDBOX_READY' | 'SANDBOX_NOTREADY' {
  return rec.stoppedAt ? 'SANDBOX_NOTREADY' : 'SANDBOX_READY';
}
