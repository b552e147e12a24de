// The files a pod's containers see as /etc/hostname, /etc/hosts and /etc/resolv.conf, written once
// per sandbox and bind-mounted into each container.
import fs from 'node:fs';
import path from 'node:path';
import type { DNSConfig__Output } from '../gen/runtime/v1/DNSConfig';

export interface SandboxFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export function sandboxFilePaths(dir: string): SandboxFiles {
  return {
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
}

export function writeSandboxFiles(
  dir: string,
  opts: { hostname: string; hostNetwork: boolean; dns?: DNSConfig__Output | null; ips?: string[] },
): SandboxFiles {
  const files = sandboxFilePaths(dir);
  fs.writeFileSync(files.hostname, `${opts.hostname}\n`, { mode: 0o644 });
  fs.writeFileSync(files.hosts, hostsFile(opts.hostname, opts.hostNetwork, opts.ips ?? []), { mode: 0o644 });
  fs.writeFileSync(files.resolvConf, resolvConf(opts.dns), { mode: 0o644 });
  return files;
}

/** Adds the pod's own address to /etc/hosts once the network gave it one. */
export function addPodAddresses(dir: string, hostname: string, ips: string[]): void {
  if (ips.length === 0) return;
  const file = sandboxFilePaths(dir).hosts;
  fs.appendFileSync(file, ips.map((ip) => `${ip}\t${hostname}\n`).join(''));
}

function hostsFile(hostname: string, hostNetwork: boolean, ips: string[]): string {
  if (hostNetwork) return readOr('/etc/hosts', `127.0.0.1\tlocalhost\n`);
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...ips.map((ip) => `${ip}\t${hostname}`),
  ];
  return lines.join('\n') + '\n';
}

function resolvConf(dns: DNSConfig__Output | null | undefined): string {
  const given = dns && (dns.servers.length > 0 || dns.searches.length > 0 || dns.options.length > 0);
  if (!given) return readOr('/etc/resolv.conf', '');
  const lines: string[] = [];
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  for (const server of dns.servers) lines.push(`nameserver ${server}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
