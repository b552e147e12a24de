import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MS_RDONLY } from '../runtime/sys';
import type { MountHost } from './host';
import { mountImageVolumes, type ImageVolume } from './image_volumes';

let layer: string;
let dir: string;

beforeEach(() => {
  layer = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-volume-layer-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-volume-dir-'));
  fs.mkdirSync(path.join(layer, 'opt/a'), { recursive: true });
  fs.symlinkSync('opt', path.join(layer, 'inside'));
  fs.symlinkSync('/etc', path.join(layer, 'absolute'));
  fs.symlinkSync('../..', path.join(layer, 'opt/up'));
});

afterEach(() => {
  fs.rmSync(layer, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

const volume = (lowerDirs: string[], subPath: string): ImageVolume => ({
  index: 0,
  image: 'example/image:1',
  id: 'sha256:1',
  lowerDirs,
  subPath,
  containerPath: '/volume',
});

function recordingHost(): MountHost & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    mount: (...args) => void calls.push(['mount', ...args]),
    umount: (...args) => void calls.push(['umount', ...args]),
  };
}

test('a single layer is bound as it is, and a sub path through a symlink inside it resolves to its target', () => {
  const host = recordingHost();
  expect(mountImageVolumes(host, dir, [volume([layer], '')]).sources.get(0)).toBe(layer);
  expect(mountImageVolumes(host, dir, [volume([layer], 'inside/a')]).sources.get(0)).toBe(
    path.join(fs.realpathSync(layer), 'opt/a'),
  );
  expect(host.calls).toEqual([]);
});

test.each(['absolute', 'opt/up', 'absolute/passwd'])(
  "a sub path '%s' whose symlink leads outside the image is refused",
  (subPath) => {
    expect(() => mountImageVolumes(recordingHost(), dir, [volume([layer], subPath)])).toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: expect.stringContaining(`image_sub_path '${subPath}' leads outside the image`),
      }),
    );
  },
);

test('several layers become a read-only lowerdir-only overlay, detached once released', () => {
  const host = recordingHost();
  const top = path.join(layer, 'opt');
  const mounted = mountImageVolumes(host, dir, [volume([top, layer], '')]);
  const target = path.join(dir, 'image-volumes', '0');
  expect(mounted.sources.get(0)).toBe(target);
  mounted.release();
  mounted.release();
  expect(host.calls).toEqual([
    ['mount', 'overlay', target, 'overlay', MS_RDONLY, `lowerdir=${top}:${layer}`],
    ['umount', target, 2],
  ]);
  expect(fs.existsSync(target)).toBe(false);
});
