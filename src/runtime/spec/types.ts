// The container spec: what one container is, modeled on the OCI runtime spec (config.json), so
// its fields mean what runc and crun users expect. The CRI layer builds it; the init, the
// cgroup manager and the security code read it. nodelet-only additions are marked.

export interface ContainerSpec {
  /** Container id (nodelet addition: OCI keeps it outside config.json). */
  id: string;
  root: RootSpec;
  process: ProcessSpec;
  hostname?: string;
  /** Applied in order after the root is mounted. */
  mounts: MountSpec[];
  linux: LinuxSpec;
  annotations?: Record<string, string>;
}

export interface RootSpec {
  /** Where the root is assembled on the host (the overlay's mount point, or a plain directory). */
  path: string;
  readonly: boolean;
  /** nodelet addition: mount an overlay at `path` from these dirs; absent means `path` is ready as is. */
  overlay?: OverlaySpec;
}

export interface OverlaySpec {
  /** Read-only layers, topmost first (overlayfs lowerdir order). */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
}

export interface UserSpec {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids: number[];
  /** nodelet addition: the name the user was resolved from, for ContainerStatus. */
  username?: string;
}

export interface CapabilitySets {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface RlimitSpec {
  /** e.g. "RLIMIT_NOFILE" */
  type: string;
  soft: number;
  hard: number;
}

export interface ProcessSpec {
  terminal: boolean;
  args: string[];
  /** "KEY=value" strings. */
  env: string[];
  cwd: string;
  user: UserSpec;
  capabilities?: CapabilitySets;
  noNewPrivileges: boolean;
  rlimits: RlimitSpec[];
  oomScoreAdj?: number;
}

export interface MountSpec {
  destination: string;
  /** Host path for binds; the filesystem's source name otherwise. */
  source: string;
  /** "bind", "proc", "tmpfs", "sysfs", "devpts", "mqueue", … */
  type: string;
  /** OCI mount options: "bind", "rbind", "ro", "nosuid", "nodev", "noexec", "rprivate", "rslave", "rshared", "rro", "mode=755", … */
  options: string[];
  /** An idmapped mount (OCI's mount uidMappings/gidMappings): the pod user namespace's maps. */
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface NamespaceSpec {
  type: NamespaceType;
  /** Join this namespace (a /proc/<pid>/ns/* file or a pinned bind mount); absent means create a new one. */
  path?: string;
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface LinuxDevice {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxResources {
  memory?: { limit?: number; swap?: number; reservation?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  hugepageLimits?: { pageSize: string; limit: number }[];
  blockIO?: { weight?: number };
  /** cgroup v2 files written as given. */
  unified?: Record<string, string>;
  /** Device access rules (the devices cgroup), applied in order: OCI's linux.resources.devices. */
  devices?: DeviceRule[];
}

export interface DeviceRule {
  allow: boolean;
  /** 'a' (all), 'c' or 'b'; absent means all. */
  type?: 'a' | 'c' | 'b';
  /** Absent means any (*). */
  major?: number;
  minor?: number;
  /** Any of "rwm"; absent means all three. */
  access?: string;
}

/** The actions and operators of the OCI seccomp section, as libseccomp names them. */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];

export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
export type SeccompOperator = (typeof SECCOMP_OPERATORS)[number];

export interface SeccompSpec {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  flags?: string[];
  syscalls: {
    names: string[];
    action: SeccompAction;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: SeccompOperator }[];
  }[];
}

export interface LinuxSpec {
  namespaces: NamespaceSpec[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  /** Namespaced sysctls, written inside the container's namespaces. */
  sysctl: Record<string, string>;
  /** Cgroup path relative to each hierarchy's root, as OCI's cgroupsPath (cgroupfs form). */
  cgroupsPath?: string;
  resources?: LinuxResources;
  seccomp?: SeccompSpec;
  /**
   * nodelet addition: `seccomp` already compiled to BPF (struct sock_filter[], base64) by the
   * daemon, so the init loads it without compiling. When both are set, this one is used.
   */
  seccompBpf?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** Propagation of the root mount: "rprivate" (default), "rslave", "rshared". */
  rootfsPropagation?: string;
  devices: LinuxDevice[];
}
