// What the RuntimeService handlers share: the stores, and the parts that do the work. Built once by
// the daemon's composition root and handed to every handler module.
import path from 'node:path';
import type { Logger } from '../common/log';
import type { Images } from '../image';
import type { RuntimeMetrics } from '../metrics';
import type { MonitorClient } from '../monitor';
import type { PodNetworkManager } from '../network';
import type { CgroupManager, StatsCollector } from '../runtime/cgroups';
import type { CdiSpecDirs } from './cdi';
import type { CriHost } from './host';
import { NameIndex, RecordStore, type ContainerRecord, type SandboxRecord } from './store';

export interface CriContext {
  stateDir: string;
  runDir: string;
  log: Logger;
  sandboxes: RecordStore<SandboxRecord>;
  containers: RecordStore<ContainerRecord>;
  names: NameIndex;
  monitor: MonitorClient;
  network: PodNetworkManager;
  images: Images;
  cgroups: CgroupManager;
  /** The one cache of cgroup samples read by the stats RPCs and /metrics. */
  stats: StatsCollector;
  /** What the handlers reach on the host: its name, /dev, seccomp, mounts (real_host.ts in the daemon). */
  host: CriHost;
  /** The CDI spec directories that resolve a container's CDI devices (absent: none are known). */
  cdi?: CdiSpecDirs;
  /** Where pods go when the kubelet gives no cgroup_parent. */
  defaultCgroupParent: string;
  /** The CRIU binary for CheckpointContainer and restores (absent: `criu` on PATH). */
  criuPath?: string;
  /** The runtime's instruments, once the composition root made them (absent: nothing recorded). */
  metrics?: Pick<RuntimeMetrics, 'initStart' | 'containerStart' | 'monitor'> &
    Partial<Pick<RuntimeMetrics, 'recovery'>>;
}

export function sandboxDir(ctx: Pick<CriContext, 'stateDir'>, id: string): string {
  return path.join(ctx.stateDir, 'sandboxes', id);
}

export function sandboxRunDir(ctx: Pick<CriContext, 'runDir'>, id: string): string {
  return path.join(ctx.runDir, 'sandboxes', id);
}

export function containerDir(ctx: Pick<CriContext, 'stateDir'>, id: string): string {
  return path.join(ctx.stateDir, 'containers', id);
}
