// An exec'd process belongs in the container's cgroups (its memory and pids count there). The
// caller copies the target's membership, hierarchy by hierarchy, before the process runs.
import fs from 'node:fs';
import path from 'node:path';

interface CgroupMount {
  dir: string;
  /** v1 controllers (and name=…) of the hierarchy; empty for v2. */
  controllers: string[];
  v2: boolean;
}

function cgroupMounts(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOptions = ''] = right.split(' ');
    const dir = left.split(' ')[4] as string;
    if (fstype === 'cgroup2') mounts.push({ dir, controllers: [], v2: true });
    else if (fstype === 'cgroup') {
      mounts.push({
        dir,
        controllers: superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro'),
        v2: false,
      });
    }
  }
  return mounts;
}

/** Writes pid into the cgroup.procs of every hierarchy where targetPid sits somewhere else. */
export function joinCgroupsOf(targetPid: number, pid: number): void {
  const theirs = parseProcCgroup(fs.readFileSync(`/proc/${targetPid}/cgroup`, 'utf8'));
  const ours = new Map(
    parseProcCgroup(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).map((e) => [e.key, e.path]),
  );
  const mounts = cgroupMounts();
  for (const entry of theirs) {
    if (ours.get(entry.key) === entry.path) continue;
    const mount = mounts.find((m) =>
      entry.key === '' ? m.v2 : !m.v2 && entry.key.split(',').every((c) => m.controllers.includes(c)),
    );
    if (!mount) continue;
    fs.writeFileSync(path.join(mount.dir, entry.path, 'cgroup.procs'), String(pid));
  }
}

function parseProcCgroup(text: string): { key: string; path: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, key = '', ...rest] = line.split(':');
      return { key, path: rest.join(':') };
    });
}
