// The daemon's composition root: builds every part from the configuration, wires them together and
// serves. Nothing else constructs long-lived parts.
import fs from 'node:fs';
import path from 'node:path';
import type { DaemonConfig } from './config';
import type { Logger } from './common/log';
import { startCriServer } from './cri/server';
import { runtimeInfoService } from './cri/runtime_info';
import { imageService } from './cri/image_service';
import { Images } from './image';
import { createRegistry, rpcMetrics, startMetricsServer, MetricsServer } from './metrics';
import { PodNetworkManager } from './network';
import { ensureMonitor } from './monitor';
import { createCgroupManager, detectCgroups } from './runtime/cgroups';
import type { CriContext } from './cri/context';
import { podAndContainerService } from './cri/runtime_service';
import { recover } from './cri/recover';
import { NameIndex, RecordStore, type ContainerRecord, type SandboxRecord } from './cri/store';
import { CONTAINER_RECORD_VERSION, SANDBOX_RECORD_VERSION } from './cri/store';
import { NODELET_VERSION } from './version';

export interface Daemon {
  endpoint: string;
  metricsAddress?: string;
  stop(): Promise<void>;
}

export function stateLayout(config: DaemonConfig) {
  return {
    snapshots: path.join(config.stateDir, 'snapshots'),
    containers: path.join(config.stateDir, 'containers'),
  };
}

export async function startDaemon(config: DaemonConfig, log: Logger): Promise<Daemon> {
  const layout = stateLayout(config);
  fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o711 });
  fs.mkdirSync(config.runDir, { recursive: true, mode: 0o711 });
  for (const dir of Object.values(layout)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  const network = new PodNetworkManager({
    confDir: config.cniConfDir,
    binDirs: config.cniBinDirs,
    cacheDir: config.cniCacheDir ?? path.join(config.stateDir, 'cni'),
    podCidr: config.podCidr,
    log,
  });
  network.installDefaultConflist();
  const images = await Images.open({ stateDir: config.stateDir, registry: config.registry, log });
  const cgroups = createCgroupManager(detectCgroups());
  const monitor = await ensureMonitor({ runDir: config.runDir, stateDir: config.stateDir, log });
  const ctx: CriContext = {
    stateDir: config.stateDir,
    runDir: config.runDir,
    log,
    sandboxes: new RecordStore<SandboxRecord>(
      path.join(config.stateDir, 'records', 'sandboxes'),
      'pod sandbox',
      SANDBOX_RECORD_VERSION,
    ),
    containers: new RecordStore<ContainerRecord>(
      path.join(config.stateDir, 'records', 'containers'),
      'container',
      CONTAINER_RECORD_VERSION,
    ),
    names: new NameIndex(),
    monitor,
    network,
    images,
    cgroups,
    defaultCgroupParent: config.cgroupParent,
  };
  await recover(ctx);
  // A container's lower dirs are <snapshots>/<chainId>/fs: their chain ids are what it uses.
  images.setInUseSnapshots(() =>
    ctx.containers
      .list()
      .flatMap((c) => (c.spec.root.overlay?.lowerDirs ?? []).map((d) => path.basename(path.dirname(d)))),
  );

  const registry = createRegistry();
  const cri = await startCriServer({
    socketPath: config.socket,
    log,
    observer: rpcMetrics(registry),
    runtime: {
      ...runtimeInfoService({
        runtimeVersion: NODELET_VERSION,
        network,
        configInfo: { stateDir: config.stateDir, runDir: config.runDir, socket: config.socket },
        features: { supplementalGroupsPolicy: true, recursiveReadOnlyMounts: false, userNamespaces: false },
      }),
      ...podAndContainerService(ctx),
    },
    image: imageService(images, layout.containers),
  });

  let metrics: MetricsServer | undefined;
  try {
    if (config.metricsAddress)
      metrics = await startMetricsServer(config.metricsAddress, registry, () => true);
  } catch (err) {
    await cri.stop(0);
    throw err;
  }
  log.info(
    { endpoint: cri.endpoint, metrics: metrics?.address, stateDir: config.stateDir },
    'nodelet is serving',
  );
  return {
    endpoint: cri.endpoint,
    metricsAddress: metrics?.address,
    stop: async () => {
      await metrics?.close();
      await cri.stop();
      // The monitor stays: containers keep running while the daemon is away.
      monitor.close();
      // nodelet's own parent cgroup goes when no pod is left in it.
      if (cgroups.exists(config.cgroupParent) && cgroups.listUnder(config.cgroupParent).length === 0) {
        await cgroups
          .destroy(config.cgroupParent)
          .catch((err: unknown) => log.warn({ err }, 'cannot remove the cgroup parent'));
      }
      log.info('nodelet stopped');
    },
  };
}
