// What a finished kubelet run may not leave behind: mounts under its dir, its cgroups, its
// /var/log/containers links, its temp dir. An empty list means the host is as it was.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestKubelet } from './kubelet';

export function leftovers(k: Pick<TestKubelet, 'dir' | 'cgroupRoot' | 'podLogsDir'>): string[] {
  const found: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint?.startsWith(k.dir)) found.push(`mount ${mountPoint}`);
  }
  for (const controller of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', controller, k.cgroupRoot);
    if (fs.existsSync(dir)) found.push(`cgroup ${dir}`);
  }
  if (fs.existsSync('/var/log/containers')) {
    for (const name of fs.readdirSync('/var/log/containers')) {
      const link = path.join('/var/log/containers', name);
      const target = fs.lstatSync(link).isSymbolicLink() ? fs.readlinkSync(link) : '';
      if (target.startsWith(k.podLogsDir)) found.push(`log link ${link}`);
    }
  }
  if (fs.existsSync(k.dir)) found.push(`dir ${k.dir}`);
  return found;
}

/** Whether something listens on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Mount points at or below dir (a daemon's pinned pod namespaces live under its run dir). */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')));
}
