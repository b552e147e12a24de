// The directories one cgroup path names: one per v1 hierarchy, plus one in the cgroup2 tree. On
// hybrid hosts the cgroup is made on the cgroup2 side too, which gives per-cgroup PSI and the
// controllers bound there (hugetlb on this project's machines).
import path from 'node:path';
import type { CgroupSystem } from './types';

export interface Tree {
  kind: 'v1' | 'v2';
  mount: string;
  /** v1: the controllers this hierarchy carries. v2: those the tree's root offers. */
  controllers: string[];
}

export function treesOf(system: CgroupSystem): Tree[] {
  const byMount = new Map<string, string[]>();
  for (const [controller, mount] of Object.entries(system.v1)) {
    byMount.set(mount, [...(byMount.get(mount) ?? []), controller]);
  }
  const trees: Tree[] = [...byMount].map(([mount, controllers]) => ({ kind: 'v1', mount, controllers }));
  if (system.unified !== undefined) {
    trees.push({ kind: 'v2', mount: system.unified, controllers: system.v2Controllers });
  }
  return trees;
}

/** The directory of a (normalized) cgroup path in one tree. */
export function dirIn(mount: string, cgroup: string): string {
  return path.join(mount, cgroup);
}

/** Every directory the cgroup has, one per tree. */
export function dirsOf(system: CgroupSystem, cgroup: string): string[] {
  return treesOf(system).map((t) => dirIn(t.mount, cgroup));
}
