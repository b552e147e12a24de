// The kubelet's flags for its API server, as `nodelet agent` takes them (parseArgs option specs, the
// help text, and the config they make). Kept here so the command only spreads them in.
import path from 'node:path';
import type { AuthorizationMode, KubeletApiConfig } from './setup';

const s = { type: 'string' as const };

export const KUBELET_API_FLAGS = {
  'enable-server': s,
  address: s,
  port: s,
  'tls-cert-file': s,
  'tls-private-key-file': s,
  'cert-dir': s,
  'client-ca-file': s,
  'anonymous-auth': s,
  'authentication-token-webhook': s,
  'authorization-mode': s,
};

export const KUBELET_API_HELP = `
Kubelet API (HTTPS; /pods, /containerLogs, /exec, /attach, /portForward, /stats/summary, /metrics…):
  --enable-server=true|false         serve the kubelet API (default true)
  --address IP                       listen address (default 0.0.0.0)
  --port N                           listen port (default 10250; 0 takes a free one)
  --tls-cert-file FILE               serving certificate (default: self-signed, kept in --cert-dir)
  --tls-private-key-file FILE        its key
  --cert-dir DIR                     where the self-signed pair lives (default <root-dir>/pki)
  --client-ca-file FILE              trust client certificates it signs (CN = user, O = groups)
  --anonymous-auth=true|false        let requests without credentials in as system:anonymous (default false)
  --authentication-token-webhook=true|false  review bearer tokens with the API server (needs --kubeconfig)
  --authorization-mode MODE          AlwaysAllow or Webhook (default Webhook with --kubeconfig, else AlwaysAllow)
`;

export class KubeletApiFlagError extends Error {}

function bool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new KubeletApiFlagError(`Cannot read --${name}=${value}: expected true or false`);
}

/** The server's config from the flags; undefined when --enable-server=false. */
export function kubeletApiConfig(
  values: Partial<Record<keyof typeof KUBELET_API_FLAGS, string>>,
  context: { rootDir: string; kubeconfig?: string },
): KubeletApiConfig | undefined {
  if (!bool('enable-server', values['enable-server'], true)) return undefined;
  const port = Number(values.port ?? 10250);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new KubeletApiFlagError(`Cannot read --port=${values.port}: expected a port number`);
  const mode = values['authorization-mode'] ?? (context.kubeconfig ? 'Webhook' : 'AlwaysAllow');
  if (mode !== 'AlwaysAllow' && mode !== 'Webhook')
    throw new KubeletApiFlagError(
      `Cannot read --authorization-mode=${mode}: expected AlwaysAllow or Webhook`,
    );
  return {
    address: values.address ?? '0.0.0.0',
    port,
    tlsCertFile: values['tls-cert-file'],
    tlsPrivateKeyFile: values['tls-private-key-file'],
    certDir: values['cert-dir'] ?? path.join(context.rootDir, 'pki'),
    clientCaFile: values['client-ca-file'],
    anonymousAuth: bool('anonymous-auth', values['anonymous-auth'], false),
    authenticationTokenWebhook: bool(
      'authentication-token-webhook',
      values['authentication-token-webhook'],
      !!context.kubeconfig,
    ),
    authorizationMode: mode as AuthorizationMode,
    kubeconfig: context.kubeconfig,
  };
}
