// A VolumeMounter for unit tests: mounts are entries in a set, subPath binds are recorded.
import path from 'node:path';
import type { VolumeMounter } from './volumes';

export interface FakeMounter extends VolumeMounter {
  mounted: Set<string>;
  /** target → what was bound there. */
  binds: Map<string, { root: string; subPath: string; mode: number }>;
}

export function fakeMounter(): FakeMounter {
  const mounted = new Set<string>();
  const binds = new Map<string, { root: string; subPath: string; mode: number }>();
  return {
    mounted,
    binds,
    mountTmpfs: (t) => void mounted.add(t),
    unmount: (t) => {
      mounted.delete(t);
      binds.delete(t);
    },
    isMountPoint: (t) => mounted.has(t),
    mountPointsUnder: (dir) =>
      [...mounted]
        .filter((m) => m === dir || m.startsWith(dir + path.sep))
        .sort((a, b) => b.length - a.length),
    bindSubPath: (root, subPath, target, mode) => {
      mounted.add(target);
      binds.set(target, { root, subPath, mode });
    },
  };
}
