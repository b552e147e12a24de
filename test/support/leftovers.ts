// What a test daemon has made on the host, by kind: mounts under its root, pinned namespaces,
// cgroups under its parent, ports on its bridge, IPAM leases, records, per-id directories and
// processes beside the daemon, monitor, keeper and the monitor's waiting inits. With every pod
// removed each list must be empty ("nothing remains"); the soak counts the same lists over time.
// Reads only what belongs to this daemon's own roots, cgroup parent and bridge.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { processTree, readProcesses } from '../../bench/lib/pss';
import { POOLED_FLAG } from '../../src/runtime/init/protocol';

/** Where one test daemon puts things (startDaemon's layout and its config.yaml). */
export interface NodeRoots {
  root: string;
  stateDir: string;
  runDir: string;
  cgroupParent: string;
  bridge: string;
  /** The daemon's own pid, whose children (CNI plugins, exec helpers) count too; none once stopped. */
  daemonPid?: number;
}

export type LeftoverKind =
  | 'mounts'
  | 'netns'
  | 'cgroups'
  | 'veths'
  | 'leases'
  | 'sandboxRecords'
  | 'containerRecords'
  | 'idDirs'
  | 'cniResults'
  | 'processes';

export const LEFTOVER_KINDS: LeftoverKind[] = [
  'mounts',
  'netns',
  'cgroups',
  'veths',
  'leases',
  'sandboxRecords',
  'containerRecords',
  'idDirs',
  'cniResults',
  'processes',
];

export type NodeInventory = Record<LeftoverKind, string[]>;

/** The roots of a daemon started by test/support/daemon.ts, its parent and bridge from its config. */
export function nodeRootsOf(daemon: {
  root: string;
  stateDir: string;
  runDir: string;
  proc?: { pid?: number; exitCode: number | null; signalCode: string | null };
}): NodeRoots {
  const config = YAML.parse(fs.readFileSync(path.join(daemon.root, 'config.yaml'), 'utf8')) as {
    cgroupParent: string;
    cniBridge: string;
  };
  const running = daemon.proc && daemon.proc.exitCode === null && daemon.proc.signalCode === null;
  return {
    root: daemon.root,
    stateDir: daemon.stateDir,
    runDir: daemon.runDir,
    cgroupParent: config.cgroupParent,
    bridge: config.cniBridge,
    daemonPid: running ? daemon.proc!.pid : undefined,
  };
}

/** Everything of each kind that exists now. */
export function inventory(roots: NodeRoots): NodeInventory {
  const mounts = mountsUnder(roots.root);
  return {
    mounts: mounts.map((m) => `${m.point} (${m.fstype})`),
    netns: mounts
      .filter((m) => m.fstype === 'nsfs' && path.basename(m.point) === 'network')
      .map((m) => m.point),
    cgroups: cgroupsUnder(roots.cgroupParent),
    veths: entries(`/sys/class/net/${roots.bridge}/brif`),
    leases: ipamLeases(path.join(roots.stateDir, 'cni', 'networks')),
    sandboxRecords: entries(path.join(roots.stateDir, 'records', 'sandboxes')),
    containerRecords: entries(path.join(roots.stateDir, 'records', 'containers')),
    idDirs: [
      path.join(roots.stateDir, 'sandboxes'),
      path.join(roots.stateDir, 'containers'),
      path.join(roots.runDir, 'containers'),
      path.join(roots.runDir, 'ns'),
    ].flatMap(entries),
    cniResults: entries(path.join(roots.stateDir, 'cni', 'results')),
    processes: strayProcesses(roots),
  };
}

/** How many of each kind exist now. */
export function countInventory(inv: NodeInventory): Record<LeftoverKind, number> {
  return Object.fromEntries(LEFTOVER_KINDS.map((k) => [k, inv[k].length])) as Record<LeftoverKind, number>;
}

/** One line per thing that remains ("cgroups: /sys/fs/cgroup/pids/…"); empty when nothing does. */
export function leftovers(roots: NodeRoots): string[] {
  const inv = inventory(roots);
  return LEFTOVER_KINDS.flatMap((k) => inv[k].map((item) => `${k}: ${item}`));
}

/** Pid written in a lock file of the run dir (monitor.lock, keeper.lock); undefined when none. */
export function lockPid(runDir: string, lock: 'monitor.lock' | 'keeper.lock'): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, lock), 'utf8').trim());
    return pid > 0 && fs.existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

interface MountEntry {
  point: string;
  fstype: string;
}

/** Mounts of our mount namespace at or below dir (mountinfo escapes spaces as \040). */
function mountsUnder(dir: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const point = fields[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const fstype = fields[fields.indexOf('-') + 1] ?? '';
    if (point === dir || point.startsWith(dir + '/')) out.push({ point, fstype });
  }
  return out;
}

/** Every cgroup below the parent, in each mounted hierarchy (v1 controllers, v2). */
function cgroupsUnder(parent: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  // A v2-only host mounts its one hierarchy at /sys/fs/cgroup itself; v1 and hybrid ones below it.
  const top = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : [];
  for (const name of [...top, ...entries('/sys/fs/cgroup')]) {
    let real: string;
    try {
      if (!fs.lstatSync(name).isDirectory()) continue; // cpu -> cpu,cpuacct and the like
      real = fs.realpathSync(name);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const walk = (dir: string) => {
      for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!child.isDirectory()) continue;
        const p = path.join(dir, child.name);
        out.push(p);
        walk(p);
      }
    };
    const under = path.join(real, parent);
    if (fs.existsSync(under)) {
      try {
        walk(under);
      } catch {
        // removed while we walked
      }
    }
  }
  return out;
}

/** host-local's allocations: one file per address, named by it (last_reserved_ip.* and lock are not). */
function ipamLeases(networksDir: string): string[] {
  return entries(networksDir).flatMap((net) =>
    entries(net).filter((f) => /^[0-9a-f.:]+$/i.test(path.basename(f)) && /[.:]/.test(path.basename(f))),
  );
}

/**
 * Processes in the trees of the daemon, the keeper and the monitor, besides those three and the
 * monitor's pool of waiting inits: containers, exec helpers, CNI plugins.
 */
function strayProcesses(roots: NodeRoots): string[] {
  const keeper = lockPid(roots.runDir, 'keeper.lock');
  const monitor = lockPid(roots.runDir, 'monitor.lock');
  const own = new Set([keeper, monitor, roots.daemonPid].filter((p): p is number => p !== undefined));
  const tree = processTree(readProcesses(), [...own], (p) => own.has(p.pid) || p.argv.includes(POOLED_FLAG));
  return tree.map((p) => `${p.pid} ${p.argv.join(' ')}`);
}
