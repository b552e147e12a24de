import { countLeftovers } from './driver';

describe("the soak's count of what a node holds", () => {
  test('sorts the lines of leftovers() into its series, pinned network namespaces apart', () => {
    const counts = countLeftovers([
      'mount /r/run/ns/p1/network',
      'mount /r/run/ns/p1/uts',
      'pinned namespaces /r/run/ns/p1',
      'pod dir /r/state/sandboxes/p1',
      'IPAM lease /r/state/cni/networks/n/10.1.2.3',
      'cgroup pids:/nodelet-test-x/p1',
      'process 12 (sleep 1) in /nodelet-test-x',
      'something new /r/x',
    ]);
    expect(counts).toMatchObject({ mounts: 2, netns: 1, idDirs: 2, leases: 1, cgroups: 1, processes: 1 });
    expect(counts).toMatchObject({ veths: 0, sandboxRecords: 0, other: 1 });
  });
});
