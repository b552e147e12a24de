// `nodelet agent`: the mini kubelet. Standalone mode runs the static pods of --pod-manifest-path;
// connected mode (--kubeconfig) makes a node of an API server. Flags use the kubelet's names.
import { isIP } from 'node:net';
import os from 'node:os';
import { createLogger, LOG_LEVELS, LogLevel } from '../common/log';
import { exitOnUnhandledRejection } from '../common/background';
import { Agent, CriClient, DEFAULT_VOLUME_SYNC_MS, startAgent, startConnectedAgent } from '../agent';
import { countRuntime, createAgentMetrics, proberMetrics } from '../agent/metrics';
import { KUBELET_API_FLAGS, kubeletApiConfig, serveKubeletApi, type KubeletApi } from '../agent/kubelet_api';
import { messageOf } from '../common/errors';
import type { ImageGcOptions } from '../agent/image_gc_manager';
import { DEFAULT_IMAGE_GC_POLICY } from '../agent/image_gc';
import { SysctlAdmission } from '../agent/sysctl_admission';
import { DEFAULT_DNS_SETTINGS, type DnsSettings } from '../agent/pod_dns';
import { MIN_LOG_MONITOR_INTERVAL_MS, parseLogRotationPolicy, type ContainerLogOptions } from '../agent/logs';
import { checkNodeGateConfig, parseMapFlag, type NodeGateConfig } from '../agent/eviction';
import { enforcesPodsAllocatable } from '../agent/cgroups';
import { AGENT_HELP } from './help';
import { catchStopSignals } from './stop_signal';
import { CliUsageError, parseFlags } from './usage';
import * as nodeOpsCli from './agent_node_ops';

const s = { type: 'string' as const };

/** What `nodelet agent` parses: its own flags and the kubelet API's; AGENT_HELP shows each one. */
export const AGENT_FLAGS = {
  'pod-manifest-path': s,
  'container-runtime-endpoint': s,
  kubeconfig: s,
  'hostname-override': s,
  'root-dir': s,
  'pod-logs-dir': s,
  'cgroup-driver': s,
  'cgroup-root': s,
  'enforce-node-allocatable': s,
  'pod-max-pids': s,
  'file-check-frequency': s,
  'sync-frequency': s,
  'log-level': s,
  'node-ip': s,
  'max-pods': s,
  'image-gc-high-threshold': s,
  'image-gc-low-threshold': s,
  'minimum-image-gc-age': s,
  'image-gc-period': s,
  'allowed-unsafe-sysctls': s,
  'cluster-dns': { type: 'string' as const, multiple: true },
  'cluster-domain': s,
  'resolv-conf': s,
  'container-log-max-size': s,
  'container-log-max-files': s,
  'container-log-monitor-interval': s,
  'container-logs-dir': s,
  'system-reserved': s,
  'kube-reserved': s,
  'eviction-hard': s,
  'eviction-soft': s,
  'eviction-soft-grace-period': s,
  'eviction-pressure-transition-period': s,
  'eviction-max-pod-grace-period': s,
  'housekeeping-interval': s,
  help: { type: 'boolean' as const, short: 'h' },
  ...KUBELET_API_FLAGS,
  ...nodeOpsCli.NODE_OPS_FLAGS,
};

/** The first non-internal IPv4 address, as the kubelet picks its InternalIP; loopback if none. */
function defaultNodeIP(): string {
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** A Go-style duration with one unit ("20s", "500ms", "1m"). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new CliUsageError(`Cannot parse duration '${text}': expected e.g. 20s, 500ms, 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** A whole percent, 0 to 100, of a flag. */
function percentFlag(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 100)
    throw new CliUsageError(`Cannot read --${name}=${text}: expected a percent from 0 to 100`);
  return n;
}

/** The image GC settings of the kubelet's flags; the low threshold must stay below the high one. */
function imageGcOptions(values: Record<string, string | string[] | boolean | undefined>): ImageGcOptions {
  const str = (k: string) => values[k] as string | undefined;
  const high = percentFlag('image-gc-high-threshold', str('image-gc-high-threshold'), 85);
  const low = percentFlag('image-gc-low-threshold', str('image-gc-low-threshold'), 80);
  if (low > high)
    throw new CliUsageError(
      `Cannot use --image-gc-low-threshold=${low}: it must not exceed --image-gc-high-threshold=${high}`,
    );
  const minAge = str('minimum-image-gc-age');
  const period = str('image-gc-period');
  return {
    policy: {
      highThresholdPercent: high,
      lowThresholdPercent: low,
      minAgeMs: minAge ? parseDuration(minAge) : 2 * 60_000,
    },
    periodMs: period ? parseDuration(period) : undefined,
  };
}

/** --allowed-unsafe-sysctls: comma-separated names or `prefix*` patterns, checked as the kubelet does. */
export function unsafeSysctlsFlag(text: string | undefined): string[] {
  const patterns = (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  try {
    new SysctlAdmission(patterns);
  } catch (err) {
    throw new CliUsageError(`Cannot use --allowed-unsafe-sysctls=${text}: ${messageOf(err)}`);
  }
  return patterns;
}

/** --cluster-dns (repeated or comma-separated IPs), --cluster-domain and --resolv-conf. */
export function dnsFlags(values: {
  'cluster-dns'?: string | string[];
  'cluster-domain'?: string;
  'resolv-conf'?: string;
}): DnsSettings {
  const clusterDNS = [values['cluster-dns'] ?? []].flat().flatMap((v) =>
    v
      .split(',')
      .map((ip) => ip.trim())
      .filter(Boolean),
  );
  for (const ip of clusterDNS)
    if (isIP(ip) === 0) throw new CliUsageError(`Cannot use --cluster-dns=${ip}: not an IP address`);
  const clusterDomain = (values['cluster-domain'] ?? '').replace(/\.$/, '');
  return {
    clusterDNS,
    clusterDomain,
    resolvConf: values['resolv-conf'] ?? DEFAULT_DNS_SETTINGS.resolvConf,
  };
}

/** Log rotation (--container-log-max-size/-files, the kubelet's) and where the links go. */
export function containerLogFlags(values: Record<string, string | string[] | boolean | undefined>) {
  const str = (k: string) => values[k] as string | undefined;
  let policy;
  try {
    policy = parseLogRotationPolicy(str('container-log-max-size'), str('container-log-max-files'));
  } catch (err) {
    throw new CliUsageError(messageOf(err));
  }
  const interval = str('container-log-monitor-interval');
  const monitorIntervalMs = interval ? parseDuration(interval) : undefined;
  if (monitorIntervalMs !== undefined && !(monitorIntervalMs >= MIN_LOG_MONITOR_INTERVAL_MS))
    throw new CliUsageError(`--container-log-monitor-interval must be at least 3s, not '${interval}'`);
  const options: ContainerLogOptions = {
    policy,
    monitorIntervalMs,
    linksDir: str('container-logs-dir') ?? '/var/log/containers',
  };
  return options;
}
/** Reservations and eviction flags as the KubeletConfiguration keys they stand for. */
export function evictionFlags(
  values: Record<string, string | string[] | boolean | undefined>,
): NodeGateConfig {
  const str = (k: string) => values[k] as string | undefined;
  try {
    const map = (flag: string, sep: '=' | '<') => {
      const text = str(flag);
      return text === undefined ? undefined : parseMapFlag(flag, text, sep);
    };
    const maxGrace = str('eviction-max-pod-grace-period');
    if (maxGrace !== undefined && !/^\d+$/.test(maxGrace))
      throw new Error(`Cannot read --eviction-max-pod-grace-period=${maxGrace}: expected whole seconds`);
    const period = str('housekeeping-interval');
    const config: NodeGateConfig = {
      systemReserved: map('system-reserved', '='),
      kubeReserved: map('kube-reserved', '='),
      evictionHard: map('eviction-hard', '<'),
      evictionSoft: map('eviction-soft', '<'),
      evictionSoftGracePeriod: map('eviction-soft-grace-period', '='),
      evictionPressureTransitionPeriod: str('eviction-pressure-transition-period'),
      evictionMaxPodGracePeriod: maxGrace === undefined ? undefined : Number(maxGrace),
      evictionMonitoringPeriodMs: period === undefined ? undefined : parseDuration(period),
    };
    checkNodeGateConfig(config);
    return config;
  } catch (err) {
    if (err instanceof CliUsageError) throw err;
    throw new CliUsageError(messageOf(err));
  }
}

/** --enforce-node-allocatable and --pod-max-pids: the node's pod cgroups (src/agent/cgroups). */
export function podCgroupFlags(values: Record<string, string | string[] | boolean | undefined>): {
  enforceNodeAllocatable?: string[];
  podPidsLimit?: number;
} {
  const enforce = values['enforce-node-allocatable'] as string | undefined;
  const pids = values['pod-max-pids'] as string | undefined;
  const enforceNodeAllocatable =
    enforce === undefined
      ? undefined
      : enforce
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
  try {
    enforcesPodsAllocatable(enforceNodeAllocatable);
  } catch (err) {
    throw new CliUsageError(messageOf(err));
  }
  if (pids !== undefined && !(/^-?\d+$/.test(pids) && Number(pids) >= -1))
    throw new CliUsageError(`Cannot read --pod-max-pids=${pids}: expected a whole number, -1 for no limit`);
  return { enforceNodeAllocatable, podPidsLimit: pids === undefined ? undefined : Number(pids) };
}

export async function runAgentCommand(args: string[]): Promise<number> {
  const { values: given } = parseFlags(args, AGENT_FLAGS);
  if (given.help) {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  const values = nodeOpsCli.withConfigFile(given);
  const kubeconfig = values.kubeconfig;
  const manifestDir = values['pod-manifest-path'];
  if (!manifestDir && !kubeconfig)
    throw new CliUsageError('nodelet agent needs --pod-manifest-path (standalone mode) or --kubeconfig');
  const maxPods = Number(values['max-pods'] ?? 110);
  const volumeSyncMs = values['sync-frequency'] ? parseDuration(values['sync-frequency']) : undefined;
  // setInterval takes at most 2^31-1 ms (longer becomes 1 ms), and 0 would be a busy loop.
  if (volumeSyncMs !== undefined && !(volumeSyncMs >= 1000 && volumeSyncMs <= 2 ** 31 - 1))
    throw new CliUsageError(
      `--sync-frequency must be between 1s and 596h, not '${values['sync-frequency']}'`,
    );
  if (!Number.isInteger(maxPods) || maxPods < 1)
    throw new CliUsageError(`Cannot read --max-pods=${values['max-pods']}: expected a positive integer`);
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new CliUsageError(`unknown log level '${level}'`);
  const driver = values['cgroup-driver'] ?? 'cgroupfs';
  if (driver !== 'cgroupfs' && driver !== 'systemd')
    throw new CliUsageError(`unknown cgroup driver '${driver}'`);
  const imageGc = imageGcOptions(values);
  const allowedUnsafeSysctls = unsafeSysctlsFlag(values['allowed-unsafe-sysctls']);
  const dns = dnsFlags(values);
  const containerLogs = containerLogFlags(values);
  const eviction = evictionFlags(values);
  const cgroupFlags = podCgroupFlags(values);
  const nodeName = (values['hostname-override'] ?? os.hostname()).toLowerCase();
  const log = createLogger(level, { role: 'agent', node: nodeName });
  exitOnUnhandledRejection(log);
  const stop = catchStopSignals(log, 'shutting down; pods keep running');
  const endpoint = values['container-runtime-endpoint'] ?? 'unix:///run/nodelet/nodelet.sock';
  const rootDir = values['root-dir'] ?? '/var/lib/nodelet/agent';
  const ops = nodeOpsCli.nodeOps(values, rootDir);
  if (kubeconfig) await nodeOpsCli.bootstrapIfNeeded(ops, kubeconfig, nodeName, log);
  const bootstrappedServing = await nodeOpsCli.bootstrappedServingFile(ops);
  let apiConfig;
  try {
    apiConfig = kubeletApiConfig(
      bootstrappedServing && !values['tls-cert-file']
        ? { ...values, 'tls-cert-file': bootstrappedServing, 'tls-private-key-file': bootstrappedServing }
        : values,
      { rootDir, kubeconfig: values.kubeconfig },
    );
  } catch (err) {
    throw new CliUsageError(messageOf(err));
  }
  // One runtime client, timed for kubelet_runtime_operations_*; the agent's /metrics registry.
  const client = new CriClient(endpoint);
  const metrics = createAgentMetrics(() => countRuntime(client));
  const options = {
    endpoint,
    cri: metrics.instrument(client),
    metrics,
    manifestDir,
    rootDir,
    podLogsDir: values['pod-logs-dir'] ?? '/var/log/pods',
    nodeName,
    cgroupDriver: driver,
    cgroupRoot: values['cgroup-root'],
    imageGc,
    allowedUnsafeSysctls,
    dns,
    containerLogs,
    ...eviction,
    ...cgroupFlags,
    maxPods,
    rescanMs: values['file-check-frequency'] ? parseDuration(values['file-check-frequency']) : undefined,
    log,
  } as const;
  // The kubelet API starts first: connected mode publishes its port in the Node.
  const ref: { agent?: Agent } = {};
  const deps = {
    endpoint,
    nodeName,
    pods: () => ref.agent?.pods() ?? new Map(),
    registry: metrics.registry,
    probeRegistry: proberMetrics.registry,
    rootDir,
    settings: {
      staticPodPath: manifestDir,
      fileCheckFrequencyMs: options.rescanMs ?? 20_000,
      containerRuntimeEndpoint: endpoint,
      cgroupDriver: driver,
      cgroupRoot: options.cgroupRoot ?? '/',
      podLogsDir: options.podLogsDir,
      maxPods: kubeconfig ? maxPods : undefined,
      syncFrequencyMs: kubeconfig ? (volumeSyncMs ?? DEFAULT_VOLUME_SYNC_MS) : undefined,
      imageGc: imageGc.policy ?? DEFAULT_IMAGE_GC_POLICY,
      dns,
    },
    log,
  };
  // Without its API the node still runs its pods, as before the API existed: say so and go on.
  const api: KubeletApi | undefined = apiConfig
    ? await serveKubeletApi(apiConfig, deps).catch((err) => {
        log.error({ err: messageOf(err) }, 'cannot serve the kubelet API; pods keep running without it');
        return undefined;
      })
    : undefined;
  let agent: Agent;
  let connected: Awaited<ReturnType<typeof startConnectedAgent>> | undefined;
  const nodeIP = values['node-ip'] ?? defaultNodeIP();
  const reloadingApi = kubeconfig ? await nodeOpsCli.reloadingKubeApi(kubeconfig) : undefined;
  try {
    agent = kubeconfig
      ? (connected = await startConnectedAgent({
          ...options,
          kubeconfig,
          api: reloadingApi,
          registration: { labels: ops.labels, taints: ops.taints },
          nodeIP,
          kubeletPort: api?.port ?? apiConfig?.port ?? 10250,
          maxPods,
          volumeSyncMs,
        }))
      : await startAgent(options);
  } catch (err) {
    // A failed start must end the process (and a service manager restart it), not hang on the API.
    await api?.close();
    client.close();
    stop.dispose();
    throw err;
  }
  ref.agent = agent;
  const stopRotation = await nodeOpsCli.startCertificateRotation(ops, {
    api: reloadingApi,
    nodeName,
    nodeIP,
    setServingCert: api?.setServingCert,
    log,
  });
  const shutdownSignal = nodeOpsCli.nodeShutdownSignal(ops);
  const stopPodStarts = metrics.watchPodStarts(() => agent.pods());
  // The probers' series go with their pod, as the kubelet's go when its probe workers stop.
  const stopProbeSeries = proberMetrics.followPods(() => agent.pods());
  const signal = await Promise.race([stop.received, shutdownSignal.received.then(() => ops.shutdownSignal)]);
  shutdownSignal.dispose();
  stopRotation();
  // The node's shutdown (shutdownGracePeriod): the pods stop by priority before the agent goes.
  if (connected && ops.shutdown && signal === ops.shutdownSignal) await connected.shutdownNode(ops.shutdown);
  await api?.close();
  stopPodStarts();
  stopProbeSeries();
  await agent.stop();
  client.close();
  return 0;
}
