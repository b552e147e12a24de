// What the CRI layer reaches outside itself for while it decides what a pod or container is: the
// node's name, the kernel's last capability, Localhost seccomp profiles, libseccomp, the host's
// device nodes, a pod's pinned namespaces, and the mounts of a pod's /dev/shm and of an image's
// read-only root. One small
// interface, as containerd's `c.os`: the daemon's composition root hands the real one
// (real_host.ts) to every handler through CriContext, and unit tests a plain object, so the
// decisions run without root. Types only here, so any module can name it without a cycle.
import type {
  LinuxDevice,
  NamespaceType,
  PidNamespaceInit,
  PinnedNamespaces,
  SeccompSpec,
  UserNamespaceMappings,
} from '../runtime';

/** A device node's kind, numbers and owner, without the path it gets in the container. */
export type HostDeviceNode = Omit<LinuxDevice, 'path'>;

export interface DeviceHost {
  /**
   * What a host path is, its symlinks followed (stat(2)): a device node, a directory, or neither
   * (undefined). Throws what stat throws.
   */
  deviceAt(hostPath: string): HostDeviceNode | 'directory' | undefined;
  /** Every device node below a host directory, placed below `containerDir` (links inside not followed). */
  devicesUnder(hostDir: string, containerDir: string): LinuxDevice[];
  /** Every device node of the host's /dev, for a privileged container. */
  hostDevices(): LinuxDevice[];
}

export interface SpecHost extends DeviceHost {
  /** The node's host name (a host-network pod's, and a pod's that names none). */
  hostname(): string;
  /** The kernel's highest capability number (what "ALL" and privileged grant up to). */
  lastCap(): number;
  /** A Localhost seccomp profile read from the host, reduced for the bounding set `caps`. */
  loadSeccompProfile(file: string, caps: readonly string[]): SeccompSpec;
  /** The filter as BPF, compiled with the host's libseccomp. */
  compileSeccomp(spec: SeccompSpec): Buffer;
}

/** mount(2) and umount2(2), as src/runtime/sys declares them. */
export interface MountHost {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string): void;
  umount(target: string, flags?: number): void;
}

/** What RunPodSandbox makes on the host besides files: pinned namespaces, a PID 1, a /dev/shm. */
export interface PodHost extends MountHost {
  pinNamespaces(runDir: string, podId: string, types: NamespaceType[]): PinnedNamespaces;
  /** A user namespace with these maps and `types` namespaces owned by it, all pinned ('user' too). */
  pinPodUserNamespace(
    runDir: string,
    podId: string,
    types: NamespaceType[],
    mappings: UserNamespaceMappings,
  ): Promise<PinnedNamespaces>;
  unpinNamespaces(runDir: string, podId: string): void;
  /** `userns`: the pinned user namespace that is to own the PID namespace. */
  startPidNamespaceInit(runDir: string, podId: string, userns?: string): Promise<PidNamespaceInit>;
}

export interface CriHost extends SpecHost, PodHost {}
