// The spec directories on a temp dir: which files count, which are skipped and why, and which of
// two definitions of one device wins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCdiRegistry, parseCdiSpec } from './registry';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-cdi-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(dir: string, name: string, content: unknown): string {
  const file = path.join(root, dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const spec = (o: Record<string, unknown> = {}) => ({
  cdiVersion: '0.6.0',
  kind: 'vendor.com/gpu',
  devices: [{ name: '0', containerEdits: { env: ['GPU=0'] } }],
  ...o,
});

describe('one spec file', () => {
  const parse = (o: Record<string, unknown>) => () => parseCdiSpec(JSON.stringify(spec(o)), 'f.json', 0);

  test('a valid spec gives its devices by qualified name, with the spec-wide edits beside them', () => {
    const [device] = parseCdiSpec(
      JSON.stringify(spec({ containerEdits: { env: ['ALL=1'] } })),
      '/etc/cdi/gpu.json',
      1,
    );
    expect(device).toEqual({
      name: 'vendor.com/gpu=0',
      edits: { env: ['GPU=0'] },
      spec: { path: '/etc/cdi/gpu.json', priority: 1, kind: 'vendor.com/gpu', edits: { env: ['ALL=1'] } },
    });
  });

  test.each([
    ['an unknown version', { cdiVersion: '0.2.0' }, /cdiVersion '0.2.0' is not one of 0.3.0/],
    [
      'a version older than its fields',
      {
        cdiVersion: '0.6.0',
        devices: [{ name: '0', containerEdits: { additionalGids: [5] } }],
      },
      /too old for the fields used: they need 0.7.0/,
    ],
    [
      'a host path in 0.4.0',
      {
        cdiVersion: '0.4.0',
        devices: [{ name: 'a', containerEdits: { deviceNodes: [{ path: '/dev/x', hostPath: '/dev/y' }] } }],
      },
      /need 0.5.0/,
    ],
    ['a kind without a class', { kind: 'vendor.com' }, /kind 'vendor.com' is not of the form vendor\/class/],
    ['no devices', { devices: [] }, /devices: invalid spec, no devices/],
    [
      'a device twice',
      {
        devices: [
          { name: '0', containerEdits: { env: ['A=1'] } },
          { name: '0', containerEdits: { env: ['A=2'] } },
        ],
      },
      /device '0' is defined twice/,
    ],
    [
      'a device without edits',
      { devices: [{ name: '0', containerEdits: {} }] },
      /device '0' has no container edits/,
    ],
    [
      'an invalid device name',
      { devices: [{ name: 'a b', containerEdits: { env: ['A=1'] } }] },
      /invalid character ' '/,
    ],
    [
      'an unknown field',
      { devices: [{ name: '0', containerEdits: { netDevices: [] } }] },
      /devices.0.containerEdits: Unrecognized key\(s\) in object: 'netDevices' \(not supported\)/,
    ],
    [
      'an env entry without =',
      { devices: [{ name: '0', containerEdits: { env: ['NOVALUE'] } }] },
      /devices.0.containerEdits.env.0: not a KEY=value entry/,
    ],
    [
      'an unknown hook name',
      { devices: [{ name: '0', containerEdits: { hooks: [{ hookName: 'prestop', path: '/bin/true' }] } }] },
      /hooks.0.hookName: Invalid enum value/,
    ],
    [
      'a device type beyond b, c, u, p',
      { devices: [{ name: '0', containerEdits: { deviceNodes: [{ path: '/dev/x', type: 'x' }] } }] },
      /deviceNodes.0.type/,
    ],
    [
      'permissions beyond rwm',
      { devices: [{ name: '0', containerEdits: { deviceNodes: [{ path: '/dev/x', permissions: 'rwx' }] } }] },
      /not a subset of "rwm" nor "none"/,
    ],
    [
      'a negative major',
      {
        devices: [{ name: '0', containerEdits: { deviceNodes: [{ path: '/dev/x', type: 'c', major: -1 }] } }],
      },
      /deviceNodes.0.major/,
    ],
  ])('%s is refused', (_name, o, reason) => {
    expect(parse(o)).toThrow(reason);
  });

  test('YAML is read as well as JSON', () => {
    const yaml = [
      'cdiVersion: "0.5.0"',
      'kind: vendor.com/gpu',
      'devices:',
      '  - name: "1"',
      '    containerEdits:',
      '      deviceNodes:',
      '        - path: /dev/gpu1',
      '          hostPath: /dev/zero',
    ].join('\n');
    expect(parseCdiSpec(yaml, 'gpu.yaml', 0).map((d) => d.name)).toEqual(['vendor.com/gpu=1']);
  });
});

describe('the spec directories', () => {
  test('a broken file is skipped and reported, and the files beside it still count', async () => {
    write('etc', 'a-good.json', spec());
    const broken = write('etc', 'b-broken.json', '{"cdiVersion": ');
    const old = write('etc', 'c-old.yaml', spec({ kind: 'other.com/x', cdiVersion: '0.1.0' }));
    write('etc', 'ignored.txt', 'not a spec');
    const registry = await loadCdiRegistry([path.join(root, 'etc'), path.join(root, 'missing')]);
    expect([...registry.devices.keys()]).toEqual(['vendor.com/gpu=0']);
    expect([...registry.errors.keys()]).toEqual([broken, old]);
    expect(registry.errors.get(broken)![0]).toMatch(/not JSON or YAML/);
  });

  test('a later directory overrides an earlier one for the same device', async () => {
    write('etc', 'gpu.json', spec());
    const run = write(
      'run',
      'gpu.json',
      spec({ devices: [{ name: '0', containerEdits: { env: ['GPU=run'] } }] }),
    );
    const registry = await loadCdiRegistry([path.join(root, 'etc'), path.join(root, 'run')]);
    expect(registry.devices.get('vendor.com/gpu=0')?.spec.path).toBe(run);
    expect(registry.errors.size).toBe(0);
  });

  test('two files of one directory that define the same device leave it out, and both are reported', async () => {
    const a = write('etc', 'a.json', spec());
    const b = write(
      'etc',
      'b.json',
      spec({
        devices: [
          { name: '0', containerEdits: { env: ['GPU=b'] } },
          { name: '1', containerEdits: { env: ['GPU=1'] } },
        ],
      }),
    );
    const registry = await loadCdiRegistry([path.join(root, 'etc')]);
    expect([...registry.devices.keys()]).toEqual(['vendor.com/gpu=1']);
    expect(registry.errors.get(a)).toEqual([expect.stringMatching(/conflicting device 'vendor.com\/gpu=0'/)]);
    expect(registry.errors.get(b)).toEqual(registry.errors.get(a));
  });
});
