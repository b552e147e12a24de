// The OCI `cgroup` mount: the container's own cgroups at /sys/fs/cgroup, as runc makes it without
// a fresh cgroupfs mount. On cgroup v2 the container's directory of the unified tree is bound there;
// on v1, a tmpfs holds one bind per hierarchy of the host (each the container's directory in that
// hierarchy) and the host's links between them (cpu -> cpu,cpuacct). The binds are made from the
// host's view, before the pivot: the init unshares its cgroup namespace only at start (main.ts).
// Workloads read their limits there (the kubelet's in-place resize specs read cpu.cfs_quota_us).
import fs from 'node:fs';
import path from 'node:path';
import type { MountSpec } from '../spec/types';
import { MOUNT_ATTR_RDONLY, MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../sys/engine';
import { closeFd, fdPath, openOrCreateInRoot, type Root } from './in_root';
import { mountAttrs, parseMountOptions } from './options';
import type { RootfsSys } from './rootfs_sys';

const CGROUP_ROOT = '/sys/fs/cgroup';

export interface CgroupMountPoint {
  /** Where the host has it, e.g. /sys/fs/cgroup/cpu or /sys/fs/cgroup itself. */
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
}

/** The cgroup filesystems mounted at /sys/fs/cgroup or directly under it, from a mountinfo text. */
export function cgroupMountPoints(mountinfo: string): CgroupMountPoint[] {
  const found: CgroupMountPoint[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = unescapeMountinfo(left.split(' ')[4] ?? '');
    const fstype = right.split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    if (mountPoint !== CGROUP_ROOT && path.posix.dirname(mountPoint) !== CGROUP_ROOT) continue;
    // A later mount on the same point hides the earlier one.
    const same = found.findIndex((m) => m.mountPoint === mountPoint);
    if (same >= 0) found.splice(same, 1);
    found.push({ mountPoint, fstype });
  }
  return found;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function mountCgroupView(
  root: Root,
  spec: MountSpec,
  cgroupsPath: string | undefined,
  sys: RootfsSys,
  mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8'),
): void {
  if (!cgroupsPath) throw new Error(`Cannot mount '${spec.destination}': the container has no cgroupsPath`);
  const opts = parseMountOptions(spec.options);
  const attrs = mountAttrs(opts.flags);
  const points = cgroupMountPoints(mountinfo);
  const unified = points.find((p) => p.mountPoint === CGROUP_ROOT && p.fstype === 'cgroup2');
  const target = openOrCreateInRoot(root, spec.destination, 'directory');
  try {
    if (unified) {
      closeFd(bindOwn(path.posix.join(CGROUP_ROOT, cgroupsPath), target, spec.destination, attrs, sys));
      return;
    }
    // v1 (or hybrid): a tmpfs of our own, filled, then made read-only if asked.
    sys.mount('cgroup', fdPath(target), 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=755');
  } finally {
    fs.closeSync(target);
  }
  const view = openOrCreateInRoot(root, spec.destination, 'directory');
  try {
    // A hybrid host's cgroup2 tree (/sys/fs/cgroup/unified, no controllers of note) is left out:
    // workloads take any cgroup2 mount under /sys/fs/cgroup for a v2 host and then read v2 files
    // (the e2e framework's IsPodOnCgroupv2Node, before the resize specs read cpu.max).
    for (const point of points.filter((p) => p.fstype === 'cgroup')) {
      const name = path.posix.basename(point.mountPoint);
      const own = path.posix.join(point.mountPoint, cgroupsPath);
      // A hierarchy the manager does not use (none of its files) has no directory for us: left out.
      if (!fs.existsSync(own)) continue;
      fs.mkdirSync(path.join(fdPath(view), name));
      const sub = openOrCreateInRoot(root, path.posix.join(spec.destination, name), 'directory');
      try {
        closeFd(bindOwn(own, sub, path.posix.join(spec.destination, name), attrs, sys));
      } finally {
        fs.closeSync(sub);
      }
    }
    // The host's links (cpu -> cpu,cpuacct on hosts that co-mount them), where they lead to a bind made.
    for (const entry of fs.readdirSync(CGROUP_ROOT, { withFileTypes: true })) {
      if (!entry.isSymbolicLink()) continue;
      const link = fs.readlinkSync(path.join(CGROUP_ROOT, entry.name));
      if (fs.existsSync(path.join(fdPath(view), link)))
        fs.symlinkSync(link, path.join(fdPath(view), entry.name));
    }
    if (attrs & MOUNT_ATTR_RDONLY) sys.mountSetattr(fdPath(view), MOUNT_ATTR_RDONLY, 0, false);
  } finally {
    fs.closeSync(view);
  }
}

function bindOwn(source: string, targetFd: number, what: string, attrs: number, sys: RootfsSys): number {
  return sys.bindTree(source, targetFd, { recursive: false, set: attrs, recursiveSet: 0, what });
}
