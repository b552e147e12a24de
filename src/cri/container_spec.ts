// Builds a container's spec from its CRI config, its pod and its image, merging them as containerd
// does: command/args over the image's entrypoint/cmd, CRI env over image env, the CRI's working dir
// and user over the image's, the pod's namespaces, files and /dev/shm, then security and devices.
// Pure but for what it asks its SpecHost (host.ts): the host name, /dev, seccomp profiles and
// libseccomp, so the merge rules are table-tested without root (container_spec.test.ts).
import path from 'node:path';
import type { ContainerConfig__Output } from '../gen/runtime/v1/ContainerConfig';
import type { Mount__Output } from '../gen/runtime/v1/Mount';
import type { ImageRecord } from '../image';
import { invalidArgument } from '../common/errors';
import {
  defaultSpec,
  type ContainerSpec,
  type MountSpec,
  type NamespaceSpec,
  type UserSpec,
} from '../runtime';
import { DEFAULT_PATH } from '../runtime/spec/defaults';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, toLinuxResources } from '../runtime/cgroups';
import {
  capabilitiesFor,
  seccompFor,
  validateSysctls,
  withCompiledSeccomp,
  type UserRequest,
} from '../runtime/security';
import { applyCdiEdits, type CdiEditSet } from './cdi';
import { containerDevices } from './devices';
import type { SpecHost } from './host';
import { sandboxFilePaths } from './sandbox_files';
import type { SandboxRecord } from './store';
import { sameMappings } from './userns';

export interface SpecInputs {
  id: string;
  config: ContainerConfig__Output;
  pod: SandboxRecord;
  image: ImageRecord;
  lowerDirs: string[];
  /** <stateDir>/containers/<id>: upper, work and the root mount point live here. */
  dir: string;
  user: UserSpec;
  cgroupsPath: string;
  /** Host pid of the target container, for NamespaceMode TARGET. */
  targetPid?: number;
  /** The container's CDI devices, resolved from the spec directories (cdi/). */
  cdi?: readonly CdiEditSet[];
  /** The host path bound for each image mount, by its index in config.mounts (image_volumes.ts). */
  imageVolumeSources?: ReadonlyMap<number, string>;
}

function commandOf(config: ContainerConfig__Output, image: ImageRecord): string[] {
  const imageConfig = image.config;
  let command = config.command;
  let args = config.args;
  if (command.length === 0) {
    command = imageConfig.Entrypoint ?? [];
    if (args.length === 0) args = imageConfig.Cmd ?? [];
  }
  const argv = [...command, ...args];
  if (argv.length === 0) {
    throw invalidArgument(`Cannot create container '${config.metadata?.name}': no command specified`);
  }
  return argv;
}

export function envOf(config: ContainerConfig__Output, image: ImageRecord, hostname: string): string[] {
  const env = new Map<string, string>();
  const put = (entry: string) => {
    const eq = entry.indexOf('=');
    env.set(eq < 0 ? entry : entry.slice(0, eq), entry);
  };
  for (const e of image.config.Env ?? []) put(e);
  put(`HOSTNAME=${hostname}`);
  for (const kv of config.envs) put(`${kv.key}=${Buffer.from(kv.value).toString('utf8')}`);
  if (!env.has('PATH')) env.set('PATH', `PATH=${DEFAULT_PATH}`);
  return [...env.values()];
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

/** `imageSource`: for an image mount, its read-only view on the host (always mounted read-only). */
function criMount(m: Mount__Output, imageSource?: string): MountSpec {
  if (imageSource !== undefined) {
    if (!path.isAbsolute(m.container_path)) {
      throw invalidArgument(
        `Cannot mount image '${m.image?.image}': container path '${m.container_path}' is not absolute`,
      );
    }
    const propagation = PROPAGATION[m.propagation] ?? 'rprivate';
    return {
      destination: m.container_path,
      source: imageSource,
      type: 'bind',
      options: ['rbind', propagation, 'ro'],
    };
  }
  if (!path.isAbsolute(m.container_path)) {
    throw invalidArgument(
      `Cannot mount '${m.host_path}': container path '${m.container_path}' is not absolute`,
    );
  }
  if (m.recursive_read_only) {
    if (!m.readonly)
      throw invalidArgument(`Cannot mount '${m.host_path}' recursively read-only: readonly is false`);
    if (m.propagation !== 'PROPAGATION_PRIVATE') {
      throw invalidArgument(
        `Cannot mount '${m.host_path}' recursively read-only with propagation ${m.propagation}`,
      );
    }
  }
  const options = ['rbind', PROPAGATION[m.propagation] ?? 'rprivate'];
  if (m.readonly) options.push(m.recursive_read_only ? 'rro' : 'ro');
  return { destination: m.container_path, source: m.host_path, type: 'bind', options };
}

function namespacesOf(
  pod: SandboxRecord,
  config: ContainerConfig__Output,
  targetPid?: number,
): NamespaceSpec[] {
  const ns: NamespaceSpec[] = [{ type: 'mount' }];
  // A fresh cgroup namespace (the init unshares it once it is in its cgroups), so /proc/self/cgroup
  // and a cgroupfs mounted inside show the container's cgroup as "/" and no host path. Privileged
  // containers keep the host's, as containerd does (they see the host's /sys/fs/cgroup anyway).
  if (!config.linux?.security_context?.privileged) ns.push({ type: 'cgroup' });
  if (pod.namespaces.network) ns.push({ type: 'network', path: pod.namespaces.network });
  if (pod.namespaces.ipc) ns.push({ type: 'ipc', path: pod.namespaces.ipc });
  if (pod.namespaces.uts) ns.push({ type: 'uts', path: pod.namespaces.uts });
  const pidMode = config.linux?.security_context?.namespace_options?.pid;
  if (pidMode === 'TARGET') {
    if (targetPid === undefined)
      throw invalidArgument('Cannot share the PID namespace of the target: it is not running');
    ns.push({ type: 'pid', path: `/proc/${targetPid}/ns/pid` });
  } else if (pod.pidMode === 'pod' && pod.namespaces.pid) {
    ns.push({ type: 'pid', path: pod.namespaces.pid });
  } else if (pod.pidMode !== 'node') {
    ns.push({ type: 'pid' });
  }
  return ns;
}

/**
 * Every container of a pod with a user namespace joins it; a container may not ask for another
 * one, nor for privileges the pod's root does not have on the host anyway.
 */
function joinPodUserNamespace(
  spec: ContainerSpec,
  pod: SandboxRecord,
  config: ContainerConfig__Output,
): void {
  const what = `Cannot create container '${config.metadata?.name}'`;
  const asked = config.linux?.security_context?.namespace_options?.userns_options;
  if (!pod.userns) {
    if (asked && asked.mode !== 'NODE')
      throw invalidArgument(`${what}: its pod has no user namespace (mode ${asked.mode})`);
    return;
  }
  if (
    asked &&
    (asked.mode !== 'POD' ||
      !sameMappings(asked.uids, pod.userns.uids) ||
      !sameMappings(asked.gids, pod.userns.gids))
  ) {
    throw invalidArgument(`${what}: its user namespace options differ from its pod's`);
  }
  if (config.linux?.security_context?.privileged) {
    throw invalidArgument(`${what}: a privileged container cannot run in a pod with a user namespace`);
  }
  spec.linux.namespaces.push({ type: 'user', path: pod.namespaces.user });
  spec.linux.uidMappings = pod.userns.uids;
  spec.linux.gidMappings = pod.userns.gids;
}

/** A CRI mount with uid/gid mappings (the kubelet's, for a pod with a user namespace) is idmapped. */
function idmapped(spec: MountSpec, m: Mount__Output, pod: SandboxRecord): MountSpec {
  if (m.uidMappings.length === 0 && m.gidMappings.length === 0) return spec;
  const what = `Cannot mount '${m.host_path}' idmapped`;
  if (!pod.userns) throw invalidArgument(`${what}: its pod has no user namespace`);
  if (!sameMappings(m.uidMappings, pod.userns.uids) || !sameMappings(m.gidMappings, pod.userns.gids)) {
    throw invalidArgument(`${what}: only the pod's own uid and gid mappings can be used`);
  }
  return { ...spec, uidMappings: pod.userns.uids, gidMappings: pod.userns.gids };
}

/** What resolveUser needs from the CRI's security context and the image's USER. */
export function userRequestOf(config: ContainerConfig__Output, image: ImageRecord): UserRequest {
  const security = config.linux?.security_context;
  return {
    runAsUser: security?.run_as_user ? Number(security.run_as_user.value) : undefined,
    runAsGroup: security?.run_as_group ? Number(security.run_as_group.value) : undefined,
    runAsUsername: security?.run_as_username || undefined,
    supplementalGroups: (security?.supplemental_groups ?? []).map(Number),
    policy: security?.supplemental_groups_policy === 'Strict' ? 'Strict' : 'Merge',
    imageUser: image.config.User,
  };
}

export function buildContainerSpec(inputs: SpecInputs, host: SpecHost): ContainerSpec {
  const { config, pod, image } = inputs;
  const security = config.linux?.security_context;
  const privileged = security?.privileged ?? false;
  // The pod's hostname as RunPodSandbox chose it (its file is the one the containers see).
  const hostname = pod.hostNetwork ? host.hostname() : pod.config.hostname || host.hostname();
  const spec = defaultSpec({
    id: inputs.id,
    rootPath: path.join(inputs.dir, 'rootfs'),
    overlay: {
      lowerDirs: inputs.lowerDirs,
      upperDir: path.join(inputs.dir, 'upper'),
      workDir: path.join(inputs.dir, 'work'),
    },
    args: commandOf(config, image),
    env: envOf(config, image, hostname),
    cwd: config.working_dir || image.config.WorkingDir || '/',
    // With the host's network the container shares the host's UTS namespace and its name.
    hostname: pod.hostNetwork ? undefined : hostname,
    readonlyRoot: security?.readonly_rootfs ?? false,
    terminal: config.tty,
  });
  spec.linux.namespaces = namespacesOf(pod, config, inputs.targetPid);
  spec.process.user = inputs.user;
  joinPodUserNamespace(spec, pod, config);

  // The pod's files and /dev/shm, unless the caller mounts its own there (the kubelet does for /etc/hosts).
  const criMounts = config.mounts.map((m, i) =>
    idmapped(criMount(m, inputs.imageVolumeSources?.get(i)), m, pod),
  );
  const taken = new Set(criMounts.map((m) => m.destination));
  const files = sandboxFilePaths(pod.dir);
  const fileOptions = ['rbind', 'rprivate', security?.readonly_rootfs ? 'ro' : 'rw'];
  const podMounts: MountSpec[] = [
    { destination: '/etc/hostname', source: files.hostname, type: 'bind', options: [...fileOptions] },
    { destination: '/etc/hosts', source: files.hosts, type: 'bind', options: [...fileOptions] },
    { destination: '/etc/resolv.conf', source: files.resolvConf, type: 'bind', options: [...fileOptions] },
  ];
  if (pod.shmPath) {
    spec.mounts = spec.mounts.filter((m) => m.destination !== '/dev/shm');
    podMounts.push({
      destination: '/dev/shm',
      source: pod.shmPath,
      type: 'bind',
      options: ['rbind', 'rprivate'],
    });
  }
  spec.mounts.push(...podMounts.filter((m) => !taken.has(m.destination)), ...criMounts);
  if (criMounts.some((m) => m.options.includes('rshared'))) spec.linux.rootfsPropagation = 'rshared';
  else if (criMounts.some((m) => m.options.includes('rslave'))) spec.linux.rootfsPropagation = 'rslave';

  if (privileged) {
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
    for (const m of spec.mounts) if (m.type === 'sysfs') m.options = m.options.filter((o) => o !== 'ro');
  } else {
    if (security?.masked_paths.length) spec.linux.maskedPaths = [...security.masked_paths];
    if (security?.readonly_paths.length) spec.linux.readonlyPaths = [...security.readonly_paths];
  }

  const caps = capabilitiesFor({
    add: security?.capabilities?.add_capabilities,
    drop: security?.capabilities?.drop_capabilities,
    addAmbient: security?.capabilities?.add_ambient_capabilities,
    privileged,
    uid: inputs.user.uid,
    lastCap: host.lastCap(),
  });
  spec.process.capabilities = caps;
  spec.process.noNewPrivileges = security?.no_new_privs ?? false;
  const profile = security?.seccomp ?? (security?.seccomp_profile_path || null);
  spec.linux.seccomp = seccompFor(profile, privileged, caps.bounding, host.loadSeccompProfile);
  spec.linux.sysctl = validateSysctls(pod.config.linux?.sysctls ?? {}, {
    hostNetwork: pod.hostNetwork,
    hostIpc: pod.hostIpc,
  });
  spec.linux.cgroupsPath = inputs.cgroupsPath;
  // The container's own cgroups at /sys/fs/cgroup, read-only, as containerd's default spec gives
  // (workloads read their limits there). Privileged containers keep what sysfs shows; in a pod user
  // namespace the binds would need idmapping: neither gets it yet.
  if (!privileged && !spec.linux.namespaces.some((ns) => ns.type === 'user'))
    spec.mounts.push({
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    });
  const devices = containerDevices(config.devices, { privileged, host });
  spec.linux.devices = devices.nodes;
  spec.linux.resources = {
    ...toLinuxResources(config.linux?.resources),
    devices: [...(privileged ? ALL_DEVICES : DEFAULT_DEVICE_RULES), ...devices.rules],
  };
  // Last of the edits, as containerd applies WithCDI after the CRI's env, mounts and devices.
  if (inputs.cdi?.length) applyCdiEdits(spec, inputs.cdi, host);
  // Always set: left out, the init would keep the daemon's (or its monitor's) own value.
  spec.process.oomScoreAdj = Number(config.linux?.resources?.oom_score_adj ?? 0);
  spec.linux = withCompiledSeccomp(spec.linux, host.compileSeccomp);
  spec.annotations = { ...config.annotations };
  return spec;
}
