// A container spec with the defaults containerd gives every Linux container: the standard
// mounts, masked and read-only paths, and fresh namespaces. The CRI layer starts from this and
// overrides; tests use it as is.
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../common/kubelet_defaults';
import type { ContainerSpec, MountSpec, NamespaceSpec } from './types';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const DEFAULT_MOUNTS: readonly MountSpec[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  {
    destination: '/dev',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
  },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
  },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

export { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS };

export interface DefaultSpecOptions {
  id: string;
  /** The root directory (or the overlay mount point when `overlay` is given). */
  rootPath: string;
  overlay?: ContainerSpec['root']['overlay'];
  args: string[];
  env?: string[];
  cwd?: string;
  hostname?: string;
  readonlyRoot?: boolean;
  terminal?: boolean;
  /** Namespaces to join by path instead of creating (e.g. a pod's pinned network namespace). */
  join?: NamespaceSpec[];
}

export function defaultSpec(opts: DefaultSpecOptions): ContainerSpec {
  const joined = new Map((opts.join ?? []).map((ns) => [ns.type, ns]));
  const namespaces: NamespaceSpec[] = (['pid', 'network', 'ipc', 'uts', 'mount'] as const).map(
    (type) => joined.get(type) ?? { type },
  );
  return {
    id: opts.id,
    root: { path: opts.rootPath, readonly: opts.readonlyRoot ?? false, overlay: opts.overlay },
    hostname: opts.hostname,
    process: {
      terminal: opts.terminal ?? false,
      args: opts.args,
      env: opts.env ?? [`PATH=${DEFAULT_PATH}`],
      cwd: opts.cwd ?? '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      noNewPrivileges: false,
      rlimits: [],
    },
    mounts: DEFAULT_MOUNTS.map((m) => ({ ...m, options: [...m.options] })),
    linux: {
      namespaces,
      sysctl: {},
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      devices: [],
    },
  };
}
