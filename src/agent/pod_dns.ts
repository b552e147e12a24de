// A pod's resolver settings and host name as the kubelet makes them (pkg/kubelet/network/dns and
// GeneratePodHostNameAndDomain): the runtime gets them through PodSandboxConfig.dns_config and
// .hostname and writes the pod's resolv.conf itself.
import fs from 'node:fs';
import type { Pod } from './pod_spec';

/** The node's DNS settings: the kubelet's --cluster-dns, --cluster-domain and --resolv-conf. */
export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain: string;
  /** The resolv.conf pods with dnsPolicy Default start from; '' means none (the kubelet's rule). */
  resolvConf: string;
}

export const DEFAULT_DNS_SETTINGS: DnsSettings = {
  clusterDNS: [],
  clusterDomain: '',
  resolvConf: '/etc/resolv.conf',
};

/** The API's limits (validation.MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars). */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
/** A search domain longer than a DNS subdomain makes some resolvers (glibc 2.28) abort. */
const MAX_SEARCH_DOMAIN_CHARS = 253;

export interface DnsWarning {
  reason: 'MissingClusterDNS' | 'DNSConfigForming';
  message: string;
}

export type ResolverConfig = { servers: string[]; searches: string[]; options: string[] };

/** resolv.conf text as the kubelet reads it: the last `search` line wins, '.' and trailing dots go. */
export function parseResolvConf(text: string): ResolverConfig {
  const out: ResolverConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#') || raw.startsWith(';')) continue;
    const [key, ...fields] = raw.trim().split(/\s+/);
    if (key === 'nameserver' && fields.length > 0) out.servers.push(fields[0]);
    else if (key === 'search')
      out.searches = fields.filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') out.options = mergeOptions(out.options, fields);
  }
  return out;
}

function readHostResolvConf(file: string): ResolverConfig {
  if (file === '') return { servers: [], searches: [], options: [] };
  // A node without the file gives what an empty one would: the runtime then copies its own.
  return parseResolvConf(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
}

const unique = (items: string[]) => [...new Set(items)];

/** Options by name, a later one replacing an earlier one of the same name, in first-seen order. */
function mergeOptions(existing: string[], added: string[]): string[] {
  const byName = new Map<string, string>();
  for (const op of [...existing, ...added]) {
    const i = op.indexOf(':');
    byName.set(i === -1 ? op : op.slice(0, i), i === -1 ? '' : op.slice(i + 1));
  }
  return [...byName].map(([name, value]) => (value ? `${name}:${value}` : name));
}

type DnsKind = 'None' | 'Cluster' | 'Host';

/** ClusterFirst on the host's network means the host's resolver (the kubelet's getPodDNSType). */
function dnsKind(pod: Pod): DnsKind {
  switch (pod.spec.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'None';
    case 'ClusterFirstWithHostNet':
      return 'Cluster';
    case 'ClusterFirst':
      return pod.spec.hostNetwork ? 'Host' : 'Cluster';
    default:
      return 'Host';
  }
}

function clusterSearches(pod: Pod, domain: string, host: string[]): string[] {
  if (!domain) return host;
  const ns = pod.metadata.namespace ?? 'default';
  return unique([`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...host]);
}

/** The search list cut to the limits the resolver and the API take, last domains first. */
function searchesWithinLimits(searches: string[], warn: (m: string) => void): string[] {
  let cut = searches.length > MAX_DNS_SEARCH_PATHS;
  let out = searches.slice(0, MAX_DNS_SEARCH_PATHS);
  const short = out.filter((s) => s.length <= MAX_SEARCH_DOMAIN_CHARS);
  cut ||= short.length < out.length;
  out = short;
  while (out.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    out = out.slice(0, -1);
    cut = true;
  }
  if (cut)
    warn(
      `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(' ')}`,
    );
  return out;
}

function serversWithinLimits(servers: string[], warn: (m: string) => void): string[] {
  if (servers.length <= MAX_DNS_NAMESERVERS) return servers;
  const out = servers.slice(0, MAX_DNS_NAMESERVERS);
  warn(
    `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${out.join(' ')}`,
  );
  return out;
}

/**
 * The pod's DNSConfig for the runtime, and what the kubelet would say about it as events: cluster
 * DNS asked for but not configured (the pod gets the host's resolver), or limits exceeded.
 */
export function podDnsConfig(
  pod: Pod,
  settings: DnsSettings,
): { config: ResolverConfig; warnings: DnsWarning[] } {
  const warnings: DnsWarning[] = [];
  let config: ResolverConfig = readHostResolvConf(settings.resolvConf);
  let kind = dnsKind(pod);
  if (kind === 'None') config = { servers: [], searches: [], options: [] };
  if (kind === 'Cluster') {
    if (settings.clusterDNS.length > 0) {
      // The cluster DNS is the only nameserver: it forwards what it cannot answer itself.
      config = {
        servers: [...settings.clusterDNS],
        searches: clusterSearches(pod, settings.clusterDomain, config.searches),
        options: ['ndots:5'],
      };
    } else {
      // The kubelet's event on the pod, which names it as format.Pod does.
      const who = `${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})`;
      const message = `pod: "${who}". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`;
      warnings.push({ reason: 'MissingClusterDNS', message });
      kind = 'Host';
    }
  }
  if (kind === 'Host' && settings.resolvConf === '') {
    // No resolver file: "the nameserver on the local machine", and no search of the runtime's.
    config = { servers: ['127.0.0.1'], searches: ['.'], options: [] };
  }
  const extra = pod.spec.dnsConfig;
  if (extra) {
    config = {
      servers: unique([...config.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...config.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(
        config.options,
        (extra.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name!)),
      ),
    };
  }
  const warn = (message: string) => warnings.push({ reason: 'DNSConfigForming', message });
  return {
    config: {
      servers: serversWithinLimits(config.servers, warn),
      searches: searchesWithinLimits(config.searches, warn),
      options: config.options,
    },
    warnings,
  };
}

const HOSTNAME_MAX = 63;
/** The kernel's nodename field holds 64 characters (65 with the terminating NUL). */
const FQDN_MAX = 64;

/** Names the pod cannot run with (the kubelet refuses to create its sandbox). */
export class PodHostnameError extends Error {}

/**
 * The pod's host name (spec.hostname, else its name cut to 63 characters without a trailing '-' or
 * '.') and its domain `<subdomain>.<namespace>.svc.<cluster domain>` when spec.subdomain is set.
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.spec.hostname || pod.metadata.name;
  if (hostname.length > HOSTNAME_MAX) {
    hostname = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
    if (!hostname) throw new PodHostnameError(`hostname for pod "${pod.metadata.name}" was invalid`);
  }
  const ns = pod.metadata.namespace ?? 'default';
  const domain = pod.spec.subdomain ? `${pod.spec.subdomain}.${ns}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** What the sandbox's UTS namespace is named: the FQDN with setHostnameAsFQDN and a subdomain. */
export function kernelHostname(pod: Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (!domain || !pod.spec.setHostnameAsFQDN) return hostname;
  const fqdn = `${hostname}.${domain}`;
  if (fqdn.length > FQDN_MAX)
    throw new PodHostnameError(
      `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX} characters is the max, ${fqdn.length} characters requested)`,
    );
  return fqdn;
}
