// The daemon's composition root: builds every part from the configuration, wires them together and
// serves. Nothing else constructs long-lived parts.
import fs from 'node:fs';
import path from 'node:path';
import type { DaemonConfig } from './config';
import type { Logger } from './common/log';
import { startCriServer } from './cri/server';
import { claimSocket, type SocketClaim } from './common/socket_lock';
import { runtimeInfoService } from './cri/runtime_info';
import { imageService } from './cri/image_service';
import { Images } from './image';
import {
  createRegistry,
  createRuntimeMetrics,
  criMetricsService,
  startMetricsServer,
  MetricsServer,
} from './metrics';
import { containerStatsSource, workloadSource } from './cri/metrics_source';
import { PodNetworkManager } from './network';
import { ensureMonitor } from './monitor';
import { createCgroupManager, detectCgroups, StatsCollector } from './runtime/cgroups';
import type { CriContext } from './cri/context';
import { podAndContainerService } from './cri/runtime_service';
import { streamingBackend, streamingService } from './cri/exec_attach_portforward';
import { StreamingServer } from './cri/streaming';
import { recover } from './cri/recover';
import { NameIndex, RecordStore, type ContainerRecord, type SandboxRecord } from './cri/store';
import { CONTAINER_RECORD_VERSION, SANDBOX_RECORD_VERSION } from './cri/store';
import { NODELET_VERSION } from './version';
import { mountSetattrAvailable } from './runtime/sys';

export interface Daemon {
  endpoint: string;
  metricsAddress?: string;
  stop(): Promise<void>;
}

function stateLayout(config: DaemonConfig) {
  return {
    snapshots: path.join(config.stateDir, 'snapshots'),
    containers: path.join(config.stateDir, 'containers'),
  };
}

export async function startDaemon(config: DaemonConfig, log: Logger): Promise<Daemon> {
  // First of all: a second daemon must fail before it touches anything of the first one's.
  const claim = await claimSocket(config.socket);
  try {
    return await serve(config, log, claim);
  } catch (err) {
    claim.release();
    throw err;
  }
}

async function serve(config: DaemonConfig, log: Logger, claim: SocketClaim): Promise<Daemon> {
  const layout = stateLayout(config);
  fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o711 });
  fs.mkdirSync(config.runDir, { recursive: true, mode: 0o711 });
  for (const dir of Object.values(layout)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  // Made first: the parts below report into it as they work.
  const registry = createRegistry();
  const runtimeMetrics = createRuntimeMetrics(registry);
  const network = new PodNetworkManager({
    confDir: config.cniConfDir,
    binDirs: config.cniBinDirs,
    cacheDir: config.cniCacheDir ?? path.join(config.stateDir, 'cni'),
    podCidr: config.podCidr,
    bridge: config.cniBridge,
    log,
    observer: runtimeMetrics.cni,
  });
  network.installDefaultConflist();
  const images = await Images.open({
    stateDir: config.stateDir,
    registry: config.registry,
    log,
    observer: {
      pulled: (pull) => runtimeMetrics.imagePull.observe(pull),
      failed: (reason) => runtimeMetrics.imagePull.failed(reason),
      unpacked: (seconds, compression) => runtimeMetrics.layerUnpack.observe(seconds, compression),
    },
  });
  const cgroups = createCgroupManager(detectCgroups());
  const monitor = await ensureMonitor({
    runDir: config.runDir,
    stateDir: config.stateDir,
    initPoolSize: config.initPoolSize,
    log,
  });
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
    stats: new StatsCollector(cgroups, {
      onError: (id, err) => log.debug({ id, err }, 'cannot read the stats of a cgroup'),
    }),
    defaultCgroupParent: config.cgroupParent,
    metrics: runtimeMetrics,
  };
  await recover(ctx);
  ctx.stats.start();
  // A container's lower dirs are <snapshots>/<chainId>/fs: their chain ids are what it uses.
  images.setInUseSnapshots(() =>
    ctx.containers
      .list()
      .flatMap((c) => (c.spec.root.overlay?.lowerDirs ?? []).map((d) => path.basename(path.dirname(d)))),
  );

  const statsSource = containerStatsSource(ctx);
  runtimeMetrics.setWorkload(workloadSource(ctx));
  runtimeMetrics.setContainerStats(statsSource);
  const streaming = await StreamingServer.start({
    address: config.streamingAddress,
    tls: config.streamingTls && {
      cert: fs.readFileSync(config.streamingTls.certFile),
      key: fs.readFileSync(config.streamingTls.keyFile),
    },
    backend: streamingBackend(ctx),
    log,
  });
  const cri = await startCriServer({
    claim,
    log,
    observer: runtimeMetrics.rpc,
    runtime: {
      ...runtimeInfoService({
        runtimeVersion: NODELET_VERSION,
        network,
        configInfo: { stateDir: config.stateDir, runDir: config.runDir, socket: config.socket },
        features: {
          supplementalGroupsPolicy: true,
          // Recursive read-only bind mounts are made with mount_setattr(AT_RECURSIVE).
          recursiveReadOnlyMounts: mountSetattrAvailable(),
          userNamespaces: false,
        },
      }),
      ...podAndContainerService(ctx),
      ...streamingService(ctx, streaming),
      ...criMetricsService(statsSource),
    },
    image: imageService(images, layout.containers),
  }).catch(async (err: unknown) => {
    await streaming.close();
    throw err;
  });

  let metrics: MetricsServer | undefined;
  try {
    if (config.metricsAddress)
      metrics = await startMetricsServer(config.metricsAddress, registry, () => true, {
        collectors: [runtimeMetrics.containerMetrics],
      });
  } catch (err) {
    await cri.stop(0);
    await streaming.close();
    throw err;
  }
  log.info(
    {
      endpoint: cri.endpoint,
      metrics: metrics?.address,
      streaming: streaming.url,
      stateDir: config.stateDir,
    },
    'nodelet is serving',
  );
  return {
    endpoint: cri.endpoint,
    metricsAddress: metrics?.address,
    stop: async () => {
      await metrics?.close();
      await cri.stop();
      await streaming.close();
      ctx.stats.stop();
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
