// The host the daemon runs on, as the CRI layer sees it (host.ts): os.hostname, /proc's
// cap_last_cap, the host's files and /dev, libseccomp, and src/runtime's namespace pins and
// mount(2).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  pinNamespaces,
  pinPodUserNamespace,
  startPidNamespaceInit,
  unpinNamespaces,
  type LinuxDevice,
} from '../runtime';
import { mount, umount } from '../runtime/sys';
import { compileSeccomp, hostDevices, lastCap, loadSeccompProfile } from '../runtime/security';
import { majorMinor } from './devices';
import type { CriHost, HostDeviceNode } from './host';

// Directories of per-mount or per-session nodes, never devices to pass (containerd skips the same).
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

export const realCriHost: CriHost = {
  hostname: () => os.hostname(),
  lastCap: () => lastCap(),
  loadSeccompProfile: (file, caps) => loadSeccompProfile(file, caps),
  compileSeccomp: (spec) => compileSeccomp(spec),
  deviceAt(hostPath) {
    const st = fs.statSync(hostPath, { bigint: true }); // follows symlinks, as containerd does
    return st.isDirectory() ? 'directory' : nodeOf(st);
  },
  devicesUnder,
  hostDevices: () => hostDevices(),
  mount,
  umount,
  pinNamespaces,
  pinPodUserNamespace,
  unpinNamespaces,
  startPidNamespaceInit: (runDir, podId, userns) => startPidNamespaceInit(runDir, podId, { userns }),
};

function nodeOf(st: fs.BigIntStats): HostDeviceNode | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  return {
    type: st.isCharacterDevice() ? 'c' : 'b',
    ...majorMinor(st.rdev),
    fileMode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/** Every device node below a host directory; symlinks inside it are not followed. */
function devicesUnder(hostDir: string, containerDir: string): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const host = path.join(hostDir, entry.name);
    const inside = path.posix.join(containerDir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...devicesUnder(host, inside));
      continue;
    }
    if (entry.name === 'console') continue; // the container gets its own console
    if (!entry.isCharacterDevice() && !entry.isBlockDevice()) continue;
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(host, { bigint: true });
    } catch {
      continue; // vanished since the listing
    }
    const node = nodeOf(st);
    if (node) out.push({ path: inside, ...node });
  }
  return out;
}
