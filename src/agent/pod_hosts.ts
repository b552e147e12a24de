// The pod's /etc/hosts as the kubelet manages it (kubelet_pods.go makeHostsMount): written to
// <pod dir>/etc-hosts before each container starts and bind-mounted over the runtime's own, so
// the pod's IP, its FQDN from spec.subdomain and spec.hostAliases resolve inside the pod.
import fs from 'node:fs';
import path from 'node:path';
import type { Mount } from '../gen/runtime/v1/Mount';
import { podHostnameAndDomain } from './pod_dns';
import type { Container, Pod } from './pod_spec';

export const ETC_HOSTS = '/etc/hosts';

export type HostAlias = { ip: string; hostnames?: string[] };

function aliasLines(aliases: HostAlias[]): string {
  if (aliases.length === 0) return '';
  const lines = aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`);
  return `\n# Entries added by HostAliases.\n${lines.join('')}`;
}

/** A pod of its own network: localhost, the pod's IPs under its name (and FQDN), then the aliases. */
export function managedHostsContent(opts: {
  podIPs: string[];
  hostname: string;
  domain: string;
  aliases: HostAlias[];
}): string {
  const names = opts.domain ? `${opts.hostname}.${opts.domain}\t${opts.hostname}` : opts.hostname;
  return [
    '# Kubernetes-managed hosts file.\n',
    '127.0.0.1\tlocalhost\n',
    '::1\tlocalhost ip6-localhost ip6-loopback\n',
    'fe00::0\tip6-localnet\n',
    'fe00::0\tip6-mcastprefix\n',
    'fe00::1\tip6-allnodes\n',
    'fe00::2\tip6-allrouters\n',
    ...opts.podIPs.map((ip) => `${ip}\t${names}\n`),
    aliasLines(opts.aliases),
  ].join('');
}

/** A pod on the host's network: the node's own hosts file, then the aliases. */
export function nodeHostsContent(nodeHosts: string, aliases: HostAlias[]): string {
  return `# Kubernetes-managed hosts file (host network).\n${nodeHosts}${aliasLines(aliases)}`;
}

/** A container that mounts a volume at /etc/hosts keeps it: the kubelet leaves it alone. */
export function mountsOwnHosts(c: Container): boolean {
  return (c.volumeMounts ?? []).some((m) => path.normalize(m.mountPath) === ETC_HOSTS);
}

/**
 * Writes the pod's hosts file and gives the mount that puts it at /etc/hosts. Called once the pod
 * has an IP (the kubelet mounts nothing while the sandbox's IP is unknown).
 */
export function writeHostsFile(
  podDir: string,
  pod: Pod,
  opts: { podIPs: string[]; hostname: string; domain: string; nodeHostsFile?: string },
): Mount {
  const file = path.join(podDir, 'etc-hosts');
  const aliases = pod.spec.hostAliases ?? [];
  const content = pod.spec.hostNetwork
    ? nodeHostsContent(fs.readFileSync(opts.nodeHostsFile ?? ETC_HOSTS, 'utf8'), aliases)
    : managedHostsContent({ podIPs: opts.podIPs, hostname: opts.hostname, domain: opts.domain, aliases });
  fs.writeFileSync(file, content, { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  return { container_path: ETC_HOSTS, host_path: file, readonly: false, selinux_relabel: true };
}

/**
 * The /etc/hosts mount of container `c`: none until the pod has an IP, nor when the container
 * mounts a volume there. Host-network pods have the node's IP.
 */
export function containerHostsMounts(
  pod: Pod,
  c: Container,
  opts: { podDir: string; podIPs: string[]; clusterDomain: string },
): Mount[] {
  if (opts.podIPs.length === 0 || mountsOwnHosts(c)) return [];
  const names = podHostnameAndDomain(pod, opts.clusterDomain);
  return [writeHostsFile(opts.podDir, pod, { podIPs: opts.podIPs, ...names })];
}
