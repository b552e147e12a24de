// The cgroupfs driver for v1, v2 and hybrid hosts: one manager, because the layouts differ only
// in where each file lives (trees.ts) and what it is called (plan.ts).
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition, notFound } from '../../common/errors';
import type { LinuxResources } from '../spec/types';
import { destroyCgroup, type DestroyOptions } from './destroy';
import { bpfDeviceFilter, type DeviceFilterAttacher } from './devices_bpf';
import { childCgroups, controlError, readNumber, readOptional, readPids, writeControl } from './files';
import { oomKillCount } from './oom';
import { normalizeCgroupPath } from './paths';
import { planWrites, type CgroupWrite } from './plan';
import { readStats } from './stats';
import { dirIn, dirsOf, treesOf } from './trees';
import type { CgroupStats, CgroupSystem } from './types';

/** Controllers a pure v2 host enables down to each container, as runc does. */
const V2_DEFAULT_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids', 'io', 'hugetlb'];

export interface CgroupManagerOptions {
  /** How long destroy waits for killed processes to leave and for rmdir to succeed. */
  destroyTimeoutMs?: number;
  /** Attaches the cgroup v2 device program; the real one by default (tests pass a recorder). */
  deviceFilter?: DeviceFilterAttacher;
}

export interface CgroupManager {
  readonly system: CgroupSystem;
  /** Makes the cgroup (and missing parents) in every tree and applies the limits; undone on failure. */
  create(cgroup: string, resources?: LinuxResources): void;
  /** Moves a process into the cgroup in every tree. */
  join(cgroup: string, pid: number): void;
  /** The cgroup.procs files a process writes its own pid to (for the container init). */
  procsFiles(cgroup: string): string[];
  /** Changes limits of a live cgroup (UpdateContainerResources). */
  update(cgroup: string, resources: LinuxResources): void;
  stats(cgroup: string): CgroupStats;
  /** Removes the cgroup and its children. Refuses while processes remain, unless force kills them. */
  destroy(cgroup: string, opts?: DestroyOptions): Promise<void>;
  /** The kernel's OOM killer killed a process of this cgroup (or of a child). */
  oomKilled(cgroup: string): boolean;
  /** Processes in the cgroup itself (its first tree). */
  pids(cgroup: string): number[];
  exists(cgroup: string): boolean;
  /** Paths of the child cgroups of a parent, over all trees. */
  listUnder(parent: string): string[];
  /**
   * Removes (killing what runs there) every child of `parent` whose name is not a known id, and
   * descends into the known ones: the crash leftovers, found at daemon start. Returns what it removed.
   */
  cleanupOrphans(parent: string, knownIds: Iterable<string>, opts?: OrphanOptions): Promise<string[]>;
}

export interface OrphanOptions {
  /**
   * Levels below the parent that are judged (default: all). Pods and containers are 2: a known
   * container's own sub-cgroups (a container that manages its cgroup namespace) are its business.
   */
  depth?: number;
  /** Only children whose name passes are judged; others are neither removed nor entered (default: all). */
  judged?: (name: string) => boolean;
}

export function createCgroupManager(system: CgroupSystem, opts: CgroupManagerOptions = {}): CgroupManager {
  const trees = treesOf(system);
  const unified = system.unified;

  function enableV2Controllers(cgroup: string, wanted: string[]): void {
    if (unified === undefined || wanted.length === 0) return;
    // Each level's subtree_control makes a controller available to the next; the leaf needs none.
    const parts = cgroup.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const dir = dirIn(unified, '/' + parts.slice(0, i).join('/'));
      const available =
        readOptional(path.join(dir, 'cgroup.controllers'))?.split(/\s+/) ?? system.v2Controllers;
      const enabled = (readOptional(path.join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
      const missing = wanted.filter((c) => available.includes(c) && !enabled.includes(c));
      if (missing.length > 0) {
        writeControl(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '), cgroup);
      }
    }
  }

  function wantedV2(writes: CgroupWrite[]): string[] {
    const fromWrites = writes.filter((w) => w.tree === 'v2').map((w) => w.controller);
    const base = system.mode === 'v2' ? V2_DEFAULT_CONTROLLERS : [];
    return [...new Set([...base, ...fromWrites])].filter((c) => system.v2Controllers.includes(c));
  }

  function plan(cgroup: string, resources: LinuxResources): CgroupWrite[] {
    const memory = system.v1.memory;
    const currentMemoryLimit =
      memory === undefined
        ? undefined
        : readNumber(path.join(dirIn(memory, cgroup), 'memory.limit_in_bytes'));
    return planWrites(system, resources, { currentMemoryLimit });
  }

  function apply(cgroup: string, writes: CgroupWrite[]): void {
    for (const w of writes) {
      const mount = w.tree === 'v1' ? system.v1[w.controller] : unified;
      if (mount === undefined) {
        if (w.optional) continue;
        throw controlError(
          Object.assign(new Error(`no ${w.controller} controller on this host`), { code: 'ENOENT' }),
          `set '${w.file}' of cgroup '${cgroup}'`,
        );
      }
      const dir = dirIn(mount, cgroup);
      if (w.optional && !fs.existsSync(path.join(dir, w.file))) continue;
      writeControl(dir, w.file, w.value, cgroup);
    }
  }

  // Without a v1 devices hierarchy the allow-list is a BPF program on the cgroup2 directory.
  function applyDevices(cgroup: string, resources: LinuxResources): void {
    if (!resources.devices?.length || system.v1.devices !== undefined || unified === undefined) return;
    try {
      (opts.deviceFilter ?? bpfDeviceFilter).attach(dirIn(unified, cgroup), resources.devices);
    } catch (err) {
      const reason = (err as Error).message;
      throw failedPrecondition(`Cannot attach the device allow-list to cgroup '${cgroup}': ${reason}`, err);
    }
  }

  function requireExists(cgroup: string): void {
    if (!dirsOf(system, cgroup).some((d) => fs.existsSync(d))) {
      throw notFound(`Cannot find cgroup '${cgroup}'`);
    }
  }

  return {
    system,

    create(p, resources = {}) {
      const cgroup = normalizeCgroupPath(p);
      const made: string[] = [];
      try {
        const writes = plan(cgroup, resources);
        for (const tree of trees) {
          const created = mkdirs(tree.mount, cgroup, cgroup);
          made.push(...created);
          if (tree.kind === 'v1' && tree.controllers.includes('cpuset')) inheritCpuset(created);
        }
        enableV2Controllers(cgroup, wantedV2(writes));
        apply(cgroup, writes);
        applyDevices(cgroup, resources);
      } catch (err) {
        for (const dir of made.reverse()) rmdirQuiet(dir);
        throw err;
      }
    },

    join(p, pid) {
      const cgroup = normalizeCgroupPath(p);
      requireExists(cgroup);
      for (const dir of dirsOf(system, cgroup)) writeControl(dir, 'cgroup.procs', String(pid), cgroup);
    },

    procsFiles(p) {
      return dirsOf(system, normalizeCgroupPath(p)).map((d) => path.join(d, 'cgroup.procs'));
    },

    update(p, resources) {
      const cgroup = normalizeCgroupPath(p);
      requireExists(cgroup);
      const writes = plan(cgroup, resources);
      enableV2Controllers(cgroup, wantedV2(writes));
      apply(cgroup, writes);
      applyDevices(cgroup, resources);
    },

    stats(p) {
      const cgroup = normalizeCgroupPath(p);
      const stats = readStats(system, cgroup);
      // Every file missing reads as zeros: tell that apart from an idle cgroup only then.
      if (stats.memory === undefined && stats.cpu.usageNs === 0) requireExists(cgroup);
      return stats;
    },

    destroy(p, destroyOpts = {}) {
      return destroyCgroup(system, normalizeCgroupPath(p), {
        timeoutMs: opts.destroyTimeoutMs,
        ...destroyOpts,
      });
    },

    oomKilled(p) {
      return oomKillCount(system, normalizeCgroupPath(p)) > 0;
    },

    pids(p) {
      const cgroup = normalizeCgroupPath(p);
      return [...new Set(dirsOf(system, cgroup).flatMap(readPids))];
    },

    exists(p) {
      return dirsOf(system, normalizeCgroupPath(p)).some((d) => fs.existsSync(d));
    },

    listUnder(p) {
      const parent = normalizeCgroupPath(p);
      const names = new Set(dirsOf(system, parent).flatMap(childCgroups));
      return [...names].sort().map((n) => `${parent}/${n}`);
    },

    async cleanupOrphans(p, knownIds, orphanOpts = {}) {
      const known = new Set(knownIds);
      const judged = orphanOpts.judged ?? (() => true);
      const removed: string[] = [];
      const walk = async (parent: string, level: number): Promise<void> => {
        if (level > (orphanOpts.depth ?? Infinity)) return;
        for (const child of this.listUnder(parent)) {
          const name = path.posix.basename(child);
          if (!judged(name)) continue;
          if (known.has(name)) {
            await walk(child, level + 1);
          } else {
            await this.destroy(child, { force: true });
            removed.push(child);
          }
        }
      };
      await walk(normalizeCgroupPath(p), 1);
      return removed;
    },
  };
}

/** mkdir -p that returns the directories it made, top first, so a failure can remove exactly those. */
function mkdirs(mount: string, cgroup: string, label: string): string[] {
  const made: string[] = [];
  let dir = mount;
  for (const part of cgroup.split('/').filter(Boolean)) {
    dir = path.join(dir, part);
    try {
      fs.mkdirSync(dir);
      made.push(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        for (const d of made.reverse()) rmdirQuiet(d);
        throw controlError(err, `create cgroup '${label}' in '${mount}'`);
      }
    }
  }
  return made;
}

/** A new v1 cpuset cgroup starts with empty cpus and mems, and no process may join it until they are set. */
function inheritCpuset(created: string[]): void {
  for (const dir of created) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = readOptional(path.join(dir, file));
      const parent = readOptional(path.join(path.dirname(dir), file));
      if (!own && parent) writeControl(dir, file, parent, dir);
    }
  }
}

/** Undo of a half-made cgroup: best effort, the first error is the one to report. */
function rmdirQuiet(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // already gone, or still busy: cleanupOrphans finds it at the next start
  }
}
