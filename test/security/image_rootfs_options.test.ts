// An image with enough layers that the read-only overlay the daemon mounts on the host, to read the
// image's /etc/passwd and /etc/group at CreateContainer, has more than one page of options. mount(2)
// copies one page and ends the string at its last byte, so the last lower dir is cut short; when
// the cut leaves a prefix of it, such as '/var/lib', that host directory becomes the lowest layer
// and the image's "own" /etc shows what the host holds there. Here the layer paths are sized so
// that the cut lands on a host directory (the daemon's snapshot paths have one length per state
// directory, so where the cut falls is fixed by the count of layers).
// Root: real overlay mounts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withImageRootfs } from '../../src/cri/image_rootfs';
import { realCriHost } from '../../src/cri/real_host';
import { mountsUnder } from '../../src/runtime/rootfs/cleanup';

let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-rootfs-opts-'));
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Layer dirs whose joined "lowerdir=" option the kernel cuts right after `cutTo`, the start of the
 * last dir's path (as `/var/lib` starts every snapshot path), so `cutTo` becomes the lowest layer.
 */
function layersCutAt(cutTo: string, count: number): string[] {
  const base = `${tmp}/`;
  // mount(2) keeps 4095 bytes: "lowerdir=" (9), the first `count` dirs each with its ':', then
  // the kept start of the last one.
  let left = 4086 - cutTo.length - count - count * base.length;
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = i === count - 1 ? left : Math.floor(left / (count - i));
    left -= n;
    const dir = base + String(i).padStart(3, '0') + 'x'.repeat(n - 3);
    fs.mkdirSync(dir);
    dirs.push(dir);
  }
  const last = path.join(cutTo, 'snapshot');
  fs.mkdirSync(last, { recursive: true });
  return [...dirs, last];
}

it('refuses layers whose options exceed a page, so a host directory never becomes a layer', () => {
  // A host directory the image must not see, as /var/lib is to the daemon's snapshots.
  const host = path.join(tmp, 'host');
  fs.mkdirSync(path.join(host, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(host, 'etc', 'passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
  const dirs = layersCutAt(host, 20);
  expect(`lowerdir=${dirs.join(':')}`.slice(0, 4095).endsWith(`:${host}`)).toBe(true);
  const seen: string[] = [];
  const read = () =>
    withImageRootfs(realCriHost, dirs, (root) => {
      seen.push(...fs.readdirSync(root));
      return fs.existsSync(path.join(root, 'etc', 'passwd'));
    });
  let refusal: unknown;
  try {
    read();
  } catch (err) {
    refusal = err;
  }
  expect(seen).toEqual([]); // the host's 'etc' and 'snapshot' would be here
  expect(refusal).toMatchObject({
    kind: 'InvalidArgument',
    message: expect.stringMatching(
      /Cannot read the image's root: 21 layers exceed one page of overlay options/,
    ),
  });
  expect(mountsUnder(os.tmpdir()).filter((m) => m.includes('nodelet-imageroot-'))).toEqual([]);
  expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('nodelet-imageroot-'))).toEqual([]);
});
