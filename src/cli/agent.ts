// `nodelet agent`: the mini kubelet. Standalone mode (static pods from --pod-manifest-path) works;
// connected mode (--kubeconfig) is refused clearly until it is built. Flags use the kubelet's names.
import os from 'node:os';
import { createLogger, LOG_LEVELS, LogLevel } from '../common/log';
import { CriClient, startAgent } from '../agent';
import { countRuntime, createAgentMetrics } from '../agent/metrics';
import {
  KUBELET_API_FLAGS,
  KUBELET_API_HELP,
  kubeletApiConfig,
  serveKubeletApi,
  type KubeletApi,
} from '../agent/kubelet_api';
import { messageOf } from '../common/errors';
import { CliUsageError, parseFlags } from './usage';

const HELP = `Usage: nodelet agent [flags]

Runs the pods of a manifest directory (static pods) through a CRI runtime, as the kubelet does
without an API server.

Flags:
  --pod-manifest-path DIR            directory of Pod manifests (YAML or JSON, one pod a file)
  --container-runtime-endpoint URL   CRI socket (default unix:///run/nodelet/nodelet.sock)
  --kubeconfig FILE                  connected mode (not implemented yet)
  --hostname-override NAME           node name (default the host name)
  --root-dir DIR                     pod directories and status files (default /var/lib/nodelet/agent)
  --pod-logs-dir DIR                 container log files (default /var/log/pods)
  --cgroup-driver cgroupfs|systemd   used when the runtime does not report its own (default cgroupfs)
  --cgroup-root PATH                 parent of the kubepods cgroup (default /)
  --file-check-frequency DURATION    rescan of the manifest directory, e.g. 20s (default 20s)
  --log-level LEVEL                  trace|debug|info|warn|error|fatal (default info)
`;

/** A Go-style duration with one unit ("20s", "500ms", "1m"). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new CliUsageError(`Cannot parse duration '${text}': expected e.g. 20s, 500ms, 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export async function runAgentCommand(args: string[]): Promise<number> {
  const s = { type: 'string' as const };
  const { values } = parseFlags(args, {
    'pod-manifest-path': s,
    'container-runtime-endpoint': s,
    kubeconfig: s,
    'hostname-override': s,
    'root-dir': s,
    'pod-logs-dir': s,
    'cgroup-driver': s,
    'cgroup-root': s,
    'file-check-frequency': s,
    'log-level': s,
    help: { type: 'boolean', short: 'h' },
    ...KUBELET_API_FLAGS,
  });
  if (values.help) {
    process.stdout.write(HELP + KUBELET_API_HELP);
    return 0;
  }
  if (values.kubeconfig) {
    throw new Error('Cannot start the agent with --kubeconfig: connected mode is not implemented yet');
  }
  const manifestDir = values['pod-manifest-path'];
  if (!manifestDir) throw new CliUsageError('nodelet agent needs --pod-manifest-path (standalone mode)');
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new CliUsageError(`unknown log level '${level}'`);
  const driver = values['cgroup-driver'] ?? 'cgroupfs';
  if (driver !== 'cgroupfs' && driver !== 'systemd')
    throw new CliUsageError(`unknown cgroup driver '${driver}'`);
  const nodeName = (values['hostname-override'] ?? os.hostname()).toLowerCase();
  const log = createLogger(level, { role: 'agent', node: nodeName });
  const endpoint = values['container-runtime-endpoint'] ?? 'unix:///run/nodelet/nodelet.sock';
  const rootDir = values['root-dir'] ?? '/var/lib/nodelet/agent';
  let apiConfig;
  try {
    apiConfig = kubeletApiConfig(values, { rootDir, kubeconfig: values.kubeconfig });
  } catch (err) {
    throw new CliUsageError(messageOf(err));
  }
  // One runtime client, timed for kubelet_runtime_operations_*; the agent's /metrics registry.
  const client = new CriClient(endpoint);
  const metrics = createAgentMetrics(() => countRuntime(client));
  const agent = await startAgent({
    endpoint,
    cri: metrics.instrument(client),
    manifestDir,
    rootDir,
    podLogsDir: values['pod-logs-dir'] ?? '/var/log/pods',
    nodeName,
    cgroupDriver: driver,
    cgroupRoot: values['cgroup-root'],
    rescanMs: values['file-check-frequency'] ? parseDuration(values['file-check-frequency']) : undefined,
    log,
  });
  const stopPodStarts = metrics.watchPodStarts(() => agent.pods());
  const deps = { endpoint, nodeName, pods: () => agent.pods(), registry: metrics.registry, log };
  // Without its API the node still runs its pods, as before the API existed: say so and go on.
  const api: KubeletApi | undefined = apiConfig
    ? await serveKubeletApi(apiConfig, deps).catch((err) => {
        log.error({ err: messageOf(err) }, 'cannot serve the kubelet API; pods keep running without it');
        return undefined;
      })
    : undefined;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down; pods keep running');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await api?.close();
  stopPodStarts();
  await agent.stop();
  client.close();
  return 0;
}
