// Which device nodes a container may open or create: runc's default allow-list after denying
// everything. Without it a root container with CAP_MKNOD could make and open a node for a host
// disk. Privileged containers get every device.
import type { DeviceRule } from '../spec/types';

const rwm = (type: 'c' | 'b', major: number | undefined, minor: number | undefined): DeviceRule => ({
  allow: true,
  type,
  major,
  minor,
  access: 'rwm',
});

export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: 'rwm' },
  // mknod of any node is allowed (opening it is not), as runc and containerd do.
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  rwm('c', 1, 3), // /dev/null
  rwm('c', 1, 5), // /dev/zero
  rwm('c', 1, 7), // /dev/full
  rwm('c', 1, 8), // /dev/random
  rwm('c', 1, 9), // /dev/urandom
  rwm('c', 5, 0), // /dev/tty
  rwm('c', 5, 1), // /dev/console
  rwm('c', 5, 2), // /dev/ptmx
  rwm('c', 136, undefined), // /dev/pts/*
  rwm('c', 10, 200), // /dev/net/tun
];

export const ALL_DEVICES: readonly DeviceRule[] = [{ allow: true, access: 'rwm' }];

/** The devices cgroup line of a rule, e.g. "c 1:3 rwm". */
export function deviceRuleLine(rule: DeviceRule): string {
  const id = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
  return `${rule.type ?? 'a'} ${id(rule.major)}:${id(rule.minor)} ${rule.access || 'rwm'}`;
}
