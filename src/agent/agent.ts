// The agent's pod set: its sources (the manifest directory, and in connected mode the API server)
// say which pods should run, one PodWorker per pod makes it so through any CRI runtime. Once every
// source has spoken, the runtime's pods are matched by their UID label: known pods are picked up as
// they run, pods no source asks for are stopped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../common/log';
import { runInBackground } from '../common/background';
import { messageOf } from '../common/errors';
import { Backoff } from './backoff';
import { CriClient, CriRuntime } from './cri_client';
import { startImageGc, type ImageGcOptions } from './image_gc_manager';
import { ImageGcClient, type ImageGcRuntime } from './image_gc_runtime';
import { POD_UID_LABEL } from './labels';
import {
  ContainerLogClient,
  startContainerLogManager,
  withContainerLogs,
  type ContainerLogOptions,
  type ContainerLogRuntime,
} from './logs';
import type { DesiredPod } from './manifest';
import { killPod } from './pod_kill';
import { manifestDirSource, PodSink, PodSource, PodSourceFactory } from './pod_source';
import type { PodStatusView } from './pod_status';
import { NodeContext, PodWorker } from './pod_worker';
import type { CgroupDriver } from './qos';
import { parseReserved, startNodeGate, type NodeGateConfig } from './eviction';
import {
  enforcesPodsAllocatable,
  hostPidCapacity,
  nodeAllocatableConfig,
  startPodCgroups,
  type PodCgroups,
} from './cgroups';
import type { Pod } from './pod_spec';
import { SysctlAdmission } from './sysctl_admission';
import { kernelVolumeMounter } from './volume_mounter';
import { UserNamespaceAllocator } from './userns_allocator';
import { makePrivateDir, removePodDir, VolumeMounter } from './volumes';

export interface AgentOptions extends NodeGateConfig {
  endpoint: string;
  /** Static pods (standalone mode, and static pods beside the API's in connected mode). */
  manifestDir?: string;
  /** More pod sources, e.g. the API server's pods in connected mode. */
  sources?: PodSourceFactory[];
  /** Called with every new status a pod publishes (connected mode posts it to the API). */
  onStatus?: (pod: DesiredPod, status: PodStatusView) => void;
  /** Called with what happens to pods (connected mode records them as Events). */
  onEvent?: NodeContext['onEvent'];
  /** Told how long pod syncs and looks at the runtime take (the agent's kubelet-style /metrics). */
  metrics?: NodeContext['metrics'];
  rootDir: string;
  podLogsDir: string;
  nodeName: string;
  log: Logger;
  /** Used when the runtime does not answer RuntimeConfig (containerd 1.6 does not). */
  cgroupDriver?: CgroupDriver;
  /** The node's cgroup root: pods go to <cgroupRoot>/kubepods/… (the kubelet's --cgroup-root). */
  cgroupRoot?: string;
  /** The kubelet's enforceNodeAllocatable: `pods` (the default) holds kubepods to allocatable, `none` to capacity. */
  enforceNodeAllocatable?: string[];
  /** The kubelet's podPidsLimit (--pod-max-pids): a pids limit on every pod cgroup when above 0. */
  podPidsLimit?: number;
  syncIntervalMs?: number;
  rescanMs?: number;
  backoff?: Backoff;
  /** For tests: a fake runtime or a fake mounter instead of the real ones. */
  cri?: CriRuntime;
  mounter?: VolumeMounter;
  hostIP?: string;
  /** Unsafe sysctls pods may ask for besides the safe ones: names or `prefix*` (--allowed-unsafe-sysctls). */
  allowedUnsafeSysctls?: string[];
  /** The kubelet's --cluster-dns, --cluster-domain and --resolv-conf. */
  dns?: NodeContext['dns'];
  /** The Services, for the containers' Service variables (connected mode's informer). */
  services?: NodeContext['services'];
  /** The RuntimeClass objects (connected mode's API server). */
  runtimeClasses?: NodeContext['runtimeClasses'];
  /** Image garbage collection, as the kubelet's; off when absent. `runtime` is for tests. */
  imageGc?: ImageGcOptions & { runtime?: ImageGcRuntime };
  /** Log rotation and the /var/log/containers links, as the kubelet's; off when absent. `runtime` is for tests. */
  containerLogs?: ContainerLogOptions & { runtime?: ContainerLogRuntime };
}

export interface Agent {
  /** The current status of every pod, by UID. */
  pods(): Map<string, { desired: DesiredPod; status: PodStatusView | undefined }>;
  /** Asks every source to look now (the manifest directory is read instead of waiting for its scan). */
  rescan(): void;
  /** The node's pressure conditions now (MemoryPressure, DiskPressure, PIDPressure). */
  pressure(): string[];
  /** Resolves once every removed pod has been fully stopped and deleted. */
  settled(): Promise<void>;
  /** Stops the agent; the pods keep running in the runtime (a restarted agent picks them up). */
  stop(): Promise<void>;
}

function defaultHostIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

async function detectCgroupDriver(
  cri: CriRuntime,
  fallback: CgroupDriver,
  log: Logger,
): Promise<CgroupDriver> {
  try {
    const res = await cri.runtimeConfig();
    return res.linux?.cgroup_driver === 'SYSTEMD' ? 'systemd' : 'cgroupfs';
  } catch (err) {
    log.info(
      { err: messageOf(err), driver: fallback },
      'runtime does not report its cgroup driver; using the configured one',
    );
    return fallback;
  }
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { log } = options;
  // A bad pattern stops the agent before it touches anything, as it stops the kubelet.
  const sysctls = new SysctlAdmission(options.allowedUnsafeSysctls);
  const enforcePods = enforcesPodsAllocatable(options.enforceNodeAllocatable);
  const client = options.cri ? undefined : new CriClient(options.endpoint);
  const cri = options.cri ?? client!;
  const version = await cri.version();
  log.info({ runtime: version.runtime_name, version: version.runtime_version }, 'connected to the runtime');
  // Like the kubelet, say when the runtime is not ready; pods are still tried (the runtime may recover).
  const notReady =
    (await cri.status().catch(() => undefined))?.status?.conditions.filter((c) => !c.status) ?? [];
  for (const c of notReady)
    log.warn({ condition: c.type, reason: c.reason, message: c.message }, 'runtime condition not met');
  const logClient =
    options.containerLogs && !options.containerLogs.runtime
      ? new ContainerLogClient(options.endpoint)
      : undefined;
  const containerLogs =
    options.containerLogs &&
    startContainerLogManager(options.containerLogs.runtime ?? logClient!, log, options.containerLogs);
  const node: NodeContext = {
    // Containers started and removed carry their log links and files along (logs/runtime_hooks.ts).
    cri: containerLogs ? withContainerLogs(cri, containerLogs, log) : cri,
    log,
    rootDir: options.rootDir,
    podLogsDir: options.podLogsDir,
    nodeName: options.nodeName,
    hostIP: options.hostIP ?? defaultHostIP(),
    runtimeName: version.runtime_name,
    cgroupDriver: await detectCgroupDriver(cri, options.cgroupDriver ?? 'cgroupfs', log),
    cgroupRoot: options.cgroupRoot ?? '/',
    mounter: options.mounter ?? kernelVolumeMounter,
    backoff: options.backoff ?? new Backoff(),
    nodeCpuCores: os.cpus().length,
    nodeMemoryBytes: os.totalmem(),
    writeStatusFiles: true,
    syncIntervalMs: options.syncIntervalMs ?? 1000,
    onStatus: options.onStatus,
    onEvent: options.onEvent,
    metrics: options.metrics,
    sysctls,
    dns: options.dns,
    services: options.services,
    runtimeClasses: options.runtimeClasses,
    userNamespaces: new UserNamespaceAllocator(path.join(options.rootDir, 'pods')),
  };
  makePrivateDir(path.join(options.rootDir, 'pods'));
  // The id ranges the pods on disk hold stay theirs (the kubelet's userns manager, at start).
  for (const { uid, problem } of node.userNamespaces.recover())
    log.warn({ uid, problem }, 'cannot take back the user namespace range of a pod');

  const workers = new Map<string, PodWorker>();
  const terminating = new Map<string, Promise<void>>();
  const podCgroups = startCgroups(options, node, enforcePods, () =>
    [...workers.values()]
      .filter((w) => w.desired.pod && w.status?.phase !== 'Failed' && w.status?.phase !== 'Succeeded')
      .map((w) => w.desired.pod!),
  );
  node.podCgroups = podCgroups;
  // Admission and eviction (the kubelet's predicate admit handler and eviction manager).
  const gate = startNodeGate(options, {
    ...node,
    pods: () => [...workers.values()],
    evict: (e) => workers.get(e.uid)?.evict(e.message),
  });
  node.admit = (desired) => gate.admit(desired);
  node.admitResize = (desired, resized) => gate.admitResize(desired, resized);

  const sink: PodSink = {
    add(desired) {
      if (workers.has(desired.uid)) return;
      log.info({ pod: desired.name, uid: desired.uid, source: desired.source ?? 'file' }, 'pod added');
      const worker = new PodWorker(desired, node);
      workers.set(desired.uid, worker);
      // The same content removed and added back is the same UID: start once the old one is gone.
      runInBackground(log, `start pod ${desired.uid}`, async () => {
        await terminating.get(desired.uid);
        if (workers.get(desired.uid) === worker) worker.start();
      });
    },
    update(desired) {
      const worker = workers.get(desired.uid);
      if (!worker) return sink.add(desired);
      log.info({ pod: desired.name, uid: desired.uid }, 'pod spec updated');
      worker.update(desired);
    },
    setConditions(uid, conditions) {
      workers.get(uid)?.setConditions(conditions);
    },
    refreshVolumes(uid, apiVolumes) {
      workers.get(uid)?.refreshVolumes(apiVolumes);
    },
    remove(uid, opts = {}) {
      const worker = workers.get(uid);
      workers.delete(uid);
      gate.forget(uid);
      if (!worker) return terminating.get(uid) ?? Promise.resolve();
      log.info(
        { pod: worker.desired.name, uid, graceS: opts.graceS },
        'pod removed from its source: stopping it',
      );
      const done = worker
        .terminate(opts.graceS)
        .catch((err) => log.error({ uid, err: messageOf(err) }, 'cannot stop pod'))
        .finally(() => terminating.delete(uid));
      terminating.set(uid, done);
      return done;
    },
  };

  const factories = [...(options.sources ?? [])];
  if (options.manifestDir) {
    const dir = options.manifestDir;
    factories.unshift(
      manifestDirSource(dir, options.nodeName, {
        rescanMs: options.rescanMs,
        onError: (err) => log.warn({ err: messageOf(err), dir }, 'cannot read manifest directory'),
      }),
    );
  }
  const sources: PodSource[] = factories.map((f) => f(sink));
  // Pods no source asks for go only once every source has listed its pods at least once.
  const orphansRemoved = Promise.all(sources.map((s) => s.synced)).then(() =>
    removeOrphans(
      node,
      new Set(workers.keys()),
      terminating,
      (uid) => workers.has(uid) || terminating.has(uid),
    ),
  );
  orphansRemoved.catch((err) => log.error({ err: messageOf(err) }, 'cannot remove orphaned pods'));
  const gcClient =
    options.imageGc && !options.imageGc.runtime ? new ImageGcClient(options.endpoint) : undefined;
  const imageGc = options.imageGc && startImageGc(options.imageGc.runtime ?? gcClient!, log, options.imageGc);

  return {
    pods: () => new Map([...workers].map(([uid, w]) => [uid, { desired: w.desired, status: w.status }])),
    rescan: () => sources.forEach((s) => s.rescan?.()),
    pressure: () => gate.pressure(),
    settled: async () => {
      await orphansRemoved.catch(() => undefined);
      while (terminating.size > 0) await Promise.all(terminating.values());
    },
    async stop() {
      sources.forEach((s) => s.close());
      gate.stop();
      podCgroups?.stop();
      imageGc?.stop();
      gcClient?.close();
      await Promise.all([...workers.values()].map((w) => w.detach()));
      await Promise.all(terminating.values());
      await containerLogs?.stop();
      logClient?.close();
      client?.close();
    },
  };
}

/**
 * The node's pod and QoS cgroups under the cgroupfs driver. Under systemd the kubelet makes slices
 * through systemd's D-Bus API, which the agent has no client for: the limits are not set there.
 */
function startCgroups(
  options: AgentOptions,
  node: NodeContext,
  enforcePods: boolean,
  activePods: () => Pod[],
): PodCgroups | undefined {
  if (node.cgroupDriver !== 'cgroupfs') {
    node.log.warn(
      { driver: node.cgroupDriver },
      'pod and QoS cgroups get no limits from the agent under this cgroup driver (cgroupfs only)',
    );
    return undefined;
  }
  const system = parseReserved(options.systemReserved, 'systemReserved');
  const kube = parseReserved(options.kubeReserved, 'kubeReserved');
  const reserved = (name: string) => (system[name] ?? 0) + (kube[name] ?? 0);
  const nodeConfig = nodeAllocatableConfig(
    { cpu: node.nodeCpuCores * 1000, memory: node.nodeMemoryBytes, pids: hostPidCapacity() },
    { cpu: reserved('cpu'), memory: reserved('memory'), pid: reserved('pid') },
    enforcePods,
  );
  return startPodCgroups({
    cgroupRoot: node.cgroupRoot,
    nodeConfig,
    podPidsLimit: options.podPidsLimit,
    activePods,
    log: node.log,
  });
}

/** Pods in the runtime (or pod directories on disk) that no manifest asks for any more, and their cgroups. */
async function removeOrphans(
  node: NodeContext,
  known: Set<string>,
  terminating: Map<string, Promise<void>>,
  keepCgroup: (uid: string) => boolean,
) {
  const { items } = await node.cri.listPodSandbox();
  const orphanUids = new Set(
    items.map((s) => s.labels[POD_UID_LABEL]).filter((u): u is string => !!u && !known.has(u)),
  );
  const kills: Promise<void>[] = [];
  for (const uid of orphanUids) {
    node.log.info({ uid }, 'stopping a pod that no manifest asks for');
    const done = killPod(node.cri, node.log, { uid }, { remove: true })
      .then(() => removePodDir(path.join(node.rootDir, 'pods', uid), node.mounter))
      .then(() => node.userNamespaces.release(uid))
      .catch((err) => node.log.error({ uid, err: messageOf(err) }, 'cannot stop orphaned pod'))
      .finally(() => terminating.delete(uid));
    terminating.set(uid, done);
    kills.push(done);
  }
  for (const uid of fs.readdirSync(path.join(node.rootDir, 'pods'))) {
    if (known.has(uid) || orphanUids.has(uid)) continue;
    try {
      removePodDir(path.join(node.rootDir, 'pods', uid), node.mounter);
      node.userNamespaces.release(uid);
    } catch (err) {
      // One pod directory that keeps a mount must not keep the others from going.
      node.log.error({ uid, err: messageOf(err) }, 'cannot remove orphaned pod directory');
    }
  }
  // Once the orphans are stopped, their cgroups and those of pods that ended while the agent was away go.
  await Promise.all(kills);
  await node.podCgroups?.sweepOrphans(keepCgroup);
}
