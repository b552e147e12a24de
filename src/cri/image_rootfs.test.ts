// Which mount withImageRootfs makes to read an image's /etc, against a recording MountHost: no
// mount is made here, so these run without root (test/security/image_rootfs_options.test.ts
// mounts for real).
import fs from 'node:fs';
import { MNT_DETACH, MS_RDONLY } from '../runtime/sys';
import type { MountHost } from './host';
import { withImageRootfs } from './image_rootfs';

interface Call {
  call: 'mount' | 'umount';
  args: unknown[];
}

function recordingHost(): MountHost & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    mount: (...args) => void calls.push({ call: 'mount', args }),
    umount: (...args) => void calls.push({ call: 'umount', args }),
  };
}

describe('withImageRootfs', () => {
  test('reads a single layer in place, mounting nothing', () => {
    const host = recordingHost();
    expect(withImageRootfs(host, ['/layers/1'], (root) => root)).toBe('/layers/1');
    expect(host.calls).toEqual([]);
  });

  test('gives an image without layers an empty directory, mounting nothing', () => {
    const host = recordingHost();
    let root = '';
    const seen = withImageRootfs(host, [], (r) => fs.readdirSync((root = r)));
    expect(seen).toEqual([]);
    expect(host.calls).toEqual([]);
    expect(fs.existsSync(root)).toBe(false);
  });

  test('merges several layers with a read-only lowerdir-only overlay, top layer first, unmounted after the read', () => {
    const host = recordingHost();
    let root = '';
    withImageRootfs(host, ['/layers/top', '/layers/base'], (r) => {
      root = r;
      expect(host.calls).toHaveLength(1);
    });
    expect(host.calls).toEqual([
      { call: 'mount', args: ['overlay', root, 'overlay', MS_RDONLY, 'lowerdir=/layers/top:/layers/base'] },
      { call: 'umount', args: [root, MNT_DETACH] },
    ]);
    expect(fs.existsSync(root)).toBe(false);
  });

  test('unmounts and removes its mount point when the read throws', () => {
    const host = recordingHost();
    let root = '';
    expect(() =>
      withImageRootfs(host, ['/a', '/b'], (r) => {
        root = r;
        throw new Error('no passwd');
      }),
    ).toThrow('no passwd');
    expect(host.calls.map((c) => c.call)).toEqual(['mount', 'umount']);
    expect(fs.existsSync(root)).toBe(false);
  });

  test('refuses layers whose options pass one page before mounting anything', () => {
    const host = recordingHost();
    const layers = Array.from(
      { length: 40 },
      (_, i) => `/var/lib/nodelet/snapshots/${'x'.repeat(100)}${i}/fs`,
    );
    expect(() => withImageRootfs(host, layers, () => undefined)).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: "Cannot read the image's root: 40 layers exceed one page of overlay options",
      }),
    );
    expect(host.calls).toEqual([]);
  });
});
