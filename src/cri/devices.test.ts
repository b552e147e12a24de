import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerDevices, majorMinor } from './devices';
import { realCriHost } from './real_host';

const device = (host_path: string, container_path: string, permissions = 'rw') => ({
  host_path,
  container_path,
  permissions,
});

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-devices-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('CRI devices', () => {
  test('a host device node becomes a node at the container path and an allow rule with its permissions', () => {
    const out = containerDevices([device('/dev/null', '/dev/mydev', 'rw')], {
      privileged: false,
      host: realCriHost,
    });
    expect(out.nodes).toEqual([
      { path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
    expect(out.rules).toEqual([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
  });

  test('a symbolic link to a device is followed and empty permissions mean rwm', () => {
    const link = path.join(tmp, 'zero-link');
    fs.symlinkSync('/dev/zero', link);
    const out = containerDevices([device(link, '/dev/z', '')], { privileged: false, host: realCriHost });
    expect(out.nodes).toMatchObject([{ path: '/dev/z', type: 'c', major: 1, minor: 5 }]);
    expect(out.rules).toMatchObject([{ access: 'rwm' }]);
  });

  test('a directory adds every device node under it, mapped below the container path', () => {
    const out = containerDevices([device('/dev/net', '/dev/vnet')], { privileged: false, host: realCriHost });
    expect(out.nodes).toMatchObject([{ path: '/dev/vnet/tun', type: 'c', major: 10, minor: 200 }]);
  });

  test('an absent host path, a regular file and bad permissions are refused as invalid arguments', () => {
    const file = path.join(tmp, 'plain');
    fs.writeFileSync(file, '');
    const refuse = (d: ReturnType<typeof device>) => () =>
      containerDevices([d], { privileged: false, host: realCriHost });
    expect(refuse(device(path.join(tmp, 'absent'), '/dev/x'))).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: expect.stringMatching(/^Cannot add device '.*absent'/),
      }),
    );
    expect(refuse(device(file, '/dev/x'))).toThrow(/not a character or block device/);
    expect(refuse(device('/dev/null', '/dev/x', 'rx'))).toThrow(/not a subset of "rwm"/);
    expect(refuse(device('/dev/null', '/etc/x'))).toThrow(/is not under \/dev/);
  });

  test('a privileged container gets the host devices but keeps its own /dev/ptmx link', () => {
    const out = containerDevices([], { privileged: true, host: realCriHost });
    expect(out.nodes).toContainEqual(expect.objectContaining({ path: '/dev/zero', major: 1, minor: 5 }));
    expect(out.nodes.some((d) => d.path === '/dev/ptmx')).toBe(false);
    expect(out.rules).toEqual([]);
  });

  test('major and minor numbers are read in glibc encoding, large ones included', () => {
    expect(majorMinor(0x0103n)).toEqual({ major: 1, minor: 3 });
    // major 259 (blkext), minor 300000: bits split around the low byte
    const rdev = ((259n & 0xfffn) << 8n) | (300000n & 0xffn) | ((300000n & ~0xffn) << 12n);
    expect(majorMinor(rdev)).toEqual({ major: 259, minor: 300000 });
  });
});
