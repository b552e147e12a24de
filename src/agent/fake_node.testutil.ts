// The node a pod worker runs on, for the agent's unit tests: a FakeCri, a temp root, no mounts,
// no cgroups to remove under /sys, a fast sync loop. Tests override what their case needs.
import path from 'node:path';
import pino from 'pino';
import { Backoff } from './backoff';
import type { FakeCri } from './fake_cri.testutil';
import { fakeMounter } from './fake_mounter.testutil';
import { SysctlAdmission } from './sysctl_admission';
import type { NodeContext } from './pod_worker';
import { UserNamespaceAllocator } from './userns_allocator';

export function fakeNodeContext(
  cri: FakeCri,
  root: string,
  overrides: Partial<NodeContext> = {},
): NodeContext {
  return {
    cri,
    log: pino({ level: 'silent' }),
    rootDir: root,
    podLogsDir: path.join(root, 'logs'),
    nodeName: 'n',
    hostIP: '192.0.2.1',
    runtimeName: 'fake',
    cgroupDriver: 'systemd', // no pod cgroup to remove under /sys in unit tests
    cgroupRoot: '/',
    mounter: fakeMounter(),
    sysctls: new SysctlAdmission(),
    backoff: new Backoff(),
    nodeCpuCores: 2,
    nodeMemoryBytes: 2 ** 32,
    writeStatusFiles: false,
    syncIntervalMs: 20,
    userNamespaces: new UserNamespaceAllocator(path.join(root, 'pods')),
    ...overrides,
  };
}
