// Connected mode: the agent as a node of an API server. It registers the Node and keeps its status
// and Lease fresh, runs the pods bound to it (and the static pods of the manifest directory, shown by
// mirror pods), posts their statuses and finishes their deletions. The pod set is the same as in
// standalone mode; only the sources and the status sink differ.
import type { Logger } from '../../common/log';
import { runInBackground } from '../../common/background';
import { messageOf } from '../../common/errors';
import { Agent, AgentOptions, startAgent } from '../agent';
import { CriClient, CriRuntime } from '../cri_client';
import { apiPodSource } from './api_source';
import { EventRecorder } from './event_recorder';
import type { KubeApi } from './kube_api';
import type { ListWatchOptions } from './list_watch';
import { MirrorPods } from './mirror_pods';
import { allocatable, nodeCapacity } from '../eviction';
import { hostNodeFacts } from './node_facts';
import { NodePressure } from './node_pressure';
import { NodeHeartbeat } from './node_heartbeat';
import type { RuntimeHealth } from './node_object';
import { ServiceInformer, watchServices } from './service_informer';
import { PodStatusPoster } from './status_poster';
import { shutdownNode } from './node_shutdown';
import type { ShutdownSettings } from '../shutdown';
import { apiRuntimeClasses } from './runtime_classes';

// Mirror pods are compared with the static pods this often (API calls only for differences).
const MIRROR_RESYNC_MS = 3000;

export interface ConnectedOptions extends Omit<AgentOptions, 'sources' | 'onStatus' | 'onEvent'> {
  kubeconfig: string;
  /** The node's InternalIP (the API server reaches the kubelet API there). */
  nodeIP: string;
  /** The kubelet API's port, published in status.daemonEndpoints. */
  kubeletPort: number;
  maxPods?: number;
  /** For tests: an API other than the kubeconfig's. */
  api?: KubeApi;
  watch?: ListWatchOptions;
  /** How often configMap, secret and token volumes are read again (the kubelet's --sync-frequency). */
  volumeSyncMs?: number;
  heartbeat?: { statusCheckMs?: number; leaseRenewMs?: number };
  /** --node-labels and --register-with-taints, set when the Node is created. */
  registration?: {
    labels?: Record<string, string>;
    taints?: { key: string; value?: string; effect: string }[];
  };
}

/** The connected agent, which can also shut the node down gracefully (node_shutdown.ts). */
export interface ConnectedAgent extends Agent {
  shutdownNode(settings: ShutdownSettings): Promise<void>;
}

async function runtimeHealth(cri: CriRuntime): Promise<RuntimeHealth> {
  try {
    const { status } = await cri.status();
    const conditions = status?.conditions ?? [];
    const notReady = ['RuntimeReady', 'NetworkReady']
      .map(
        (type) =>
          conditions.find((c) => c.type === type) ?? {
            type,
            status: false,
            reason: 'NotReported',
            message: '',
          },
      )
      .filter((c) => !c.status)
      .map((c) => ({ type: c.type, reason: c.reason, message: c.message }));
    return { notReady };
  } catch (err) {
    return { notReady: [{ type: 'RuntimeReady', reason: 'RuntimeUnreachable', message: messageOf(err) }] };
  }
}

function loadApi(kubeconfig: string): KubeApi {
  // Lazily, so that nothing loads @kubernetes/client-node (an ES module) unless connected mode runs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./api') as typeof import('./api')).loadKubeApi(kubeconfig);
}

export async function startConnectedAgent(options: ConnectedOptions): Promise<ConnectedAgent> {
  const log: Logger = options.log;
  const client = options.cri ? undefined : new CriClient(options.endpoint);
  const cri = options.cri ?? client!;
  let services: ServiceInformer | undefined;
  let nodePressure: NodePressure | undefined;
  try {
    const api = options.api ?? loadApi(options.kubeconfig);
    const version = await cri.version();
    const facts = hostNodeFacts({
      nodeName: options.nodeName,
      nodeIP: options.nodeIP,
      kubeletPort: options.kubeletPort,
      maxPods: options.maxPods ?? 110,
      rootDir: options.rootDir,
      containerRuntimeVersion: `${version.runtime_name}://${version.runtime_version}`,
      ...options.registration,
    });
    let shuttingDown = false;
    const alloc = allocatable(nodeCapacity(options.rootDir, options.maxPods ?? 110), options);
    facts.allocatable = {
      cpuMillis: alloc.cpu,
      memoryBytes: alloc.memory,
      ephemeralStorageBytes: alloc.ephemeralStorage,
    };
    nodePressure = new NodePressure(api, options.nodeName, log, options.watch);
    const pressure = nodePressure;
    let pressureNow: string[] = [];
    const heartbeat = new NodeHeartbeat({
      api,
      facts,
      log,
      health: async () => ({ ...(await runtimeHealth(cri)), shuttingDown }),
      pressure: () => pressureNow,
      ...options.heartbeat,
    });
    // Registration retries in the background: static pods run meanwhile (a control plane's own
    // static pods are what brings the API server up).
    heartbeat.register().catch((err) => log.debug({ err: messageOf(err) }, 'registration abandoned'));
    const poster = new PodStatusPoster(api, log);
    const events = new EventRecorder(api, options.nodeName, log);
    const mirrors = new MirrorPods(
      api,
      () => (heartbeat.uid ? { name: options.nodeName, uid: heartbeat.uid } : undefined),
      poster,
      log,
    );
    services = watchServices(api, log, options.watch);
    const agent = await startAgent({
      ...options,
      services,
      runtimeClasses: apiRuntimeClasses(api),
      cri,
      hostIP: options.hostIP ?? options.nodeIP,
      nodeView: () => pressure.view(),
      onPressure: (conditions) => {
        pressureNow = conditions;
        if (heartbeat.uid) runInBackground(log, 'post the node status', () => heartbeat.syncStatus());
      },
      onNodeEvent: (reason, message) =>
        runInBackground(log, `record node event ${reason}`, pressure.event(reason, message)),
      sources: [
        apiPodSource({
          api,
          nodeName: options.nodeName,
          log,
          poster,
          watch: options.watch,
          volumeSyncMs: options.volumeSyncMs,
          onMirrorPod: (uid, pod) => {
            mirrors.observe(uid, pod);
            if (!pod) runInBackground(log, 'reconcile mirror pods', reconcileMirrors);
          },
        }),
      ],
      onStatus: (desired, status) => poster.update(desired.uid, status),
      onEvent: (desired, event) => {
        const target = poster.targetOf(desired.uid);
        if (target) runInBackground(log, `record event ${event.reason}`, events.record(target, event));
      },
    });
    const reconcileMirrors = () =>
      mirrors
        .reconcile([...agent.pods().values()].map((p) => p.desired).filter((d) => d.source !== 'api'))
        .catch((err) => log.warn({ err: messageOf(err) }, 'cannot reconcile mirror pods'));
    let mirrorTimer: NodeJS.Timeout | undefined;
    let stopped = false;
    const mirrorLoop = () => {
      runInBackground(log, 'reconcile mirror pods', async () => {
        await reconcileMirrors();
        if (!stopped) mirrorTimer = setTimeout(mirrorLoop, MIRROR_RESYNC_MS);
      });
    };
    mirrorLoop();
    // The shutdown lets go of the pods first, and the stop after it must not do that twice.
    let podsLetGo: Promise<void> | undefined;
    const letGoOfPods = () => (podsLetGo ??= agent.stop());
    return {
      ...agent,
      shutdownNode: (settings) =>
        shutdownNode(
          {
            api,
            cri,
            log,
            agent: { ...agent, stop: letGoOfPods },
            targetOf: (uid) => poster.targetOf(uid),
            announce: () => {
              shuttingDown = true;
              return heartbeat.syncStatus();
            },
          },
          settings,
        ),
      async stop() {
        stopped = true;
        clearTimeout(mirrorTimer);
        heartbeat.stop();
        services?.close();
        nodePressure?.close();
        await letGoOfPods();
        // The last statuses, if the API answers soon: shutting down must not wait on it.
        await Promise.race([poster.flush(), new Promise((r) => setTimeout(r, 5000).unref())]);
        poster.stop();
        client?.close();
      },
    };
  } catch (err) {
    services?.close();
    nodePressure?.close();
    client?.close();
    throw err;
  }
}
