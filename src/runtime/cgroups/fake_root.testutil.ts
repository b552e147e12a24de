// A temp directory laid out like /sys/fs/cgroup, for tests of the driver's file logic without
// root ("cgroup code tested on a temp dir"). The kernel's own checks are not imitated.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type FakeLayout = 'v1' | 'hybrid' | 'v2';

export interface FakeRoot {
  root: string;
  hugepagesDir: string;
  write(rel: string, content: string): void;
  read(rel: string): string;
  exists(rel: string): boolean;
  remove(): void;
}

const V1_DIRS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd'];

export function makeFakeRoot(layout: FakeLayout): FakeRoot {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-cgroups-'));
  const root = path.join(base, 'cgroup');
  const hugepagesDir = path.join(base, 'hugepages');
  fs.mkdirSync(path.join(hugepagesDir, 'hugepages-2048kB'), { recursive: true });
  const fake: FakeRoot = {
    root,
    hugepagesDir,
    write(rel, content) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), content);
    },
    read: (rel) => fs.readFileSync(path.join(root, rel), 'utf8'),
    exists: (rel) => fs.existsSync(path.join(root, rel)),
    remove: () => fs.rmSync(base, { recursive: true, force: true }),
  };
  if (layout === 'v2') {
    fake.write('cgroup.controllers', 'cpuset cpu io memory hugetlb pids\n');
    fake.write('cgroup.subtree_control', '');
    fake.write('cgroup.procs', '');
    fake.write('cpu.pressure', 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    return fake;
  }
  for (const dir of V1_DIRS) fake.write(`${dir}/cgroup.procs`, '');
  fake.write('memory/memory.memsw.limit_in_bytes', '9223372036854771712\n');
  fake.write('cpuset/cpuset.cpus', '0-1\n');
  fake.write('cpuset/cpuset.mems', '0\n');
  if (layout === 'hybrid') {
    fake.write('unified/cgroup.controllers', 'hugetlb\n');
    fake.write('unified/cgroup.subtree_control', '');
    fake.write('unified/cgroup.procs', '');
    fake.write('unified/cpu.pressure', 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
  }
  return fake;
}
