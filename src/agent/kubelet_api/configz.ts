// /configz: the agent's effective configuration as the kubelet shows its own, a v1beta1
// KubeletConfiguration under "kubeletconfig". Only fields the agent really acts on are set, under
// the kubelet's names; settings the kubelet keeps as flags (root dir, kubeconfig, node name, node IP)
// have no field and are left out, and so is anything secret: files are named, never read.
import path from 'node:path';
import type { KubeletApiConfig } from './setup';

/** What `nodelet agent` runs with, besides its API server's settings. */
export interface AgentSettings {
  /** The manifest directory (standalone mode, or static pods beside the API's). */
  staticPodPath?: string;
  /** How often the manifest directory is read again. */
  fileCheckFrequencyMs: number;
  containerRuntimeEndpoint: string;
  cgroupDriver: string;
  cgroupRoot: string;
  podLogsDir: string;
  /** The Node's pod capacity: connected mode only. */
  maxPods?: number;
  /** How often API volumes are read again: connected mode only. */
  syncFrequencyMs?: number;
  imageGc: { highThresholdPercent: number; lowThresholdPercent: number; minAgeMs: number };
  /** --cluster-dns, --cluster-domain, --resolv-conf. */
  dns?: { clusterDNS: string[]; clusterDomain: string; resolvConf: string };
}

/** The serving pair as loaded: the configured files, or the self-signed ones in --cert-dir. */
export interface ServingFiles {
  certFile: string;
  keyFile: string;
}

/** A duration as Go's time.Duration prints it (metav1.Duration in JSON): 20s, 2m0s, 1h0m0s, 500ms. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${trim((ms % 60_000) / 1000)}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  return m > 0 ? `${m}m${s}` : s;
}

const trim = (n: number) => String(Number(n.toFixed(3)));

/** The JSON /configz answers. */
export function kubeletConfigz(
  agent: AgentSettings,
  api: KubeletApiConfig,
  serving: ServingFiles,
): { kubeletconfig: Record<string, unknown> } {
  const webhook = api.authorizationMode === 'Webhook';
  return {
    kubeletconfig: {
      kind: 'KubeletConfiguration',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      enableServer: true,
      ...(agent.staticPodPath !== undefined
        ? {
            staticPodPath: path.resolve(agent.staticPodPath),
            fileCheckFrequency: goDuration(agent.fileCheckFrequencyMs),
          }
        : {}),
      address: api.address,
      port: api.port,
      // The agent has no read-only port and no separate healthz listener.
      readOnlyPort: 0,
      healthzPort: 0,
      tlsCertFile: serving.certFile,
      tlsPrivateKeyFile: serving.keyFile,
      authentication: {
        x509: api.clientCaFile ? { clientCAFile: api.clientCaFile } : {},
        webhook: { enabled: api.authenticationTokenWebhook, cacheTTL: '2m0s' },
        anonymous: { enabled: api.anonymousAuth },
      },
      authorization: {
        mode: api.authorizationMode,
        ...(webhook ? { webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' } } : {}),
      },
      containerRuntimeEndpoint: agent.containerRuntimeEndpoint,
      cgroupDriver: agent.cgroupDriver,
      cgroupRoot: agent.cgroupRoot,
      podLogsDir: agent.podLogsDir,
      ...(agent.maxPods !== undefined ? { maxPods: agent.maxPods } : {}),
      ...(agent.syncFrequencyMs !== undefined ? { syncFrequency: goDuration(agent.syncFrequencyMs) } : {}),
      imageMinimumGCAge: goDuration(agent.imageGc.minAgeMs),
      imageGCHighThresholdPercent: agent.imageGc.highThresholdPercent,
      imageGCLowThresholdPercent: agent.imageGc.lowThresholdPercent,
      ...(agent.dns
        ? {
            ...(agent.dns.clusterDNS.length ? { clusterDNS: agent.dns.clusterDNS } : {}),
            ...(agent.dns.clusterDomain ? { clusterDomain: agent.dns.clusterDomain } : {}),
            resolvConf: agent.dns.resolvConf,
          }
        : {}),
    },
  };
}
