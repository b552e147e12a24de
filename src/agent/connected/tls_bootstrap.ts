// The kubelet's TLS bootstrap (--bootstrap-kubeconfig): when --kubeconfig does not exist (or its
// client certificate has expired), the bootstrap credentials (a bootstrap token, typically) ask for a
// client certificate for system:node:<name> in system:nodes with a CSR for
// kubernetes.io/kube-apiserver-client-kubelet; once the controller-manager approved and signed it,
// the kubeconfig is written with the bootstrap kubeconfig's cluster and the new certificate
// (<cert-dir>/kubelet-client-current.pem), and the agent goes on with it.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Logger } from '../../common/log';
import { clientCertRequest, currentPairFile, readPair, requestCertificate, writePair } from './certificates';
import type { KubeApi } from './kube_api';

interface KubeconfigDoc {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster?: string; user?: string } }[];
  'current-context'?: string;
}

function readKubeconfigDoc(file: string): KubeconfigDoc {
  return (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as KubeconfigDoc;
}

/** The current context's cluster, with a relative CA path made absolute (the new file lives elsewhere). */
function currentCluster(file: string): Record<string, unknown> {
  const doc = readKubeconfigDoc(file);
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context']) ?? doc.contexts?.[0];
  const entry = doc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? doc.clusters?.[0];
  if (!entry) throw new Error(`Cannot read bootstrap kubeconfig '${file}': it has no cluster`);
  const cluster = { ...entry.cluster };
  const ca = cluster['certificate-authority'];
  if (typeof ca === 'string') cluster['certificate-authority'] = path.resolve(path.dirname(file), ca);
  return cluster;
}

/** Whether the kubeconfig can be used as it is: it exists, and a client certificate in it is valid. */
export function kubeconfigUsable(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    const doc = readKubeconfigDoc(file);
    const ctx = doc.contexts?.find((c) => c.name === doc['current-context']) ?? doc.contexts?.[0];
    const user = (doc.users?.find((u) => u.name === ctx?.context.user) ?? doc.users?.[0])?.user ?? {};
    const certFile = user['client-certificate'];
    if (typeof certFile !== 'string') return true; // a token or inline data: not ours to judge
    const resolved = path.resolve(path.dirname(file), certFile);
    const pem = fs.readFileSync(resolved, 'utf8');
    const keyFile = user['client-key'];
    const combined =
      typeof keyFile === 'string'
        ? pem + fs.readFileSync(path.resolve(path.dirname(file), keyFile), 'utf8')
        : pem;
    const tmp = `${resolved}.check-${process.pid}`;
    fs.writeFileSync(tmp, combined, { mode: 0o600 });
    try {
      return readPair(tmp) !== undefined;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } catch {
    return false;
  }
}

/** The kubeconfig the kubelet writes: the bootstrap cluster, the current client pair as the user. */
function writeKubeconfig(file: string, cluster: Record<string, unknown>, pairFile: string): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default-cluster', cluster }],
    users: [{ name: 'default-auth', user: { 'client-certificate': pairFile, 'client-key': pairFile } }],
    contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', user: 'default-auth' } }],
    'current-context': 'default-context',
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, stringifyYaml(doc), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export interface BootstrapOptions {
  kubeconfig: string;
  bootstrapKubeconfig: string;
  certDir: string;
  nodeName: string;
  log: Logger;
  /** Loads a KubeApi from a kubeconfig (api.ts's loadKubeApi; lazily, it loads client-node). */
  loadApi: (kubeconfig: string) => KubeApi;
}

/** Bootstraps the node's client certificate when the kubeconfig is missing or expired; true if it did. */
export async function bootstrapKubeconfig(options: BootstrapOptions): Promise<boolean> {
  const { kubeconfig, bootstrapKubeconfig: bootstrap, certDir, log } = options;
  if (kubeconfigUsable(kubeconfig)) return false;
  const cluster = currentCluster(bootstrap);
  // A pair from an earlier bootstrap whose kubeconfig was lost is still good.
  let pairFile = currentPairFile(certDir, 'client');
  if (!readPair(pairFile)) {
    log.info({ bootstrapKubeconfig: bootstrap }, 'no usable kubeconfig: bootstrapping a client certificate');
    const pair = await requestCertificate(
      options.loadApi(bootstrap),
      clientCertRequest(options.nodeName),
      log,
    );
    pairFile = writePair(certDir, 'client', pair);
  }
  writeKubeconfig(kubeconfig, cluster, pairFile);
  log.info({ kubeconfig }, 'kubeconfig written from the bootstrap');
  return true;
}
