// The node operations of `nodelet agent`, kept apart from the command's other flags: --config (a
// KubeletConfiguration), --node-labels, --register-with-taints, the TLS bootstrap and certificate
// rotation, and graceful node shutdown. The command calls these at its steps; each reads the
// merged flag values (file under command line).
import path from 'node:path';
import { messageOf } from '../common/errors';
import type { Logger } from '../common/log';
import { configKeysHelp, mergeConfigFile, NodeConfigError, parseGoDuration } from '../agent/node_config';
import { NodeRegistrationError, parseNodeLabels, parseTaints, type Taint } from '../agent/node_registration';
import { checkShutdownSettings, type ShutdownSettings } from '../agent/shutdown';
import type { KubeApi } from '../agent/connected/kube_api';
import { CliUsageError } from './usage';

const s = { type: 'string' as const };

export const NODE_OPS_FLAGS = {
  config: s,
  'node-labels': s,
  'register-with-taints': s,
  'bootstrap-kubeconfig': s,
  'rotate-certificates': s,
  'rotate-server-certificates': s,
  'node-shutdown-signal': s,
};

export const NODE_OPS_HELP = `
Node operations:
  --config FILE                      a KubeletConfiguration (kubelet.config.k8s.io/v1beta1); flags win
                                     over its keys; a key the agent does not support is refused
  --node-labels K=V[,K=V]            labels of the Node when it is registered (kubernetes.io labels only
                                     from kubelet.kubernetes.io/, node.kubernetes.io/ and the kubelet's set)
  --register-with-taints K=V:EFFECT[,…]  taints of the Node when it is registered
  --bootstrap-kubeconfig FILE        when --kubeconfig is missing or expired, ask for a client certificate
                                     with these credentials (a CSR) and write --kubeconfig
  --rotate-certificates=true|false   renew the client certificate by CSR at 70-90% of its lifetime
  --rotate-server-certificates=true|false  get the kubelet API's serving certificate by CSR
                                     (kubernetes.io/kubelet-serving; serverTLSBootstrap)
  --node-shutdown-signal SIGNAL      with shutdownGracePeriod: the signal that stands for the node's
                                     shutdown (default SIGTERM; no systemd inhibitor here)
${configKeysHelp()}`;

type Values = Record<string, string | string[] | boolean | undefined>;

/** The command line over the --config file, as the command's values. */
export function withConfigFile<T extends Values>(values: T): T {
  try {
    return mergeConfigFile(values.config as string | undefined, values) as T;
  } catch (err) {
    if (err instanceof NodeConfigError) throw new CliUsageError(err.message);
    throw err;
  }
}

function bool(values: Values, name: string): boolean {
  const v = values[name];
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw new CliUsageError(`Cannot read --${name}=${String(v)}: expected true or false`);
}

function durationS(values: Values, name: string): number {
  const v = values[name] as string | undefined;
  if (v === undefined) return 0;
  const ms = /^\d+ms$/.test(v) ? Number(v.slice(0, -2)) : parseGoDuration(v);
  if (ms === undefined) throw new CliUsageError(`Cannot read ${name}=${v}: expected a duration`);
  return Math.floor(ms / 1000);
}

export interface NodeOps {
  labels: Record<string, string>;
  taints: Taint[];
  bootstrapKubeconfig?: string;
  certDir: string;
  rotateClient: boolean;
  rotateServer: boolean;
  shutdown?: ShutdownSettings;
  shutdownSignal: NodeJS.Signals;
}

export function nodeOps(values: Values, rootDir: string): NodeOps {
  let labels: Record<string, string>;
  let taints: Taint[];
  try {
    labels = parseNodeLabels(values['node-labels'] as string | undefined);
    taints = parseTaints(values['register-with-taints'] as string | undefined);
  } catch (err) {
    if (err instanceof NodeRegistrationError) throw new CliUsageError(err.message);
    throw err;
  }
  const shutdown = {
    gracePeriodS: durationS(values, 'shutdown-grace-period'),
    criticalPodsGracePeriodS: durationS(values, 'shutdown-grace-period-critical-pods'),
  };
  const problem = checkShutdownSettings(shutdown);
  if (problem) throw new CliUsageError(`Cannot use the shutdown settings: ${problem}`);
  const signal = ((values['node-shutdown-signal'] as string | undefined) ?? 'SIGTERM').toUpperCase();
  if (!/^SIG[A-Z0-9]+$/.test(signal) || ['SIGKILL', 'SIGSTOP'].includes(signal))
    throw new CliUsageError(`Cannot use --node-shutdown-signal=${signal}: not a signal that can be caught`);
  const bootstrapKubeconfig = values['bootstrap-kubeconfig'] as string | undefined;
  if (bootstrapKubeconfig && !values.kubeconfig)
    throw new CliUsageError(
      '--bootstrap-kubeconfig needs --kubeconfig (where the bootstrapped credentials go)',
    );
  return {
    labels,
    taints,
    bootstrapKubeconfig,
    certDir: (values['cert-dir'] as string | undefined) ?? path.join(rootDir, 'pki'),
    rotateClient: bool(values, 'rotate-certificates'),
    rotateServer: bool(values, 'rotate-server-certificates'),
    shutdown: shutdown.gracePeriodS > 0 ? shutdown : undefined,
    shutdownSignal: signal as NodeJS.Signals,
  };
}

/** Loads the real KubeApi (client-node) lazily, as connected mode does. */
export function loadKubeApi(kubeconfig: string): KubeApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../agent/connected/api') as typeof import('../agent/connected/api')).loadKubeApi(
    kubeconfig,
  );
}

/** Before anything talks to the API: the TLS bootstrap, if the kubeconfig is missing or expired. */
export async function bootstrapIfNeeded(ops: NodeOps, kubeconfig: string, nodeName: string, log: Logger) {
  if (!ops.bootstrapKubeconfig) return;
  const { bootstrapKubeconfig } = await import('../agent/connected/tls_bootstrap');
  try {
    await bootstrapKubeconfig({
      kubeconfig,
      bootstrapKubeconfig: ops.bootstrapKubeconfig,
      certDir: ops.certDir,
      nodeName,
      log,
      loadApi: loadKubeApi,
    });
  } catch (err) {
    throw new Error(`Cannot bootstrap the node's credentials: ${messageOf(err)}`);
  }
}

/** A valid serving pair from an earlier CSR, to serve from the start (serverTLSBootstrap). */
export async function bootstrappedServingFile(ops: NodeOps): Promise<string | undefined> {
  if (!ops.rotateServer) return undefined;
  const { currentPairFile, readPair } = await import('../agent/connected/certificates');
  const file = currentPairFile(ops.certDir, 'server');
  return readPair(file) ? file : undefined;
}

/**
 * Once the node runs: client certificate rotation (the API client reloaded with each new one) and
 * serving certificates by CSR (handed to the kubelet API server). Returns what stops them.
 */
export async function startCertificateRotation(
  ops: NodeOps,
  deps: {
    api?: { reload(): void } & KubeApi;
    nodeName: string;
    nodeIP: string;
    setServingCert?: (tls: { cert: string; key: string }) => void;
    log: Logger;
  },
): Promise<() => void> {
  const stops: (() => void)[] = [];
  const { CertificateRotator, clientCertRequest, servingCertRequest } =
    await import('../agent/connected/certificates');
  const api = deps.api;
  // Only a kubeconfig the bootstrap wrote points at <cert-dir>/kubelet-client-current.pem.
  if (ops.rotateClient && api && !ops.bootstrapKubeconfig)
    deps.log.warn(
      '--rotate-certificates works with --bootstrap-kubeconfig only: the client certificate stays',
    );
  if (ops.rotateClient && api && ops.bootstrapKubeconfig) {
    const rotator = new CertificateRotator({
      kind: 'client',
      certDir: ops.certDir,
      request: clientCertRequest(deps.nodeName),
      api: () => api,
      onRotated: () => api.reload(),
      log: deps.log,
    });
    rotator.start();
    stops.push(() => rotator.stop());
  }
  if (ops.rotateServer && api) {
    const rotator = new CertificateRotator({
      kind: 'server',
      certDir: ops.certDir,
      request: servingCertRequest(deps.nodeName, [deps.nodeIP]),
      api: () => api,
      onRotated: (pair) => deps.setServingCert?.({ cert: pair.certPem, key: pair.keyPem }),
      log: deps.log,
    });
    rotator.start();
    stops.push(() => rotator.stop());
  }
  return () => stops.forEach((stop) => stop());
}

/** Resolves with the node shutdown signal when it is not one of the stop signals (SIGTERM, SIGINT). */
export function nodeShutdownSignal(ops: NodeOps): { received: Promise<void>; dispose(): void } {
  let onSignal = () => undefined as void;
  const received = new Promise<void>((resolve) => (onSignal = () => resolve()));
  const own = ops.shutdown && !['SIGTERM', 'SIGINT'].includes(ops.shutdownSignal);
  if (own) process.on(ops.shutdownSignal, onSignal);
  return {
    received: own ? received : new Promise<void>(() => undefined),
    dispose: () => {
      if (own) process.off(ops.shutdownSignal, onSignal);
    },
  };
}

/** The connected agent's API client, reloaded when the client certificate rotates. */
export async function reloadingKubeApi(kubeconfig: string) {
  const { ReloadingKubeApi } = await import('../agent/connected/reloading_api');
  return new ReloadingKubeApi(() => loadKubeApi(kubeconfig));
}
