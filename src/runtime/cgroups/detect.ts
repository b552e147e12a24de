// Finds out which cgroup layout the machine has, once, at start. The layout is read from the
// directories under the root rather than from /proc/self/mountinfo, so the same code runs on a
// temp dir laid out like /sys/fs/cgroup (the unit tests' fake).
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition } from '../../common/errors';
import type { CgroupSystem } from './types';

/** Controllers a v1 hierarchy can carry; "systemd" (name=systemd) and the like are not among them. */
const V1_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'hugetlb',
  'net_cls',
  'net_prio',
  'perf_event',
  'rdma',
  'misc',
];

export interface DetectOptions {
  /** Where the kernel lists hugepage sizes. */
  hugepagesDir?: string;
}

export function detectCgroups(root = '/sys/fs/cgroup', opts: DetectOptions = {}): CgroupSystem {
  const hugepageSizes = listHugepageSizes(opts.hugepagesDir ?? '/sys/kernel/mm/hugepages');
  if (exists(path.join(root, 'cgroup.controllers'))) {
    const v2Controllers = readControllers(root);
    return {
      mode: 'v2',
      root,
      v1: {},
      unified: root,
      v2Controllers,
      swapAccounting: v2Controllers.includes('memory'),
      hugepageSizes,
      psi: exists(path.join(root, 'cpu.pressure')),
    };
  }
  const v1 = findV1Hierarchies(root);
  if (Object.keys(v1).length === 0) {
    throw failedPrecondition(`Cannot use cgroups at '${root}': neither a cgroup2 tree nor v1 hierarchies`);
  }
  const unifiedDir = path.join(root, 'unified');
  const unified = exists(path.join(unifiedDir, 'cgroup.controllers')) ? unifiedDir : undefined;
  return {
    mode: unified ? 'hybrid' : 'v1',
    root,
    v1,
    unified,
    v2Controllers: unified ? readControllers(unified) : [],
    swapAccounting: v1.memory !== undefined && exists(path.join(v1.memory, 'memory.memsw.limit_in_bytes')),
    hugepageSizes,
    psi: unified !== undefined && exists(path.join(unified, 'cpu.pressure')),
  };
}

function findV1Hierarchies(root: string): Record<string, string> {
  const found: Record<string, string> = {};
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch (err) {
    throw failedPrecondition(`Cannot read cgroup root '${root}': ${(err as Error).message}`, err);
  }
  for (const name of entries.sort()) {
    const dir = path.join(root, name);
    if (!exists(path.join(dir, 'cgroup.procs')) || exists(path.join(dir, 'cgroup.controllers'))) continue;
    // "cpu,cpuacct" carries both; a symlink "cpu" → "cpu,cpuacct" names the same hierarchy.
    for (const controller of name.split(',')) {
      if (V1_CONTROLLERS.includes(controller) && found[controller] === undefined) {
        found[controller] = fs.realpathSync(dir);
      }
    }
  }
  return found;
}

function readControllers(dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
}

/** "hugepages-2048kB" → "2MB", the form cgroup file names use (hugetlb.2MB.limit_in_bytes). */
export function hugepageSizeName(dirName: string): string | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(dirName);
  if (!m) return undefined;
  const kb = Number(m[1]);
  if (kb % (1024 * 1024) === 0) return `${kb / (1024 * 1024)}GB`;
  if (kb % 1024 === 0) return `${kb / 1024}MB`;
  return `${kb}KB`;
}

function listHugepageSizes(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .map(hugepageSizeName)
      .filter((s): s is string => s !== undefined);
  } catch {
    return [];
  }
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}
