import type { LinuxContainerResources__Output } from '../gen/runtime/v1/LinuxContainerResources';
import { podCgroupResources } from './sandbox_update';

const res = (r: Partial<LinuxContainerResources__Output>) => r as LinuxContainerResources__Output;

describe('the pod cgroup limits of UpdatePodSandboxResources', () => {
  test('are the containers’ totals plus the pod overhead', () => {
    expect(
      podCgroupResources(
        res({
          cpu_shares: '1024',
          cpu_quota: '200000',
          cpu_period: '100000',
          memory_limit_in_bytes: '268435456',
        }),
        res({ cpu_shares: '10', cpu_quota: '10000', memory_limit_in_bytes: '1048576' }),
      ),
    ).toEqual({
      cpu_shares: '1034',
      cpu_period: '100000',
      cpu_quota: '210000',
      memory_limit_in_bytes: '269484032',
    });
  });

  test('stay unlimited where the containers are unlimited, whatever the overhead', () => {
    expect(
      podCgroupResources(
        res({ cpu_shares: '2' }),
        res({ cpu_quota: '10000', memory_limit_in_bytes: '1048576' }),
      ),
    ).toMatchObject({ cpu_quota: '0', memory_limit_in_bytes: '0' });
  });
});
