import { mountsUnder } from './cleanup';

const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '90 26 0:50 / /tmp/c1/rootfs rw - overlay overlay rw',
  '91 90 0:51 / /tmp/c1/rootfs/proc rw - proc proc rw',
  '92 26 0:52 / /tmp/c10/rootfs rw - overlay overlay rw',
  '93 26 0:53 / /tmp/c1/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

test('mount points under a directory are listed deepest first, without look-alike siblings', () => {
  expect(mountsUnder('/tmp/c1', MOUNTINFO)).toEqual([
    '/tmp/c1/rootfs/proc',
    '/tmp/c1/with space',
    '/tmp/c1/rootfs',
  ]);
});
