// What a kubelet run changes on the host outside its own directories, prepared before it starts and
// put back after: its cgroup root, the kernel tunables its container manager rewrites, and the
// symlinks it makes under /var/log/containers (a path the kubelet does not let us move).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CGROUP_BASE = '/sys/fs/cgroup';

/**
 * Creates the kubelet's cgroup root in every hierarchy: the kubelet refuses to start when its
 * cgroup root is missing, and builds kubepods below it. cpuset children start empty, so the
 * root gets its parent's CPUs and memory nodes.
 */
export function createCgroupRoot(relative: string): void {
  for (const controller of fs.readdirSync(CGROUP_BASE)) {
    const dir = path.join(CGROUP_BASE, controller, relative);
    fs.mkdirSync(dir, { recursive: true });
    if (controller === 'cpuset') {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const parent = fs.readFileSync(path.join(CGROUP_BASE, controller, file), 'utf8').trim();
        fs.writeFileSync(path.join(dir, file), parent);
      }
    }
  }
}

// The tunables the kubelet's container manager sets when protectKernelDefaults is off
// (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables). With it on, the kubelet
// refuses to start on a host that differs, so the test lets it write them and puts them back.
const TUNABLES = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];
// Two kubelet tests may run at once: the first saves the host's values, the last puts them back.
const SAVED_DIR = path.join(os.tmpdir(), 'nodelet-kubelet-sysctls');

/** Saves the host's kernel tunables (once for concurrent runs); returns the release for this run. */
export function guardKernelTunables(tag: string): () => void {
  fs.mkdirSync(SAVED_DIR, { recursive: true });
  const saved = path.join(SAVED_DIR, 'original.json');
  const values = Object.fromEntries(
    TUNABLES.map((t) => [t, fs.readFileSync(`/proc/sys/${t}`, 'utf8').trim()]),
  );
  try {
    fs.writeFileSync(saved, JSON.stringify(values), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = path.join(SAVED_DIR, `holder-${tag}`);
  fs.writeFileSync(holder, String(process.pid));
  return () => {
    fs.rmSync(holder, { force: true });
    if (fs.readdirSync(SAVED_DIR).some((f) => f.startsWith('holder-'))) return;
    if (fs.existsSync(saved)) {
      const original = JSON.parse(fs.readFileSync(saved, 'utf8')) as Record<string, string>;
      for (const [t, v] of Object.entries(original)) fs.writeFileSync(`/proc/sys/${t}`, v);
    }
    fs.rmSync(SAVED_DIR, { recursive: true, force: true });
  };
}

/** Removes the kubelet's /var/log/containers links that point into this run's pod log directory. */
export function removeContainerLogLinks(podLogsDir: string): void {
  const dir = '/var/log/containers';
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const link = path.join(dir, name);
    let target: string;
    try {
      target = fs.readlinkSync(link);
    } catch {
      continue;
    }
    if (target.startsWith(podLogsDir + '/')) fs.rmSync(link, { force: true });
  }
}

/**
 * The address other machines would reach this one at, for the node IP (the kubelet refuses a
 * loopback one): that of the default route's interface, else of the first interface that is not a
 * test bridge (other tests' bridges come and go while this one runs).
 */
export function hostAddress(): string {
  const route = spawnSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout ?? '';
  const dev = / dev (\S+)/.exec(route)?.[1];
  const interfaces = os.networkInterfaces();
  const candidates = [
    ...(dev ? [dev] : []),
    ...Object.keys(interfaces).filter((name) => !/^(nlt|cni|veth|lo)/.test(name)),
  ];
  for (const name of candidates)
    for (const a of interfaces[name] ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('Cannot pick a node IP: this machine has no non-loopback IPv4 address');
}
