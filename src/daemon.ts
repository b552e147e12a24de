// The daemon's composition root: builds every part from the configuration, wires them together and
// serves. Nothing else constructs long-lived parts.
import fs from 'node:fs';
import path from 'node:path';
import type { DaemonConfig } from './config';
import type { Logger } from './common/log';
import { withCleanup, type Cleanup } from './common/cleanup';
import { messageOf } from './common/errors';
import { startCriServer } from './cri/server';
import { trashEmptied } from './cri/trash';
import { claimSocket, type SocketClaim } from './common/socket_lock';
import { runtimeInfoService } from './cri/runtime_info';
import { imageService } from './cri/image_service';
import { Images } from './image';
import { createRegistry, createRuntimeMetrics, criMetricsService, startMetricsServer } from './metrics';
import { containerStatsSource, workloadSource } from './cri/metrics_source';
import { PodNetworkManager } from './network';
import { ensureMonitor } from './monitor';
import { createCgroupManager, detectCgroups, StatsCollector } from './runtime/cgroups';
import type { CriContext } from './cri/context';
import { realCriHost } from './cri/real_host';
import { CdiSpecDirs } from './cri/cdi';
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

/**
 * Starts every part and serves. Each resource opened on the way (socket claim, monitor connection,
 * stats timer, streaming, gRPC and metrics servers) registers its undo at once: if a later step
 * fails, what was opened is closed again in reverse order, so a failed start leaves no socket, lock
 * or listener behind and the caller sees the step's own error.
 */
export async function startDaemon(config: DaemonConfig, log: Logger): Promise<Daemon> {
  return withCleanup(log, async (cleanup) => {
    // First of all: a second daemon must fail before it touches anything of the first one's.
    const claim = await claimSocket(config.socket);
    cleanup.defer('release the socket', () => claim.release());
    return serve(config, log, claim, cleanup);
  });
}

async function serve(
  config: DaemonConfig,
  log: Logger,
  claim: SocketClaim,
  cleanup: Cleanup,
): Promise<Daemon> {
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
    pluginTimeoutMs: config.cniTimeoutSeconds * 1000,
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
  const removeEmptyCgroupParent = async () => {
    // nodelet's own parent cgroup goes when no pod is left in it.
    if (cgroups.exists(config.cgroupParent) && cgroups.listUnder(config.cgroupParent).length === 0) {
      await cgroups
        .destroy(config.cgroupParent)
        .catch((err: unknown) => log.warn({ err }, 'cannot remove the cgroup parent'));
    }
  };
  cleanup.defer('remove the empty cgroup parent', removeEmptyCgroupParent);
  const monitor = await ensureMonitor({
    runDir: config.runDir,
    stateDir: config.stateDir,
    initPoolSize: config.initPoolSize,
    log,
  });
  // The monitor stays: containers keep running while the daemon is away.
  cleanup.defer('close the monitor connection', () => monitor.close());
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
    host: realCriHost,
    cdi: new CdiSpecDirs(config.cdiSpecDirs, log),
    defaultCgroupParent: config.cgroupParent,
    criuPath: config.criuPath,
    metrics: runtimeMetrics,
  };
  await recover(ctx);
  ctx.stats.start();
  cleanup.defer('stop the stats timer', () => ctx.stats.stop());
  // A container's lower dirs (its root's and its image volumes') are <snapshots>/<chainId>/fs:
  // their chain ids are what it uses.
  images.setInUseSnapshots(() =>
    ctx.containers
      .list()
      .flatMap((c) => [
        ...(c.spec.root.overlay?.lowerDirs ?? []),
        ...(c.imageVolumes ?? []).flatMap((v) => v.lowerDirs),
      ])
      .map((d) => path.basename(path.dirname(d))),
  );

  const statsSource = containerStatsSource(ctx);
  runtimeMetrics.setWorkload(workloadSource(ctx));
  runtimeMetrics.setContainerStats(statsSource);
  runtimeMetrics.setLogDrops(async () => {
    const counters = await ctx.monitor.counters();
    return { lines: counters.logLinesDropped, bytes: counters.logBytesDropped };
  });
  const streaming = await startStep(
    `the streaming server on '${config.streamingAddress}'`,
    StreamingServer.start({
      address: config.streamingAddress,
      tls: config.streamingTls && {
        cert: fs.readFileSync(config.streamingTls.certFile),
        key: fs.readFileSync(config.streamingTls.keyFile),
      },
      backend: streamingBackend(ctx),
      log,
    }),
  );
  cleanup.defer('close the streaming server', () => streaming.close());
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
          // Pod user namespaces idmap the root and volumes with mount_setattr(MOUNT_ATTR_IDMAP).
          userNamespaces: mountSetattrAvailable(),
        },
      }),
      ...podAndContainerService(ctx),
      ...streamingService(ctx, streaming),
      ...criMetricsService(statsSource),
    },
    image: imageService(images, layout.containers),
  });
  cleanup.defer('stop the gRPC server', () => cri.stop(0));

  const metrics = config.metricsAddress
    ? await startStep(
        `the metrics server on '${config.metricsAddress}'`,
        startMetricsServer(config.metricsAddress, registry, () => true, {
          collectors: [runtimeMetrics.containerMetrics],
        }),
      )
    : undefined;
  cleanup.defer('close the metrics server', () => metrics?.close());
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
      await trashEmptied();
      ctx.stats.stop();
      monitor.close();
      await removeEmptyCgroupParent();
      log.info('nodelet stopped');
    },
  };
}

/** A listener that cannot start says which one and where, whatever the socket error was. */
async function startStep<T>(what: string, starting: Promise<T>): Promise<T> {
  try {
    return await starting;
  } catch (err) {
    throw new Error(`Cannot start ${what}: ${messageOf(err)}`, { cause: err });
  }
}
