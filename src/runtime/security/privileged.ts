// What "privileged" changes in a container spec besides capabilities (capabilitiesFor) and
// seccomp (seccompFor): every host device, no masked or read-only paths, and a writable /sys and
// cgroupfs — as containerd's WithPrivileged and CRI-O do.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerSpec, LinuxDevice } from '../spec';

// Directories under /dev that hold per-mount or per-session nodes, not host devices.
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** Every character and block device under `devDir` (symlinks and /dev/console excluded). */
export function hostDevices(devDir = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a directory that vanished or cannot be read: not a device
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(full);
        continue;
      }
      if (!entry.isCharacterDevice() && !entry.isBlockDevice()) continue;
      if (full === path.join(devDir, 'console')) continue; // the container gets its own console
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(full, { bigint: true });
      } catch {
        continue;
      }
      out.push({
        path: path.join('/dev', path.relative(devDir, full)),
        type: entry.isCharacterDevice() ? 'c' : 'b',
        ...majorMinor(st.rdev),
        fileMode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
      });
    }
  };
  walk(devDir);
  return out;
}

/** `spec` made privileged: host devices added, no masking, /sys and cgroupfs writable, no seccomp. */
export function makePrivileged(spec: ContainerSpec, devDir = '/dev'): ContainerSpec {
  const have = new Set(spec.linux.devices.map((d) => d.path));
  const devices = [...spec.linux.devices, ...hostDevices(devDir).filter((d) => !have.has(d.path))];
  const writable = (m: ContainerSpec['mounts'][number]) =>
    m.type === 'sysfs' ||
    m.type === 'cgroup' ||
    m.type === 'cgroup2' ||
    m.destination.startsWith('/sys/fs/cgroup');
  return {
    ...spec,
    mounts: spec.mounts.map((m) =>
      writable(m) ? { ...m, options: m.options.filter((o) => o !== 'ro') } : m,
    ),
    linux: {
      ...spec.linux,
      devices,
      maskedPaths: [],
      readonlyPaths: [],
      seccomp: undefined,
      seccompBpf: undefined,
    },
  };
}
