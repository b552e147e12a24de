// CDI edits on a container spec, with a plain object for the host's /dev: which names resolve,
// what each kind of edit does to the spec, and what is refused before anything is made.
import { defaultSpec, type ContainerSpec } from '../../runtime';
import type { DeviceHost, HostDeviceNode } from '../host';
import { applyCdiEdits, resolveCdiDevices } from './edits';
import type { CdiDevice, CdiRegistry, CdiSpec } from './registry';
import type { CdiContainerEdits } from './spec_schema';

const HOST_DEV: Record<string, HostDeviceNode | 'directory'> = {
  '/dev/zero': { type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  '/dev/sda': { type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
  '/dev/dri': 'directory',
};
const host: DeviceHost = {
  deviceAt(p) {
    if (!(p in HOST_DEV)) throw new Error(`ENOENT: no such file or directory, stat '${p}'`);
    return HOST_DEV[p];
  },
  devicesUnder: () => [],
  hostDevices: () => [],
};

function registry(
  specs: {
    path: string;
    kind: string;
    edits?: CdiContainerEdits;
    devices: Record<string, CdiContainerEdits>;
  }[],
): CdiRegistry {
  const devices = new Map<string, CdiDevice>();
  for (const s of specs) {
    const spec: CdiSpec = { path: s.path, priority: 0, kind: s.kind, edits: s.edits ?? {} };
    for (const [name, edits] of Object.entries(s.devices)) {
      devices.set(`${s.kind}=${name}`, { name: `${s.kind}=${name}`, spec, edits });
    }
  }
  return { devices, errors: new Map() };
}

const GPUS = registry([
  {
    path: '/etc/cdi/gpu.json',
    kind: 'vendor.com/gpu',
    edits: { env: ['GPU_DRIVER=1'], mounts: [{ hostPath: '/opt/gpu/lib', containerPath: '/usr/lib/gpu' }] },
    devices: {
      '0': { deviceNodes: [{ path: '/dev/gpu0', type: 'c', major: 195, minor: 0 }], env: ['GPU=0'] },
      '1': { deviceNodes: [{ path: '/dev/gpu1', type: 'c', major: 195, minor: 1 }], env: ['GPU=1'] },
    },
  },
]);

function container(uid = 0, gid = 0): ContainerSpec {
  const spec = defaultSpec({ id: 'c1', rootPath: '/r', args: ['/app'], env: ['PATH=/bin', 'GPU=none'] });
  spec.process.user = { uid, gid, additionalGids: [gid] };
  spec.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
  return spec;
}

function inject(devices: Record<string, CdiContainerEdits>, spec = container()): ContainerSpec {
  applyCdiEdits(
    spec,
    resolveCdiDevices(
      registry([{ path: '/s.json', kind: 'x.com/y', devices }]),
      Object.keys(devices).map((n) => `x.com/y=${n}`),
    ),
    host,
  );
  return spec;
}

describe('resolving CDI device names', () => {
  test("a spec's own edits come once, before those of its first device asked for", () => {
    const sets = resolveCdiDevices(GPUS, ['vendor.com/gpu=1', 'vendor.com/gpu=0']);
    expect(sets.map((s) => s.source)).toEqual([
      "vendor.com/gpu=1 (spec '/etc/cdi/gpu.json')",
      'vendor.com/gpu=1',
      'vendor.com/gpu=0',
    ]);
  });

  test('unknown devices are refused as invalid arguments that name every one of them', () => {
    expect(() => resolveCdiDevices(GPUS, ['vendor.com/gpu=0', 'vendor.com/gpu=7', 'other.com/x=1'])).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: "Cannot inject CDI devices: unresolvable CDI devices 'vendor.com/gpu=7', 'other.com/x=1'",
      }),
    );
  });

  test('a malformed name is refused naming it and why', () => {
    expect(() => resolveCdiDevices(GPUS, ['gpu0'])).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: "Cannot inject CDI device 'gpu0': missing device name, expected vendor/class=name",
      }),
    );
  });

  test.each([
    [
      'createContainer',
      /it asks for a 'createContainer' hook \('\/usr\/bin\/ctk'\), and nodelet runs no OCI hooks/,
    ],
    ['poststop', /'poststop' hook/],
  ] as const)('a %s hook is refused as unimplemented, naming the hook', (hookName, message) => {
    const withHook = registry([
      { path: '/h.json', kind: 'x.com/y', devices: { a: { hooks: [{ hookName, path: '/usr/bin/ctk' }] } } },
    ]);
    expect(() => resolveCdiDevices(withHook, ['x.com/y=a'])).toThrow(
      expect.objectContaining({ kind: 'Unimplemented', message: expect.stringMatching(message) }),
    );
  });

  test("a hook among a spec's own edits is refused too, naming the spec", () => {
    const withHook = registry([
      {
        path: '/h.json',
        kind: 'x.com/y',
        edits: { hooks: [{ hookName: 'createRuntime', path: '/bin/h' }] },
        devices: { a: { env: ['A=1'] } },
      },
    ]);
    expect(() => resolveCdiDevices(withHook, ['x.com/y=a'])).toThrow(
      /x.com\/y=a \(spec '\/h.json'\): it asks for a 'createRuntime' hook/,
    );
  });

  test('Intel RDT is refused as unimplemented', () => {
    const rdt = registry([
      { path: '/r.json', kind: 'x.com/y', devices: { a: { intelRdt: { closID: 'gold' } } } },
    ]);
    expect(() => resolveCdiDevices(rdt, ['x.com/y=a'])).toThrow(
      expect.objectContaining({ kind: 'Unimplemented', message: expect.stringMatching(/Intel RDT/) }),
    );
  });
});

describe('CDI edits on a container spec', () => {
  test('env entries replace the same keys and add the others', () => {
    const spec = container();
    applyCdiEdits(spec, resolveCdiDevices(GPUS, ['vendor.com/gpu=0']), host);
    expect(spec.process.env).toEqual(['PATH=/bin', 'GPU=0', 'GPU_DRIVER=1']);
  });

  test('a device node given in full is made as given and allowed rwm after the existing rules', () => {
    const spec = container();
    applyCdiEdits(spec, resolveCdiDevices(GPUS, ['vendor.com/gpu=0']), host);
    expect(spec.linux.devices).toEqual([{ path: '/dev/gpu0', type: 'c', major: 195, minor: 0 }]);
    expect(spec.linux.resources?.devices).toEqual([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 195, minor: 0, access: 'rwm' },
    ]);
  });

  test.each([
    ['only a path', { path: '/dev/zero' }, { path: '/dev/zero', type: 'c', major: 1, minor: 5 }],
    [
      'a host path',
      { path: '/dev/disk0', hostPath: '/dev/sda' },
      { path: '/dev/disk0', type: 'b', major: 8, minor: 0 },
    ],
    [
      'a type but major 0',
      { path: '/dev/z', hostPath: '/dev/zero', type: 'c' as const },
      { path: '/dev/z', type: 'c', major: 1, minor: 5 },
    ],
    [
      'mode and owner',
      { path: '/dev/zero', fileMode: 0o640, uid: 7, gid: 8 },
      { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 7, gid: 8 },
    ],
  ])('a device node with %s takes its type and numbers from the host node', (_name, node, device) => {
    expect(inject({ a: { deviceNodes: [node] } }).linux.devices).toEqual([device]);
  });

  test("a node without an owner belongs to the container's non-root user", () => {
    const spec = inject({ a: { deviceNodes: [{ path: '/dev/zero' }] } }, container(1000, 2000));
    expect(spec.linux.devices[0]).toMatchObject({ uid: 1000, gid: 2000 });
  });

  test.each([
    ['r', [{ allow: true, type: 'c', major: 1, minor: 5, access: 'r' }]],
    ['none', []],
  ])('permissions %s give the allow rules %j', (permissions, rules) => {
    const spec = inject({ a: { deviceNodes: [{ path: '/dev/zero', permissions }] } });
    expect(spec.linux.resources?.devices?.slice(1)).toEqual(rules);
  });

  test('a later node at the same path replaces the earlier one', () => {
    const spec = inject({
      a: { deviceNodes: [{ path: '/dev/zero' }] },
      b: { deviceNodes: [{ path: '/dev/zero', hostPath: '/dev/sda' }] },
    });
    expect(spec.linux.devices).toEqual([{ path: '/dev/zero', type: 'b', major: 8, minor: 0 }]);
  });

  test.each([
    ['a missing host node', { path: '/dev/gone' }, /cannot stat host device '\/dev\/gone': ENOENT/],
    ['a host directory', { path: '/dev/dri' }, /host path '\/dev\/dri' is not a device node/],
    [
      'a type the host node does not have',
      { path: '/dev/zero', type: 'b' as const },
      /has type 'b' but host device '\/dev\/zero' is 'c'/,
    ],
    [
      'a path outside /dev',
      { path: '/etc/zero', hostPath: '/dev/zero' },
      /device node path '\/etc\/zero' is not under \/dev/,
    ],
    [
      'a relative path',
      { path: 'dev/zero', type: 'c' as const, major: 1 },
      /device node path 'dev\/zero' is not under \/dev/,
    ],
  ])('%s is refused as an invalid argument naming the device', (_name, node, message) => {
    expect(() => inject({ a: { deviceNodes: [node] } })).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: expect.stringMatching(/^Cannot inject CDI device x.com\/y=a: /),
      }),
    );
    expect(() => inject({ a: { deviceNodes: [node] } })).toThrow(message);
  });

  test('mounts replace the same destination, default to bind mounts and come after their parents', () => {
    const spec = container();
    spec.mounts.push({ destination: '/usr/lib/gpu', source: '/old', type: 'bind', options: ['rbind'] });
    applyCdiEdits(
      spec,
      resolveCdiDevices(
        registry([
          {
            path: '/m.json',
            kind: 'x.com/y',
            devices: {
              a: {
                mounts: [
                  { hostPath: '/opt/gpu/lib', containerPath: '/usr/lib/gpu', options: ['ro', 'nosuid'] },
                  { hostPath: '/opt/bin', containerPath: '/opt', type: 'bind', options: ['rbind', 'ro'] },
                  { hostPath: 'tmpfs', containerPath: '/scratch', type: 'tmpfs', options: ['size=1m'] },
                ],
              },
            },
          },
        ]),
        ['x.com/y=a'],
      ),
      host,
    );
    const added = spec.mounts.filter((m) => ['/usr/lib/gpu', '/opt', '/scratch'].includes(m.destination));
    expect(added).toEqual([
      { destination: '/opt', source: '/opt/bin', type: 'bind', options: ['rbind', 'ro'] },
      { destination: '/scratch', source: 'tmpfs', type: 'tmpfs', options: ['size=1m'] },
      {
        destination: '/usr/lib/gpu',
        source: '/opt/gpu/lib',
        type: 'bind',
        options: ['bind', 'ro', 'nosuid'],
      },
    ]);
    const depths = spec.mounts.map((m) => m.destination.split('/').length);
    expect(depths).toEqual([...depths].sort((a, b) => a - b));
  });

  test('a mount to a relative container path is refused', () => {
    expect(() => inject({ a: { mounts: [{ hostPath: '/x', containerPath: 'x' }] } })).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: expect.stringMatching(/mount container path 'x' is not absolute/),
      }),
    );
  });

  test('additional GIDs are added once each, and GID 0 is not', () => {
    const spec = inject(
      { a: { additionalGids: [0, 44, 44, 2000] }, b: { additionalGids: [45] } },
      container(1000, 2000),
    );
    expect(spec.process.user.additionalGids).toEqual([2000, 44, 45]);
  });
});
