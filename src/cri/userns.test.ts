import { podUserNamespaceOf, sameMappings } from './userns';

const map = (container_id: number, host_id: number, length: number) => ({ container_id, host_id, length });
const pod = (uids = [map(0, 131072, 65536)], gids = uids) => ({ mode: 'POD' as const, uids, gids });

describe('podUserNamespaceOf', () => {
  test('NODE, or no options, keeps the host user namespace', () => {
    expect(podUserNamespaceOf(null)).toBeUndefined();
    expect(podUserNamespaceOf({ mode: 'NODE', uids: [], gids: [] })).toBeUndefined();
  });

  test('POD takes the kubelet’s one mapping', () => {
    expect(podUserNamespaceOf(pod())).toEqual({
      uids: [{ containerID: 0, hostID: 131072, size: 65536 }],
      gids: [{ containerID: 0, hostID: 131072, size: 65536 }],
    });
  });

  test('CONTAINER is unimplemented and TARGET invalid, as containerd refuses both', () => {
    expect(() => podUserNamespaceOf({ mode: 'CONTAINER', uids: [], gids: [] })).toThrow(
      expect.objectContaining({ kind: 'Unimplemented' }),
    );
    expect(() => podUserNamespaceOf({ mode: 'TARGET', uids: [], gids: [] })).toThrow(/mode TARGET/);
  });

  test('refuses two mappings, none, one not at container id 0, empty, past the last id, or onto host root', () => {
    expect(() => podUserNamespaceOf(pod([map(0, 65536, 65536), map(65536, 200000, 10)]))).toThrow(
      /exactly one uid mapping, got 2/,
    );
    expect(() => podUserNamespaceOf(pod([map(0, 65536, 65536)], []))).toThrow(
      /exactly one gid mapping, got 0/,
    );
    expect(() => podUserNamespaceOf(pod([map(1, 65536, 65536)]))).toThrow(/container id 0, not 1/);
    expect(() => podUserNamespaceOf(pod([map(0, 65536, 0)]))).toThrow(/length 0/);
    expect(() => podUserNamespaceOf(pod([map(0, 2 ** 32 - 10, 65536)]))).toThrow(/past the last id/);
    expect(() => podUserNamespaceOf(pod([map(0, 0, 65536)]))).toThrow(/host's root/);
  });
});

test('sameMappings compares a CRI list with the pod’s', () => {
  const pods = [{ containerID: 0, hostID: 131072, size: 65536 }];
  expect(sameMappings([map(0, 131072, 65536)], pods)).toBe(true);
  expect(sameMappings([map(0, 196608, 65536)], pods)).toBe(false);
  expect(sameMappings([], pods)).toBe(false);
});
