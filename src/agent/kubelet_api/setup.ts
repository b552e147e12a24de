// From the kubelet's flags to a running kubelet API: the serving certificate, who may authenticate
// and how requests are authorized, the runtime client and the agent's pods. The one function the
// `nodelet agent` command calls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log';
import type { DesiredPod } from '../manifest';
import type { PodStatusView } from '../pod_status';
import { alwaysAllow, type Authorizer, type TokenReviewer } from './auth';
import { readKubeconfig, webhookAuthorizer, webhookTokenReviewer } from './api_reviews';
import { kubeletConfigz, type AgentSettings } from './configz';
import { GrpcKubeletApiCri } from './cri';
import { loadServingCert } from './serving_cert';
import { startKubeletApi, type KubeletApi } from './server';

export type AuthorizationMode = 'AlwaysAllow' | 'Webhook';

export interface KubeletApiConfig {
  address: string;
  port: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Where a self-signed serving pair is kept (the kubelet's --cert-dir). */
  certDir: string;
  clientCaFile?: string;
  anonymousAuth: boolean;
  authenticationTokenWebhook: boolean;
  authorizationMode: AuthorizationMode;
  /** Connected mode: the API server that reviews tokens and access. */
  kubeconfig?: string;
}

export interface KubeletApiDeps {
  endpoint: string;
  nodeName: string;
  pods: () => Map<string, { desired: DesiredPod; status: PodStatusView | undefined }>;
  registry: Registry;
  /** The probers' series, for /metrics/probes. */
  probeRegistry: Registry;
  /** The agent's settings, shown with the API's own on /configz. */
  settings: AgentSettings;
  log: Logger;
  /** The agent's --root-dir: checkpoint archives go under its checkpoints/. */
  rootDir?: string;
}

function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .map((a) => a?.address)
    .filter((a): a is string => !!a);
}

/** The pods as the API shows them: the manifest's object with its current status. */
export function podList(pods: KubeletApiDeps['pods']): unknown[] {
  return [...pods().values()]
    .filter((p) => p.desired.pod)
    .map(({ desired, status }) => ({ apiVersion: 'v1', kind: 'Pod', ...desired.pod, status: status ?? {} }));
}

export async function serveKubeletApi(config: KubeletApiConfig, deps: KubeletApiDeps): Promise<KubeletApi> {
  const { log } = deps;
  const needsApi = config.authenticationTokenWebhook || config.authorizationMode === 'Webhook';
  if (needsApi && !config.kubeconfig)
    throw new Error(
      'Cannot serve the kubelet API: --authentication-token-webhook and --authorization-mode=Webhook need --kubeconfig',
    );
  const conn = needsApi ? readKubeconfig(config.kubeconfig!) : undefined;
  const tokenReviewer: TokenReviewer | undefined = config.authenticationTokenWebhook
    ? webhookTokenReviewer(conn!)
    : undefined;
  const authorizer: Authorizer =
    config.authorizationMode === 'Webhook' ? webhookAuthorizer(conn!) : alwaysAllow;
  if (!config.clientCaFile && !tokenReviewer && !config.anonymousAuth)
    log.warn(
      'the kubelet API accepts no one: give --client-ca-file, --authentication-token-webhook or --anonymous-auth',
    );
  if (config.anonymousAuth && config.authorizationMode === 'AlwaysAllow')
    log.warn(
      'the kubelet API lets anyone who reaches it run commands in pods (--anonymous-auth with AlwaysAllow)',
    );

  const cert = loadServingCert({
    certFile: config.tlsCertFile,
    keyFile: config.tlsPrivateKeyFile,
    certDir: config.certDir,
    nodeName: deps.nodeName,
    addresses: hostAddresses(),
  });
  if (cert.selfSigned) log.info({ cert: cert.certFile }, 'kubelet API serves a self-signed certificate');
  const cri = new GrpcKubeletApiCri(deps.endpoint);
  try {
    const api = await startKubeletApi({
      address: config.address,
      port: config.port,
      nodeName: deps.nodeName,
      cri,
      pods: () => podList(deps.pods),
      registry: deps.registry,
      probeRegistry: deps.probeRegistry,
      configz: kubeletConfigz(deps.settings, config, {
        certFile: cert.certFile,
        keyFile: cert.selfSigned ? path.join(config.certDir, 'kubelet.key') : config.tlsPrivateKeyFile!,
      }),
      tls: cert,
      clientCa: config.clientCaFile ? fs.readFileSync(path.resolve(config.clientCaFile)) : undefined,
      authentication: { anonymous: config.anonymousAuth, tokenReviewer },
      authorizer,
      log,
      rootDir: deps.rootDir,
    });
    return {
      ...api,
      async close() {
        await api.close();
        cri.close();
      },
    };
  } catch (err) {
    cri.close();
    throw err;
  }
}
