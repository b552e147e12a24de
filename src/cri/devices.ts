// The CRI's ContainerConfig.devices as containerd reads them (internal/cri/opts WithDevices, pkg/oci
// WithDevices): the host path is stat'ed through its symlinks; a device node becomes one node at
// the container path, a directory every device node under it at the same place below the container
// path; each node gets an allow rule with the CRI's permissions, appended AFTER the default rules.
// The rules only add: a device already in the default list (/dev/null, /dev/zero…) keeps rwm.
// The host's /dev is read through DeviceHost (real_host.ts), so these decisions run in unit tests.
import path from 'node:path';
import type { Device__Output } from '../gen/runtime/v1/Device';
import { invalidArgument, messageOf } from '../common/errors';
import type { DeviceRule, LinuxDevice } from '../runtime';
import type { DeviceHost } from './host';

export interface ContainerDevices {
  /** Nodes the init makes in the container's /dev. */
  nodes: LinuxDevice[];
  /** Allow rules to append after the default ones. */
  rules: DeviceRule[];
}

/** glibc's gnu_dev_major/minor: 12 bits of major and 20 of minor split around the low byte. */
export function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * The nodes and rules of a container's devices. A privileged container also gets every host
 * device (containerd's WithHostDevices), without /dev/ptmx, which must stay the link into the
 * container's own devpts. Throws INVALID_ARGUMENT before anything is made.
 */
export function containerDevices(
  devices: readonly Device__Output[],
  options: { privileged: boolean; host: DeviceHost },
): ContainerDevices {
  const byPath = new Map<string, LinuxDevice>();
  if (options.privileged) {
    for (const d of options.host.hostDevices()) if (d.path !== '/dev/ptmx') byPath.set(d.path, d);
  }
  const rules: DeviceRule[] = [];
  for (const device of devices) {
    const access = permissionsOf(device);
    for (const node of nodesOf(device, options.host)) {
      byPath.set(node.path, node); // a later device at the same path replaces the earlier one
      rules.push({ allow: true, type: node.type as 'c' | 'b', major: node.major, minor: node.minor, access });
    }
  }
  return { nodes: [...byPath.values()], rules };
}

function permissionsOf(device: Device__Output): string {
  const access = device.permissions || 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw invalidArgument(
      `Cannot add device '${device.host_path}': permissions '${device.permissions}' are not a subset of "rwm"`,
    );
  }
  return access;
}

function nodesOf(device: Device__Output, host: DeviceHost): LinuxDevice[] {
  const fail = (reason: string) => invalidArgument(`Cannot add device '${device.host_path}': ${reason}`);
  if (!device.host_path) throw fail('host_path is empty');
  const containerPath = device.container_path || device.host_path;
  const normalized = path.posix.normalize(containerPath);
  // The init makes nodes on the container's /dev tmpfs only: elsewhere they would land in the image.
  if (!path.posix.isAbsolute(containerPath) || !normalized.startsWith('/dev/')) {
    throw fail(`container path '${containerPath}' is not under /dev`);
  }
  let found: ReturnType<DeviceHost['deviceAt']>;
  try {
    found = host.deviceAt(device.host_path);
  } catch (err) {
    throw fail(messageOf(err));
  }
  if (found === 'directory') return host.devicesUnder(device.host_path, normalized);
  if (!found) throw fail('not a character or block device');
  return [{ path: normalized, ...found }];
}
