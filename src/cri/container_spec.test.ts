// buildContainerSpec as containerd's pkg/cri/server container_create_linux_test.go tables it: each
// row a CRI config (with its pod and image) and the spec fields it must give. The host is a plain
// object (SpecHost): no /dev, no libseccomp, no mounts, no root. What the real host does is tested
// beside it (devices.test.ts on the host's /dev, the seccomp tests with libseccomp) and end to end
// in test/integration/cri.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerConfig__Output } from '../gen/runtime/v1/ContainerConfig';
import type { LinuxContainerResources__Output } from '../gen/runtime/v1/LinuxContainerResources';
import type { LinuxContainerSecurityContext__Output } from '../gen/runtime/v1/LinuxContainerSecurityContext';
import type { Mount__Output } from '../gen/runtime/v1/Mount';
import type { ImageConfig, ImageRecord } from '../image';
import { invalidArgument } from '../common/errors';
import type { ContainerSpec, LinuxDevice, SeccompSpec, UserSpec } from '../runtime';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES } from '../runtime/cgroups';
import { DEFAULT_CAPABILITIES, resolveUser, runtimeDefaultSeccomp } from '../runtime/security';
import { DEFAULT_MASKED_PATHS, DEFAULT_PATH, DEFAULT_READONLY_PATHS } from '../runtime/spec/defaults';
import type { CdiEditSet } from './cdi';
import { buildContainerSpec, userRequestOf } from './container_spec';
import type { HostDeviceNode, MountHost, SpecHost } from './host';
import { withImageRootfs } from './image_rootfs';
import type { SandboxRecord } from './store';

// ---- the fake host: a node named "node-1" whose kernel knows capabilities up to CAP_PERFMON ----

const LOCALHOST_PROFILE: SeccompSpec = {
  defaultAction: 'SCMP_ACT_ERRNO',
  architectures: ['SCMP_ARCH_X86_64'],
  syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }],
};
const node = (type: 'c' | 'b', major: number, minor: number): HostDeviceNode => ({
  type,
  major,
  minor,
  fileMode: 0o660,
  uid: 0,
  gid: 0,
});
const HOST_DEV: Record<string, HostDeviceNode | 'directory' | undefined> = {
  '/dev/fuse': node('c', 10, 229),
  '/dev/sda': node('b', 8, 0),
  '/dev/dri': 'directory',
  '/etc/passwd': undefined, // a regular file: neither a device nor a directory
};

interface FakeHost extends SpecHost {
  loaded: { file: string; caps: readonly string[] }[];
  compiled: SeccompSpec[];
}

function fakeHost(): FakeHost {
  const host: FakeHost = {
    loaded: [],
    compiled: [],
    hostname: () => 'node-1',
    lastCap: () => 38, // CAP_PERFMON: CAP_BPF and CAP_CHECKPOINT_RESTORE are unknown to this kernel
    loadSeccompProfile(file, caps) {
      host.loaded.push({ file, caps });
      if (file !== '/var/lib/kubelet/seccomp/audit.json') {
        throw invalidArgument(`Cannot load seccomp profile '${file}': no such file`);
      }
      return LOCALHOST_PROFILE;
    },
    compileSeccomp(spec) {
      host.compiled.push(spec);
      return Buffer.from('bpf');
    },
    deviceAt(hostPath) {
      if (!(hostPath in HOST_DEV)) throw new Error(`ENOENT: no such file or directory, stat '${hostPath}'`);
      return HOST_DEV[hostPath];
    },
    devicesUnder(hostDir, containerDir) {
      expect(hostDir).toBe('/dev/dri');
      return [
        { path: `${containerDir}/card0`, ...node('c', 226, 0) },
        { path: `${containerDir}/renderD128`, ...node('c', 226, 128) },
      ];
    },
    hostDevices: () => [
      { path: '/dev/null', ...node('c', 1, 3) },
      { path: '/dev/ptmx', ...node('c', 5, 2) },
      { path: '/dev/sda', ...node('b', 8, 0) },
    ],
  };
  return host;
}

// ---- CRI inputs with proto3 defaults, as the gRPC layer hands them over ----

type Overrides = Partial<Omit<ContainerConfig__Output, 'linux'>> & {
  security?: Partial<LinuxContainerSecurityContext__Output>;
  resources?: Partial<LinuxContainerResources__Output>;
};

function config(o: Overrides = {}): ContainerConfig__Output {
  const { security, resources, ...rest } = o;
  return {
    metadata: { name: 'app', attempt: 0 },
    image: null,
    command: [],
    args: [],
    working_dir: '',
    envs: [],
    mounts: [],
    devices: [],
    labels: {},
    annotations: {},
    log_path: '',
    stdin: false,
    stdin_once: false,
    tty: false,
    windows: null,
    CDI_devices: [],
    stop_signal: 'RUNTIME_DEFAULT',
    ...rest,
    linux: {
      resources: resources
        ? {
            cpu_period: '0',
            cpu_quota: '0',
            cpu_shares: '0',
            memory_limit_in_bytes: '0',
            oom_score_adj: '0',
            cpuset_cpus: '',
            cpuset_mems: '',
            hugepage_limits: [],
            unified: {},
            memory_swap_limit_in_bytes: '0',
            ...resources,
          }
        : null,
      security_context: security
        ? {
            capabilities: null,
            privileged: false,
            namespace_options: null,
            selinux_options: null,
            run_as_user: null,
            run_as_username: '',
            readonly_rootfs: false,
            supplemental_groups: [],
            apparmor_profile: '',
            seccomp_profile_path: '',
            no_new_privs: false,
            run_as_group: null,
            masked_paths: [],
            readonly_paths: [],
            seccomp: null,
            apparmor: null,
            supplemental_groups_policy: 'Merge',
            ...security,
          }
        : null,
    },
  } as ContainerConfig__Output;
}

function criMount(o: Partial<Mount__Output>): Mount__Output {
  return {
    container_path: '/data',
    host_path: '/srv/data',
    readonly: false,
    selinux_relabel: false,
    propagation: 'PROPAGATION_PRIVATE',
    uidMappings: [],
    gidMappings: [],
    recursive_read_only: false,
    image: null,
    image_sub_path: '',
    ...o,
  };
}

function pod(
  o: Partial<SandboxRecord> & { hostname?: string; sysctls?: Record<string, string> } = {},
): SandboxRecord {
  const { hostname = 'web-0', sysctls = {}, ...rest } = o;
  return {
    version: 1,
    id: 'pod1',
    name: 'web-0_default_uid_0',
    config: {
      metadata: { name: 'web-0', namespace: 'default', uid: 'uid', attempt: 0 },
      hostname,
      log_directory: '',
      dns_config: null,
      port_mappings: [],
      labels: {},
      annotations: {},
      linux: { sysctls } as never,
      windows: null,
    },
    runtimeHandler: '',
    createdAt: '1',
    dir: '/var/lib/nodelet/sandboxes/pod1',
    hostNetwork: false,
    hostIpc: false,
    pidMode: 'container',
    namespaces: {
      network: '/run/nodelet/ns/pod1/net',
      ipc: '/run/nodelet/ns/pod1/ipc',
      uts: '/run/nodelet/ns/pod1/uts',
    },
    shmPath: '/run/nodelet/sandboxes/pod1/shm',
    cgroupParent: '/kubepods/pod1',
    ownsCgroup: true,
    ips: ['10.88.0.2'],
    ...rest,
  } as SandboxRecord;
}

function image(c: ImageConfig = {}): ImageRecord {
  return {
    version: 1,
    id: 'sha256:abc',
    repoTags: ['registry.local/app:1'],
    repoDigests: [],
    manifestDigest: 'sha256:def',
    blobs: [],
    size: 0,
    layers: [],
    config: c,
    pinned: false,
    createdAt: '1',
  };
}

const ROOT: UserSpec = { uid: 0, gid: 0, additionalGids: [0] };

interface Build {
  config?: ContainerConfig__Output;
  pod?: SandboxRecord;
  image?: ImageRecord;
  user?: UserSpec;
  targetPid?: number;
  host?: FakeHost;
  cdi?: CdiEditSet[];
  imageVolumeSources?: Map<number, string>;
}

function build(b: Build = {}): ContainerSpec {
  return buildContainerSpec(
    {
      id: 'c1',
      config: b.config ?? config({ command: ['/app'] }),
      pod: b.pod ?? pod(),
      image: b.image ?? image(),
      lowerDirs: ['/var/lib/nodelet/snapshots/1/fs'],
      dir: '/var/lib/nodelet/containers/c1',
      user: b.user ?? ROOT,
      cgroupsPath: '/kubepods/pod1/c1',
      targetPid: b.targetPid,
      cdi: b.cdi,
      imageVolumeSources: b.imageVolumeSources,
    },
    b.host ?? fakeHost(),
  );
}

// ---- the tables ----

describe('the command a container runs', () => {
  const img = image({ Entrypoint: ['/entry'], Cmd: ['--serve'] });
  test.each([
    ['runs the image Entrypoint then its Cmd when the request gives neither', {}, ['/entry', '--serve']],
    [
      'runs the request command instead of the Entrypoint and drops the Cmd',
      { command: ['/bin/sh'] },
      ['/bin/sh'],
    ],
    [
      'appends the request args to its command',
      { command: ['/bin/sh'], args: ['-c', 'true'] },
      ['/bin/sh', '-c', 'true'],
    ],
    [
      'keeps the Entrypoint when only args are given, which replace the Cmd',
      { args: ['--debug'] },
      ['/entry', '--debug'],
    ],
  ])('%s', (_name, o: Overrides, argv) => {
    expect(build({ config: config(o), image: img }).process.args).toEqual(argv);
  });

  test('runs the Cmd alone when the image has no Entrypoint', () => {
    expect(build({ config: config(), image: image({ Cmd: ['/bin/sh'] }) }).process.args).toEqual(['/bin/sh']);
  });

  test('is refused as an invalid argument when neither the request nor the image names one', () => {
    expect(() => build({ config: config(), image: image({ Entrypoint: null, Cmd: null }) })).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: "Cannot create container 'app': no command specified",
      }),
    );
  });
});

describe('the environment', () => {
  const env = (key: string, value: string) => ({ key, value: Buffer.from(value) });

  test('is the image env, then the pod hostname, then the request env, a later value winning in place', () => {
    const spec = build({
      config: config({ command: ['/app'], envs: [env('MODE', 'prod'), env('EXTRA', 'a=b')] }),
      image: image({ Env: ['PATH=/opt/bin', 'MODE=dev', 'LANG=C'] }),
    });
    expect(spec.process.env).toEqual(['PATH=/opt/bin', 'MODE=prod', 'LANG=C', 'HOSTNAME=web-0', 'EXTRA=a=b']);
  });

  test('gets the default PATH when neither the image nor the request sets one', () => {
    expect(build().process.env).toEqual(['HOSTNAME=web-0', `PATH=${DEFAULT_PATH}`]);
  });

  test('lets the request override HOSTNAME and PATH', () => {
    const spec = build({
      config: config({ command: ['/app'], envs: [env('HOSTNAME', 'x'), env('PATH', '/p')] }),
    });
    expect(spec.process.env).toEqual(['HOSTNAME=x', 'PATH=/p']);
  });
});

describe('the working directory', () => {
  test.each([
    ['is the request working_dir over the image WorkingDir', '/req', '/img', '/req'],
    ['is the image WorkingDir when the request gives none', '', '/img', '/img'],
    ['is / when neither gives one', '', undefined, '/'],
  ])('%s', (_name, requested, fromImage, cwd) => {
    const spec = build({
      config: config({ command: ['/app'], working_dir: requested }),
      image: image({ WorkingDir: fromImage }),
    });
    expect(spec.process.cwd).toBe(cwd);
  });
});

describe('the hostname', () => {
  test("is the pod's, in the pod's UTS namespace", () => {
    const spec = build();
    expect(spec.hostname).toBe('web-0');
    expect(spec.linux.namespaces).toContainEqual({ type: 'uts', path: '/run/nodelet/ns/pod1/uts' });
  });

  test("is the node's name when the pod gives none", () => {
    expect(build({ pod: pod({ hostname: '' }) }).hostname).toBe('node-1');
  });

  test("is left to the host's UTS namespace with the host network, HOSTNAME then being the node's", () => {
    const spec = build({ pod: pod({ hostNetwork: true, namespaces: { ipc: '/run/nodelet/ns/pod1/ipc' } }) });
    expect(spec.hostname).toBeUndefined();
    expect(spec.process.env).toContain('HOSTNAME=node-1');
  });
});

describe('the user', () => {
  // The image's /etc/passwd and /etc/group in a temporary one-layer root: withImageRootfs uses a
  // single layer as is, so nothing is mounted (the mount host below fails the test if asked).
  const PASSWD =
    'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n';
  const GROUP = 'root:x:0:\napp:x:1000:\nweb:x:33:\nvideo:x:44:app\n';
  const noMounts: MountHost = {
    mount: () => {
      throw new Error('a single-layer image root must not be mounted');
    },
    umount: () => {
      throw new Error('nothing to unmount');
    },
  };
  let layer: string;
  beforeAll(() => {
    layer = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-spec-user-'));
    fs.mkdirSync(path.join(layer, 'etc'));
    fs.writeFileSync(path.join(layer, 'etc/passwd'), PASSWD);
    fs.writeFileSync(path.join(layer, 'etc/group'), GROUP);
  });
  afterAll(() => fs.rmSync(layer, { recursive: true, force: true }));

  /** As CreateContainer: the user resolved in the image's root, then the spec built with it. */
  function specFor(
    security: Partial<LinuxContainerSecurityContext__Output>,
    imageUser?: string,
  ): ContainerSpec {
    const c = config({ command: ['/app'], security });
    const img = image({ User: imageUser });
    const user = withImageRootfs(noMounts, [layer], (root) => resolveUser(root, userRequestOf(c, img)));
    return build({ config: c, image: img, user });
  }

  test.each([
    [
      'runs as root with its groups when nobody asks otherwise',
      {},
      undefined,
      { uid: 0, gid: 0, additionalGids: [0], username: 'root' },
    ],
    [
      'runs as run_as_user with the primary group and the groups the image lists it in',
      { run_as_user: { value: '1000' } },
      'web',
      { uid: 1000, gid: 1000, additionalGids: [44, 1000], username: 'app' },
    ],
    [
      'runs as run_as_username looked up in the image',
      { run_as_username: 'web' },
      undefined,
      { uid: 33, gid: 33, additionalGids: [33], username: 'web' },
    ],
    [
      'runs as the image User "uid:gid", that group primary in place of the passwd one',
      {},
      '1000:44',
      { uid: 1000, gid: 44, additionalGids: [44], username: 'app' },
    ],
    [
      'runs as the image User given by name',
      {},
      'web',
      { uid: 33, gid: 33, additionalGids: [33], username: 'web' },
    ],
    [
      'runs as a uid the image does not list, in group 0',
      { run_as_user: { value: '4242' } },
      undefined,
      { uid: 4242, gid: 0, additionalGids: [0] },
    ],
    [
      'adds the supplemental groups and run_as_group to the image ones under Merge',
      { run_as_user: { value: '1000' }, run_as_group: { value: '2000' }, supplemental_groups: ['3000'] },
      undefined,
      { uid: 1000, gid: 2000, additionalGids: [44, 2000, 3000], username: 'app' },
    ],
    [
      'leaves the image groups out under Strict',
      { run_as_user: { value: '1000' }, supplemental_groups: ['3000'], supplemental_groups_policy: 'Strict' },
      undefined,
      { uid: 1000, gid: 1000, additionalGids: [1000, 3000], username: 'app' },
    ],
  ] as [string, Partial<LinuxContainerSecurityContext__Output>, string | undefined, UserSpec][])(
    '%s',
    (_name, security, imageUser, user) => {
      expect(specFor(security, imageUser).process.user).toEqual(user);
    },
  );

  test('gives a non-root user the bounding set as permitted until execve, as runc does, and inherits none', () => {
    const caps = specFor({ run_as_user: { value: '1000' } }).process.capabilities!;
    expect(caps.bounding).toEqual(expect.arrayContaining([...DEFAULT_CAPABILITIES]));
    expect(caps.effective).toEqual(caps.bounding);
    expect(caps.permitted).toEqual(caps.bounding);
    expect(caps.inheritable).toEqual([]);
    expect(caps.ambient).toEqual([]);
  });

  test('refuses a run_as_username the image does not have, and run_as_group alone', () => {
    expect(() => specFor({ run_as_username: 'ghost' })).toThrow(
      "Cannot run the container as user 'ghost': no such user in the image's /etc/passwd",
    );
    expect(() => specFor({ run_as_group: { value: '5' } })).toThrow(/run_as_group: it needs run_as_user/);
  });
});

describe('mounts', () => {
  const mountAt = (spec: ContainerSpec, destination: string) =>
    spec.mounts.find((m) => m.destination === destination);

  test('an image mount binds the source made for it read-only, even when readonly is false', () => {
    const mounts = [
      criMount({ host_path: '', container_path: '/image', image: { image: 'example/app:1' } as never }),
    ];
    const spec = build({
      config: config({ command: ['/app'], mounts }),
      imageVolumeSources: new Map([[0, '/var/lib/nodelet/snapshots/2/fs/opt']]),
    });
    expect(mountAt(spec, '/image')).toEqual({
      destination: '/image',
      source: '/var/lib/nodelet/snapshots/2/fs/opt',
      type: 'bind',
      options: ['rbind', 'rprivate', 'ro'],
    });
  });

  test.each([
    ['PROPAGATION_PRIVATE', ['rbind', 'rprivate'], undefined],
    ['PROPAGATION_HOST_TO_CONTAINER', ['rbind', 'rslave'], 'rslave'],
    ['PROPAGATION_BIDIRECTIONAL', ['rbind', 'rshared'], 'rshared'],
  ] as const)(
    'a %s bind mount gets %j and root propagation %s',
    (propagation, options, rootfsPropagation) => {
      const spec = build({ config: config({ command: ['/app'], mounts: [criMount({ propagation })] }) });
      expect(mountAt(spec, '/data')).toEqual({
        destination: '/data',
        source: '/srv/data',
        type: 'bind',
        options,
      });
      expect(spec.linux.rootfsPropagation).toBe(rootfsPropagation);
    },
  );

  test('a shared mount makes the root rshared even beside a slave one', () => {
    const mounts = [
      criMount({ container_path: '/a', propagation: 'PROPAGATION_HOST_TO_CONTAINER' }),
      criMount({ container_path: '/b', propagation: 'PROPAGATION_BIDIRECTIONAL' }),
    ];
    expect(build({ config: config({ command: ['/app'], mounts }) }).linux.rootfsPropagation).toBe('rshared');
  });

  test('a readonly mount is ro, a recursive read-only one rro', () => {
    const mounts = [
      criMount({ container_path: '/ro', readonly: true }),
      criMount({ container_path: '/rro', readonly: true, recursive_read_only: true }),
    ];
    const spec = build({ config: config({ command: ['/app'], mounts }) });
    expect(mountAt(spec, '/ro')?.options).toEqual(['rbind', 'rprivate', 'ro']);
    expect(mountAt(spec, '/rro')?.options).toEqual(['rbind', 'rprivate', 'rro']);
  });

  test('a mount asking for SELinux relabeling is mounted as asked: there is no SELinux to relabel for', () => {
    const spec = build({
      config: config({ command: ['/app'], mounts: [criMount({ selinux_relabel: true })] }),
    });
    expect(mountAt(spec, '/data')?.options).toEqual(['rbind', 'rprivate']);
  });

  test.each([
    [
      'a relative container path',
      criMount({ container_path: 'data' }),
      /container path 'data' is not absolute/,
    ],
    [
      'recursive read-only without readonly',
      criMount({ recursive_read_only: true }),
      /recursively read-only: readonly is false/,
    ],
    [
      'recursive read-only with propagation',
      criMount({ readonly: true, recursive_read_only: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }),
      /recursively read-only with propagation PROPAGATION_HOST_TO_CONTAINER/,
    ],
  ])('%s is refused as an invalid argument', (_name, m, message) => {
    expect(() => build({ config: config({ command: ['/app'], mounts: [m] }) })).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });

  test("the pod's hostname, hosts and resolv.conf files and its /dev/shm are bound in after the defaults", () => {
    const spec = build();
    expect(spec.mounts.map((m) => m.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/mqueue',
      '/sys',
      '/etc/hostname',
      '/etc/hosts',
      '/etc/resolv.conf',
      '/dev/shm',
      // The container's own cgroups, read-only (rootfs/cgroup_mount.ts), last: over /sys.
      '/sys/fs/cgroup',
    ]);
    expect(mountAt(spec, '/sys/fs/cgroup')?.options).toContain('ro');
    expect(mountAt(spec, '/etc/hosts')).toEqual({
      destination: '/etc/hosts',
      source: '/var/lib/nodelet/sandboxes/pod1/hosts',
      type: 'bind',
      options: ['rbind', 'rprivate', 'rw'],
    });
    expect(mountAt(spec, '/dev/shm')).toEqual({
      destination: '/dev/shm',
      source: '/run/nodelet/sandboxes/pod1/shm',
      type: 'bind',
      options: ['rbind', 'rprivate'],
    });
  });

  test('with the host IPC the container keeps its own /dev/shm tmpfs', () => {
    const spec = build({ pod: pod({ hostIpc: true, shmPath: undefined }) });
    expect(mountAt(spec, '/dev/shm')).toMatchObject({ type: 'tmpfs', source: 'shm' });
  });

  test("a request mount at /etc/hosts replaces the pod's file, as the kubelet's own hosts file needs", () => {
    const spec = build({
      config: config({
        command: ['/app'],
        mounts: [criMount({ container_path: '/etc/hosts', host_path: '/k/hosts' })],
      }),
    });
    expect(spec.mounts.filter((m) => m.destination === '/etc/hosts')).toEqual([
      { destination: '/etc/hosts', source: '/k/hosts', type: 'bind', options: ['rbind', 'rprivate'] },
    ]);
  });

  test("a read-only root makes the root and the pod's files read-only", () => {
    const spec = build({ config: config({ command: ['/app'], security: { readonly_rootfs: true } }) });
    expect(spec.root.readonly).toBe(true);
    expect(mountAt(spec, '/etc/resolv.conf')?.options).toEqual(['rbind', 'rprivate', 'ro']);
  });

  test("the root is an overlay of the image's layers with the container's upper and work dirs", () => {
    expect(build().root).toEqual({
      path: '/var/lib/nodelet/containers/c1/rootfs',
      readonly: false,
      overlay: {
        lowerDirs: ['/var/lib/nodelet/snapshots/1/fs'],
        upperDir: '/var/lib/nodelet/containers/c1/upper',
        workDir: '/var/lib/nodelet/containers/c1/work',
      },
    });
  });
});

describe('devices', () => {
  const device = (host_path: string, container_path = '', permissions = '') => ({
    host_path,
    container_path,
    permissions,
  });

  test('a host device node is made at its container path and allowed with its permissions after the defaults', () => {
    const spec = build({
      config: config({ command: ['/app'], devices: [device('/dev/fuse', '/dev/fuse0', 'rw')] }),
    });
    expect(spec.linux.devices).toEqual([{ path: '/dev/fuse0', ...node('c', 10, 229) }]);
    expect(spec.linux.resources?.devices).toEqual([
      ...DEFAULT_DEVICE_RULES,
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ]);
  });

  test('a host directory brings every node below it, at the same place below the container path', () => {
    const spec = build({ config: config({ command: ['/app'], devices: [device('/dev/dri')] }) });
    expect(spec.linux.devices.map((d: LinuxDevice) => d.path)).toEqual([
      '/dev/dri/card0',
      '/dev/dri/renderD128',
    ]);
    expect(spec.linux.resources?.devices?.slice(DEFAULT_DEVICE_RULES.length)).toEqual([
      { allow: true, type: 'c', major: 226, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 226, minor: 128, access: 'rwm' },
    ]);
  });

  test.each([
    ['an absent host path', device('/dev/nope'), /Cannot add device '\/dev\/nope': ENOENT/],
    ['a regular file', device('/etc/passwd', '/dev/passwd'), /not a character or block device/],
    [
      'a container path outside /dev',
      device('/dev/fuse', '/etc/fuse'),
      /container path '\/etc\/fuse' is not under \/dev/,
    ],
    ['permissions beyond rwm', device('/dev/fuse', '', 'rwx'), /permissions 'rwx' are not a subset of "rwm"/],
  ])('%s is refused as an invalid argument', (_name, d, message) => {
    expect(() => build({ config: config({ command: ['/app'], devices: [d] }) })).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });
});

describe('CDI devices', () => {
  const gpu: CdiEditSet = {
    source: 'vendor.com/gpu=0',
    edits: {
      env: ['GPU=0'],
      deviceNodes: [{ path: '/dev/gpu0', hostPath: '/dev/fuse' }],
      mounts: [{ hostPath: '/opt/gpu', containerPath: '/opt/gpu', options: ['ro'] }],
      additionalGids: [44],
    },
  };

  test("come after the CRI's env, devices and mounts, and win over them", () => {
    const spec = build({
      config: config({
        command: ['/app'],
        envs: [{ key: 'GPU', value: Buffer.from('cri') }],
        devices: [{ host_path: '/dev/sda', container_path: '', permissions: 'r' }],
        mounts: [criMount({ container_path: '/opt/gpu', host_path: '/srv/cri' })],
      }),
      cdi: [gpu],
    });
    expect(spec.process.env).toContain('GPU=0');
    expect(spec.process.env).not.toContain('GPU=cri');
    expect(spec.linux.devices.map((d: LinuxDevice) => d.path)).toEqual(['/dev/sda', '/dev/gpu0']);
    expect(spec.linux.resources?.devices?.slice(DEFAULT_DEVICE_RULES.length)).toEqual([
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
    expect(spec.mounts.filter((m) => m.destination === '/opt/gpu')).toEqual([
      { destination: '/opt/gpu', source: '/opt/gpu', type: 'bind', options: ['bind', 'ro'] },
    ]);
    expect(spec.process.user.additionalGids).toEqual([0, 44]);
  });

  test('a container without CDI devices keeps the spec the CRI config gives', () => {
    expect(build({ cdi: [] })).toEqual(build());
  });
});

describe('a privileged container', () => {
  const privileged = () =>
    build({
      config: config({
        command: ['/app'],
        security: {
          privileged: true,
          seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' },
          masked_paths: ['/proc/kcore'],
          readonly_paths: ['/proc/sys'],
        },
      }),
    });

  test("gets every capability the host's kernel knows", () => {
    const caps = privileged().process.capabilities!;
    expect(caps.bounding).toHaveLength(39);
    expect(caps.bounding).toContain('CAP_SYS_ADMIN');
    expect(caps.bounding).not.toContain('CAP_BPF');
    expect(caps.effective).toEqual(caps.bounding);
  });

  test('runs without a seccomp filter whatever was asked, so nothing is compiled', () => {
    const host = fakeHost();
    const spec = build({
      host,
      config: config({
        command: ['/app'],
        security: { privileged: true, seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } },
      }),
    });
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.seccompBpf).toBeUndefined();
    expect(host.compiled).toEqual([]);
  });

  test("gets the host's devices but its own /dev/ptmx, and may use every device", () => {
    const spec = privileged();
    expect(spec.linux.devices.map((d) => d.path)).toEqual(['/dev/null', '/dev/sda']);
    expect(spec.linux.resources?.devices).toEqual([...ALL_DEVICES]);
  });

  test('sees /sys writable and nothing masked or read-only, and keeps the host cgroup namespace', () => {
    const spec = privileged();
    expect(spec.mounts.find((m) => m.type === 'sysfs')?.options).toEqual(['nosuid', 'noexec', 'nodev']);
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.linux.namespaces.map((n) => n.type)).not.toContain('cgroup');
  });

  test('an unprivileged container keeps /sys read-only, the default masks, and its own cgroup namespace', () => {
    const spec = build();
    expect(spec.mounts.find((m) => m.type === 'sysfs')?.options).toContain('ro');
    expect(spec.linux.maskedPaths).toEqual([...DEFAULT_MASKED_PATHS]);
    expect(spec.linux.readonlyPaths).toEqual([...DEFAULT_READONLY_PATHS]);
    expect(spec.linux.namespaces).toContainEqual({ type: 'cgroup' });
  });

  test("an unprivileged container's masked and read-only paths come from the request when it sends some", () => {
    const spec = build({
      config: config({
        command: ['/app'],
        security: { masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'] },
      }),
    });
    expect(spec.linux.maskedPaths).toEqual(['/proc/kcore']);
    expect(spec.linux.readonlyPaths).toEqual(['/proc/sys']);
  });
});

describe('namespaces', () => {
  const byType = (spec: ContainerSpec) =>
    Object.fromEntries(spec.linux.namespaces.map((n) => [n.type, n.path ?? 'new']));
  const withPid = (pid: string, target_id = '') =>
    config({
      command: ['/app'],
      security: {
        namespace_options: { network: 'POD', ipc: 'POD', pid, target_id, userns_options: null } as never,
      },
    });

  test("a container joins its pod's network, IPC and UTS namespaces and gets its own mount, cgroup and PID ones", () => {
    expect(byType(build())).toEqual({
      mount: 'new',
      cgroup: 'new',
      network: '/run/nodelet/ns/pod1/net',
      ipc: '/run/nodelet/ns/pod1/ipc',
      uts: '/run/nodelet/ns/pod1/uts',
      pid: 'new',
    });
  });

  test('a pod on the node network and IPC leaves them (and UTS) to the host', () => {
    const spec = build({
      pod: pod({ hostNetwork: true, hostIpc: true, namespaces: {}, shmPath: undefined }),
    });
    expect(byType(spec)).toEqual({ mount: 'new', cgroup: 'new', pid: 'new' });
  });

  test.each([
    ['CONTAINER gives its own PID namespace', 'CONTAINER', pod(), undefined, 'new'],
    [
      "POD joins the pod's shared one",
      'POD',
      pod({ pidMode: 'pod', namespaces: { pid: '/run/nodelet/ns/pod1/pid' } }),
      undefined,
      '/run/nodelet/ns/pod1/pid',
    ],
    ["NODE stays in the host's", 'NODE', pod({ pidMode: 'node' }), undefined, undefined],
    ["TARGET joins the target container's", 'TARGET', pod(), 4321, '/proc/4321/ns/pid'],
  ])('PID mode %s', (_name, mode, p, targetPid, expected) => {
    expect(byType(build({ config: withPid(mode, 'c0'), pod: p, targetPid })).pid).toBe(expected);
  });

  test('TARGET is refused when the target is not running', () => {
    expect(() => build({ config: withPid('TARGET', 'c0') })).toThrow(
      'Cannot share the PID namespace of the target: it is not running',
    );
  });

  test("the pod's sysctls are set, and one its namespaces cannot hold is refused", () => {
    expect(build({ pod: pod({ sysctls: { 'net.ipv4.ip_forward': '1' } }) }).linux.sysctl).toEqual({
      'net.ipv4.ip_forward': '1',
    });
    expect(() =>
      build({ pod: pod({ hostNetwork: true, namespaces: {}, sysctls: { 'net.ipv4.ip_forward': '1' } }) }),
    ).toThrow(expect.objectContaining({ kind: 'InvalidArgument' }));
  });
});

describe('resources', () => {
  test('cpu, memory, hugepages and unified values are carried into the cgroup, in the pod cgroup path', () => {
    const spec = build({
      config: config({
        command: ['/app'],
        resources: {
          cpu_shares: '512',
          cpu_quota: '50000',
          cpu_period: '100000',
          cpuset_cpus: '0-1',
          memory_limit_in_bytes: '268435456',
          hugepage_limits: [{ page_size: '2MB', limit: '4194304' }],
          unified: { 'memory.high': '200000000' },
        },
      }),
    });
    expect(spec.linux.cgroupsPath).toBe('/kubepods/pod1/c1');
    expect(spec.linux.resources).toEqual({
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0-1' },
      memory: { limit: 268435456 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      unified: { 'memory.high': '200000000' },
      devices: [...DEFAULT_DEVICE_RULES],
    });
  });

  test.each([
    ['is the request oom_score_adj', { oom_score_adj: '-997' }, -997],
    ['is 0 when the request gives none, not whatever the daemon has', undefined, 0],
  ])('oom_score_adj %s', (_name, resources, adj) => {
    expect(build({ config: config({ command: ['/app'], resources }) }).process.oomScoreAdj).toBe(adj);
  });

  test('no resources give only the device rules', () => {
    expect(build().linux.resources).toEqual({ devices: [...DEFAULT_DEVICE_RULES] });
  });

  test('a negative cpu_shares and a swap limit below the memory limit are refused', () => {
    const refuse = (resources: Partial<LinuxContainerResources__Output>) => () =>
      build({ config: config({ command: ['/app'], resources }) });
    expect(refuse({ cpu_shares: '-1' })).toThrow("Cannot set cpu_shares to '-1': must not be negative");
    expect(refuse({ memory_limit_in_bytes: '200', memory_swap_limit_in_bytes: '100' })).toThrow(
      /below memory_limit_in_bytes/,
    );
  });
});

describe('seccomp', () => {
  const withSeccomp = (security: Partial<LinuxContainerSecurityContext__Output>, host = fakeHost()) => ({
    host,
    spec: build({ host, config: config({ command: ['/app'], security }) }),
  });

  test('RuntimeDefault is the default profile for the container capabilities, compiled by the host', () => {
    const { host, spec } = withSeccomp({ seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } });
    expect(spec.linux.seccomp).toEqual(runtimeDefaultSeccomp(spec.process.capabilities!.bounding));
    expect(host.compiled).toEqual([spec.linux.seccomp]);
    expect(spec.linux.seccompBpf).toBe(Buffer.from('bpf').toString('base64'));
  });

  test.each([
    ['no security context', undefined],
    ['no seccomp field', {}],
    ['Unconfined', { seccomp: { profile_type: 'Unconfined' as const, localhost_ref: '' } }],
    ['the deprecated path "unconfined"', { seccomp_profile_path: 'unconfined' }],
  ])('%s runs without a filter', (_name, security) => {
    const host = fakeHost();
    const spec = build({ host, config: config({ command: ['/app'], security }) });
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.seccompBpf).toBeUndefined();
    expect(host.compiled).toEqual([]);
  });

  test('the deprecated path "runtime/default" is RuntimeDefault', () => {
    const { spec } = withSeccomp({ seccomp_profile_path: 'runtime/default' });
    expect(spec.linux.seccomp).toEqual(runtimeDefaultSeccomp(spec.process.capabilities!.bounding));
  });

  test('Localhost reads the profile through the host, for the container bounding set', () => {
    const { host, spec } = withSeccomp({
      seccomp: { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/audit.json' },
      capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: [], add_ambient_capabilities: [] },
    });
    expect(host.loaded).toEqual([
      { file: '/var/lib/kubelet/seccomp/audit.json', caps: spec.process.capabilities!.bounding },
    ]);
    expect(host.loaded[0].caps).toContain('CAP_NET_ADMIN');
    expect(spec.linux.seccomp).toBe(LOCALHOST_PROFILE);
    expect(host.compiled).toEqual([LOCALHOST_PROFILE]);
  });

  test.each([
    [
      'an empty Localhost ref',
      { seccomp: { profile_type: 'Localhost' as const, localhost_ref: '' } },
      /localhost_ref is empty/,
    ],
    [
      'a Localhost profile the host does not have',
      { seccomp: { profile_type: 'Localhost' as const, localhost_ref: '/missing.json' } },
      /Cannot load seccomp profile '\/missing.json'/,
    ],
    [
      'an unknown deprecated path',
      { seccomp_profile_path: 'strict' },
      /Cannot use seccomp profile 'strict': unknown profile/,
    ],
  ])('%s is refused as an invalid argument', (_name, security, message) => {
    expect(() => withSeccomp(security)).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });

  test('no_new_privs is carried as asked', () => {
    expect(withSeccomp({ no_new_privs: true }).spec.process.noNewPrivileges).toBe(true);
    expect(build().process.noNewPrivileges).toBe(false);
  });
});

describe('capabilities', () => {
  const caps = (add: string[], drop: string[], ambient: string[] = []) =>
    build({
      config: config({
        command: ['/app'],
        security: {
          capabilities: { add_capabilities: add, drop_capabilities: drop, add_ambient_capabilities: ambient },
        },
      }),
    }).process.capabilities!;

  test('a root container gets the default set, bounding, effective and permitted alike', () => {
    const c = build().process.capabilities!;
    expect([...c.bounding].sort()).toEqual([...DEFAULT_CAPABILITIES].sort());
    expect(c.effective).toEqual(c.bounding);
    expect(c.permitted).toEqual(c.bounding);
    expect(c.ambient).toEqual([]);
  });

  test.each([
    [
      'named adds join the default set, with or without "CAP_"',
      ['NET_ADMIN', 'CAP_SYS_TIME'],
      [],
      ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'CAP_CHOWN'],
      [],
    ],
    ['named drops leave it', [], ['CHOWN', 'KILL'], [], ['CAP_CHOWN', 'CAP_KILL']],
    [
      "ALL adds every capability the host's kernel knows",
      ['ALL'],
      [],
      ['CAP_SYS_ADMIN', 'CAP_PERFMON'],
      ['CAP_BPF'],
    ],
    ['ALL then a named drop keeps the rest', ['ALL'], ['SYS_ADMIN'], ['CAP_NET_ADMIN'], ['CAP_SYS_ADMIN']],
  ])('%s', (_name, add, drop, present, absent) => {
    const c = caps(add, drop);
    for (const cap of present) expect(c.bounding).toContain(cap);
    for (const cap of absent) expect(c.bounding).not.toContain(cap);
  });

  test('dropping ALL then adding one gives exactly that one', () => {
    expect(caps(['NET_BIND_SERVICE'], ['ALL']).bounding).toEqual(['CAP_NET_BIND_SERVICE']);
  });

  test('an ambient capability must be in the bounding set, and is then inheritable too', () => {
    const c = caps(['NET_ADMIN'], [], ['NET_ADMIN']);
    expect(c.ambient).toEqual(['CAP_NET_ADMIN']);
    expect(c.inheritable).toEqual(['CAP_NET_ADMIN']);
    expect(() => caps([], [], ['SYS_ADMIN'])).toThrow(
      "Cannot add ambient capability 'CAP_SYS_ADMIN': it is not in the container's capabilities",
    );
  });

  test('an unknown capability is refused', () => {
    expect(() => caps(['FLY'], [])).toThrow(/Cannot use capability 'FLY': unknown capability/);
  });
});

describe('the rest of the spec', () => {
  test('carries the id, the terminal and the annotations', () => {
    const spec = build({ config: config({ command: ['/app'], tty: true, annotations: { a: 'b' } }) });
    expect(spec.id).toBe('c1');
    expect(spec.process.terminal).toBe(true);
    expect(spec.annotations).toEqual({ a: 'b' });
  });
});

describe('a pod with a user namespace', () => {
  const userns = {
    uids: [{ containerID: 0, hostID: 131072, size: 65536 }],
    gids: [{ containerID: 0, hostID: 131072, size: 65536 }],
  };
  const mapping = [{ container_id: 0, host_id: 131072, length: 65536 }];
  const usernsPod = () =>
    pod({
      pidMode: 'pod',
      userns,
      namespaces: { ...pod().namespaces, user: '/run/nodelet/ns/pod1/user', pid: '/run/nodelet/ns/pod1/pid' },
    });

  test("puts every container in the pod's user namespace with its mappings", () => {
    const spec = build({ pod: usernsPod() });
    expect(spec.linux.namespaces).toContainEqual({ type: 'user', path: '/run/nodelet/ns/pod1/user' });
    expect(spec.linux.uidMappings).toEqual(userns.uids);
    expect(spec.linux.gidMappings).toEqual(userns.gids);
  });

  test("idmaps a mount carrying the pod's mappings, and only that one", () => {
    const mounts = [
      criMount({ uidMappings: mapping, gidMappings: mapping }),
      criMount({ container_path: '/plain' }),
    ];
    const spec = build({ pod: usernsPod(), config: config({ command: ['/app'], mounts }) });
    expect(spec.mounts.find((m) => m.destination === '/data')?.uidMappings).toEqual(userns.uids);
    expect(spec.mounts.find((m) => m.destination === '/plain')?.uidMappings).toBeUndefined();
  });

  test('refuses other mappings on a mount, mappings without a pod user namespace, and privileged containers', () => {
    const other = [{ container_id: 0, host_id: 196608, length: 65536 }];
    const withMount = (m: Mount__Output) => config({ command: ['/app'], mounts: [m] });
    expect(() =>
      build({ pod: usernsPod(), config: withMount(criMount({ uidMappings: other, gidMappings: other })) }),
    ).toThrow(/only the pod's own uid and gid mappings/);
    expect(() =>
      build({ config: withMount(criMount({ uidMappings: mapping, gidMappings: mapping })) }),
    ).toThrow(/its pod has no user namespace/);
    expect(() =>
      build({ pod: usernsPod(), config: config({ command: ['/app'], security: { privileged: true } }) }),
    ).toThrow(/privileged container cannot run in a pod with a user namespace/);
  });
});
