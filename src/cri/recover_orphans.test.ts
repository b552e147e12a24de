import { mountsUnder } from '../runtime';
import { knownIds, missingPodParts, mountOwner, orphanMounts, unknownIds } from './recover_orphans';

const id = (c: string) => c.repeat(64);
const [POD, GONE, CTR, GONE_CTR] = [id('a'), id('b'), id('c'), id('d')];
const dirs = { stateDir: '/var/lib/nodelet', runDir: '/run/nodelet' };

/** A mountinfo line for a mount point, as the kernel prints it (fields 5 is the mount point). */
function line(point: string, fs = 'tmpfs'): string {
  return `100 25 0:50 / ${point} rw,relatime shared:1 - ${fs} ${fs} rw`;
}

describe('knownIds', () => {
  test('counts the pod a container record points at even when the pod record is missing', () => {
    const known = knownIds({ pods: [], containers: [{ id: CTR, sandboxId: POD }] });
    expect([...known.pods]).toEqual([POD]);
    expect([...known.containers]).toEqual([CTR]);
  });

  test('keeps the ids of records that cannot be read', () => {
    const known = knownIds({
      pods: [],
      containers: [],
      brokenPods: [`${POD}.json`],
      brokenContainers: [`${CTR}.json`],
    });
    expect(known.pods.has(POD)).toBe(true);
    expect(known.containers.has(CTR)).toBe(true);
  });
});

describe('unknownIds', () => {
  test('gives only names nodelet would have made that no record knows, once each', () => {
    const names = [POD, GONE, GONE, 'monitor.sock', 'not-an-id', id('A'), `${GONE}x`];
    expect(unknownIds(names, new Set([POD]))).toEqual([GONE]);
  });
});

describe('mountOwner', () => {
  test.each([
    [`/run/nodelet/ns/${POD}/network`, { kind: 'pod', id: POD }],
    [`/run/nodelet/sandboxes/${POD}/shm`, { kind: 'pod', id: POD }],
    [`/var/lib/nodelet/sandboxes/${POD}/hosts`, { kind: 'pod', id: POD }],
    [`/var/lib/nodelet/containers/${CTR}/rootfs`, { kind: 'container', id: CTR }],
    [`/run/nodelet/containers/${CTR}/stdin`, { kind: 'container', id: CTR }],
  ])('knows whose %s is', (point, owner) => {
    expect(mountOwner(point, dirs)).toEqual(owner);
  });

  test.each([
    ['/var/lib/nodelet/snapshots/sha256/fs'],
    ['/run/nodelet/ns'],
    ['/run/nodelet/ns/not-an-id/network'],
    ['/run/nodelet-other/ns/' + POD + '/network'],
    ['/var/lib/nodelet/containers'],
  ])('gives no owner to %s', (point) => {
    expect(mountOwner(point, dirs)).toBeUndefined();
  });
});

describe('orphanMounts', () => {
  test('picks from the mount table the mounts of unknown ids under the state and run dirs, deepest first', () => {
    const mountinfo = [
      line('/'),
      line(`/run/nodelet/ns/${POD}/network`, 'nsfs'),
      line(`/run/nodelet/ns/${GONE}/network`, 'nsfs'),
      line(`/run/nodelet/sandboxes/${GONE}/shm`),
      line(`/var/lib/nodelet/containers/${GONE_CTR}/rootfs`, 'overlay'),
      line(`/var/lib/nodelet/containers/${GONE_CTR}/rootfs/proc`, 'proc'),
      line(`/var/lib/nodelet/containers/${CTR}/rootfs`, 'overlay'),
      line('/var/lib/nodelet/snapshots/x'),
      line(`/run/other/ns/${GONE}/network`, 'nsfs'),
    ].join('\n');
    const points = [...mountsUnder(dirs.stateDir, mountinfo), ...mountsUnder(dirs.runDir, mountinfo)].sort(
      (a, b) => b.length - a.length,
    );
    const known = knownIds({ pods: [{ id: POD }], containers: [{ id: CTR, sandboxId: POD }] });
    expect(orphanMounts(points, dirs, known)).toEqual([
      `/var/lib/nodelet/containers/${GONE_CTR}/rootfs/proc`,
      `/var/lib/nodelet/containers/${GONE_CTR}/rootfs`,
      `/run/nodelet/sandboxes/${GONE}/shm`,
      `/run/nodelet/ns/${GONE}/network`,
    ]);
  });

  test('reads escaped mount points (a space is \\040)', () => {
    const spaced = { stateDir: '/var/lib/my node', runDir: '/run/my node' };
    const points = mountsUnder(spaced.runDir, line(`/run/my\\040node/sandboxes/${GONE}/shm`));
    expect(orphanMounts(points, spaced, knownIds({ pods: [], containers: [] }))).toEqual([
      `/run/my node/sandboxes/${GONE}/shm`,
    ]);
  });
});

describe('missingPodParts', () => {
  test('a ready pod with its own network needs both its netns and its CNI result', () => {
    const pod = { hostNetwork: false };
    expect(missingPodParts(pod, { netns: true, network: true })).toBeUndefined();
    expect(missingPodParts(pod, { netns: false, network: true })).toBe('network namespace');
    expect(missingPodParts(pod, { netns: true, network: false })).toBe('CNI result');
    expect(missingPodParts(pod, { netns: false, network: false })).toBe('network namespace and CNI result');
  });

  test('a host-network pod and a stopped pod miss nothing', () => {
    expect(missingPodParts({ hostNetwork: true }, { netns: false, network: false })).toBeUndefined();
    expect(
      missingPodParts({ hostNetwork: false, stoppedAt: '1' }, { netns: false, network: false }),
    ).toBeUndefined();
  });
});
