// What the eviction manager measures on the host (the kubelet's summary provider, reduced to what
// the signals need): each signal as available/capacity, and each pod's use of memory, disk and
// process ids. Files and statfs only; nothing here changes the host.
import fs from 'node:fs';
import path from 'node:path';
import type { Signal } from './config';

export interface Observation {
  available: number;
  capacity: number;
}

export type Observations = Partial<Record<Signal, Observation>>;

export interface HostPaths {
  /** The kubelet's root directory: its filesystem is nodefs. */
  rootDir: string;
  /** The runtime's image filesystem (the CRI ImageFsInfo mountpoint); nodefs when absent. */
  imageFsDir?: string;
  /** /proc, for tests. */
  procDir?: string;
}

function statfs(dir: string): fs.StatsFs | undefined {
  try {
    return fs.statfsSync(dir);
  } catch {
    return undefined;
  }
}

function meminfo(procDir: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const line of fs.readFileSync(path.join(procDir, 'meminfo'), 'utf8').split('\n')) {
      const m = /^(\S+):\s+(\d+)(?: kB)?$/.exec(line);
      if (m) out.set(m[1], Number(m[2]) * (line.endsWith('kB') ? 1024 : 1));
    }
  } catch {
    // no /proc/meminfo: the memory signal is not observed
  }
  return out;
}

const readInt = (file: string): number | undefined => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

/** Every signal this host can show now. */
export function observeHost(paths: HostPaths): Observations {
  const proc = paths.procDir ?? '/proc';
  const obs: Observations = {};
  const mem = meminfo(proc);
  const total = mem.get('MemTotal');
  const avail = mem.get('MemAvailable');
  // The kubelet: capacity minus the root cgroup's working set (usage less inactive file pages);
  // MemAvailable is the kernel's own estimate of the same, on v1 and v2 alike.
  if (total !== undefined && avail !== undefined)
    obs['memory.available'] = { available: avail, capacity: total };
  const fsSignals = (dir: string, bytesSignal: Signal, inodesSignal: Signal) => {
    const s = statfs(dir);
    if (!s || s.blocks === 0) return;
    obs[bytesSignal] = { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize };
    if (s.files > 0) obs[inodesSignal] = { available: s.ffree, capacity: s.files };
  };
  fsSignals(paths.rootDir, 'nodefs.available', 'nodefs.inodesFree');
  fsSignals(paths.imageFsDir ?? paths.rootDir, 'imagefs.available', 'imagefs.inodesFree');
  // pid.available: the lower of pid_max and threads-max, less the tasks there are now.
  const pidMax = Math.min(
    readInt(path.join(proc, 'sys/kernel/pid_max')) ?? Infinity,
    readInt(path.join(proc, 'sys/kernel/threads-max')) ?? Infinity,
  );
  let tasks: number | undefined;
  try {
    tasks = Number(fs.readFileSync(path.join(proc, 'loadavg'), 'utf8').split(' ')[3].split('/')[1]);
  } catch {
    tasks = undefined;
  }
  if (Number.isFinite(pidMax) && tasks !== undefined && Number.isFinite(tasks))
    obs['pid.available'] = { available: pidMax - tasks, capacity: pidMax };
  return obs;
}

/** Bytes and inodes under a directory, not crossing into other filesystems (du -sx), no symlinks followed. */
export function directoryUsage(dir: string): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 0;
  let dev: number | undefined;
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return; // gone while walking
    }
    if (dev === undefined) dev = st.dev;
    else if (st.dev !== dev) return;
    inodes++;
    bytes += st.blocks * 512;
    if (!st.isDirectory()) return;
    let names: string[] = [];
    try {
      names = fs.readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) walk(path.join(p, n));
  };
  walk(dir);
  return dev === undefined ? { bytes: 0, inodes: 0 } : { bytes, inodes };
}
