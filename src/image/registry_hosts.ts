// Where the images of a registry host are fetched from: its mirrors in order, then the host itself.
// Plain HTTP is allowed only for hosts listed as insecure and, as Docker does, for loopback.
import { invalidArgument } from '../common/errors';
import { DOCKER_HUB } from './reference';

export interface RegistryHostsConfig {
  /** Upstream host (`docker.io`, `registry.k8s.io`) -> mirror hosts or URLs, tried in order. */
  mirrors: Record<string, string[]>;
  /** Hosts (host or host:port) that may be reached over plain HTTP. */
  insecureRegistries: string[];
}

export interface Endpoint {
  /** The host as configured, for messages and credential matching. */
  host: string;
  /** Schemes to try, in order: https then http for insecure hosts, only one otherwise. */
  schemes: Array<'https' | 'http'>;
  mirror: boolean;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/;

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

export function isInsecure(host: string, config: RegistryHostsConfig): boolean {
  return (
    LOOPBACK.test(hostName(host)) ||
    config.insecureRegistries.includes(host) ||
    config.insecureRegistries.includes(hostName(host))
  );
}

function endpointOf(entry: string, config: RegistryHostsConfig, mirror: boolean): Endpoint {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(entry);
  const host = m ? m[2] : entry.replace(/\/+$/, '');
  if (host === '' || host.includes('/')) {
    throw invalidArgument(
      `Cannot use registry endpoint '${entry}': give a host, host:port or scheme://host:port`,
    );
  }
  const insecure = isInsecure(host, config);
  if (m?.[1] === 'http' && !insecure) {
    throw invalidArgument(
      `Cannot use registry endpoint '${entry}': plain HTTP is allowed only for hosts in registry.insecureRegistries or on loopback`,
    );
  }
  const schemes: Endpoint['schemes'] = m
    ? [m[1] as 'https' | 'http']
    : insecure
      ? ['https', 'http']
      : ['https'];
  return { host, schemes, mirror };
}

/** Mirrors of `domain` in order, then the upstream itself (Docker Hub is served by registry-1). */
export function endpointsFor(domain: string, config: RegistryHostsConfig): Endpoint[] {
  const mirrors = (config.mirrors[domain] ?? []).map((entry) => endpointOf(entry, config, true));
  const upstream = endpointOf(domain === DOCKER_HUB ? 'registry-1.docker.io' : domain, config, false);
  return [...mirrors, upstream];
}
