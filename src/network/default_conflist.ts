// The network nodelet uses when the administrator's conf dir holds none: a bridge with host-local
// IPAM on the pod CIDR, hostPorts through portmap, the bandwidth annotations through bandwidth.
// `lo` is brought up by the daemon when it makes the pod's network namespace, not by the loopback
// plugin: one Go program less to start on every pod start and stop. The list lives in nodelet's
// own state (`<cniCacheDir>/net.d`), never in /etc/cni/net.d: nodelet does not write into a
// directory other runtimes and the administrator share, and a daemon started in a temporary root
// leaves nothing behind on the host.
//
// Pod traffic stays on the machine: ipMasq is off and the pod gets no default route, only the
// route to its own subnet (through the bridge, whose address is the gateway). portmap keeps its
// default snat, which masquerades only connections from the host's own 127.0.0.1 to a hostPort:
// without it, a hostPort on 127.0.0.1 cannot be reached (the pod would answer to 127.0.0.1).
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { invalidArgument } from '../common/errors';
import type { NetworkConfList } from './conf';
import { writeFileAtomic } from '../common/atomic_write';

export const DEFAULT_NETWORK_NAME = 'nodelet';
export const DEFAULT_CONFLIST_FILE = '10-nodelet.conflist';
export const DEFAULT_BRIDGE = 'nodelet0';
/** Debian's plugins (1.1.1) speak up to 1.0.0. */
export const CNI_VERSION = '1.0.0';

export interface DefaultNetworkOptions {
  podCidr: string;
  bridge: string;
  /** host-local's allocation directory, kept beside nodelet's other CNI state. */
  ipamDataDir: string;
}

function defaultConflist(options: DefaultNetworkOptions): NetworkConfList {
  const subnet = parseIpv4Cidr(options.podCidr);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(options.bridge)) {
    throw invalidArgument(
      `Cannot use bridge name '${options.bridge}': at most 15 letters, digits, '_', '.', '-'`,
    );
  }
  return {
    cniVersion: CNI_VERSION,
    name: DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: options.bridge,
        isGateway: true,
        // After UpdateRuntimeConfig the new range's gateway replaces the old one on the bridge
        // (without it, bridge 1.1.1 refuses every ADD on the new range). Pods of the old range
        // keep their addresses but lose the host route until they are recreated.
        forceAddress: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet }]],
          dataDir: options.ipamDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ],
  };
}

/** Writes nodelet's conflist to `<dir>/10-nodelet.conflist` atomically and returns its path. */
export function writeDefaultConflist(dir: string, options: DefaultNetworkOptions): string {
  const list = defaultConflist(options);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, DEFAULT_CONFLIST_FILE);
  writeFileAtomic(file, JSON.stringify(list, null, 2) + '\n', 0o644);
  return file;
}

/** "10.88.7.1/16" → "10.88.0.0/16"; throws InvalidArgument for anything but an IPv4 CIDR of /8–/30. */
export function parseIpv4Cidr(cidr: string): string {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  const bits = m ? Number(m[2]) : NaN;
  if (!m || !net.isIPv4(m[1]) || bits < 8 || bits > 30) {
    throw invalidArgument(
      `Cannot use pod CIDR '${cidr}': expected an IPv4 range from /8 to /30, e.g. 10.88.0.0/16`,
    );
  }
  const value = m[1].split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const base = (value & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join('.')}/${bits}`;
}
