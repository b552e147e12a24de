// What a test daemon's node still holds once every pod (and, if asked, every image) is removed:
// the list must be empty. Looks only at the daemon's own roots, cgroup parent, bridge and CNI data
// dir, so daemons of other tests running beside it never count. The crash-point walk, the churn
// test and the soak all end with `expect(leftovers(node)).toEqual([])`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface NodeRoots {
  root: string;
  stateDir: string;
  runDir: string;
}

export interface LeftoverOptions {
  /** Images were removed too: no image record, snapshot or blob may remain. */
  images?: boolean;
  /**
   * The daemon and its monitor are stopped: then no process at all may have its cwd or command line
   * in the root (startDaemon runs the daemon in its root, so all it starts inherits that cwd).
   */
  stopped?: boolean;
  /**
   * The daemon still runs with this pid: processes of the root are checked all the same, except the
   * daemon, the keeper and the monitor and what descends from them (pooled inits; containers are
   * found by their cgroup).
   */
  daemonPid?: number;
}

/** One line per thing left, e.g. "mount <path>", "cgroup memory:/nodelet-test-x/abc". */
export function leftovers(node: NodeRoots, options: LeftoverOptions = {}): string[] {
  const config = readConfig(node.root);
  const cgroupParent = String(config.cgroupParent ?? '/nodelet');
  const cniDir = String(config.cniCacheDir ?? path.join(node.stateDir, 'cni'));
  const found: string[] = [];
  found.push(...mountsUnder(node.root).map((m) => `mount ${m}`));
  const perId: [string, string][] = [
    ['pinned namespaces', path.join(node.runDir, 'ns')],
    ['pod dir', path.join(node.stateDir, 'sandboxes')],
    ['pod run dir', path.join(node.runDir, 'sandboxes')],
    ['container dir', path.join(node.stateDir, 'containers')],
    ['monitor entry', path.join(node.runDir, 'containers')],
    ['orphan exit', path.join(node.runDir, 'orphans')],
    ['pod record', path.join(node.stateDir, 'records', 'sandboxes')],
    ['container record', path.join(node.stateDir, 'records', 'containers')],
    ['CNI result', path.join(cniDir, 'results')],
  ];
  for (const [what, dir] of perId) found.push(...entries(dir).map((e) => `${what} ${path.join(dir, e)}`));
  for (const net of entries(path.join(cniDir, 'networks'))) {
    const dir = path.join(cniDir, 'networks', net);
    // host-local keeps one file per leased address, named by it; its lock and last_reserved_ip stay.
    for (const lease of entries(dir).filter((e) => /^[0-9a-f.:]+$/i.test(e) && /[.:]/.test(e))) {
      found.push(`IPAM lease ${path.join(dir, lease)}`);
    }
  }
  if (config.cniBridge) found.push(...vethsOf(String(config.cniBridge)).map((v) => `veth ${v}`));
  found.push(...cgroupsUnder(cgroupParent).map((c) => `cgroup ${c}`));
  found.push(...processesIn(cgroupParent).map((p) => `process ${p} in ${cgroupParent}`));
  if (options.stopped || options.daemonPid !== undefined) {
    const spared = new Set<number>();
    if (options.daemonPid !== undefined) {
      spared.add(options.daemonPid);
      for (const lock of ['keeper.lock', 'monitor.lock']) {
        const pid = Number(readFile(path.join(node.runDir, lock)).trim());
        if (pid > 0) for (const p of [pid, ...descendantsOf(pid)]) spared.add(p);
      }
    }
    found.push(...processesOfRoot(node.root, spared).map((p) => `process ${p} of the root`));
  }
  if (options.images) {
    const imagesDir = path.join(node.stateDir, 'images');
    const records = entries(imagesDir).filter((e) => e !== '.lock');
    found.push(...records.map((e) => `image record ${path.join(imagesDir, e)}`));
    const snapshots = path.join(node.stateDir, 'snapshots');
    found.push(...entries(snapshots).map((e) => `snapshot ${path.join(snapshots, e)}`));
    const blobs = path.join(node.stateDir, 'content', 'blobs', 'sha256');
    found.push(...entries(blobs).map((e) => `blob ${e}`));
    const ingest = path.join(node.stateDir, 'content', 'ingest');
    found.push(...entries(ingest).map((e) => `ingest ${e}`));
  }
  return found;
}

function readConfig(root: string): Record<string, unknown> {
  try {
    return (YAML.parse(fs.readFileSync(path.join(root, 'config.yaml'), 'utf8')) ?? {}) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Mount points at or under `root` in this (the host's) mount namespace. */
export function mountsUnder(root: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m === root || m.startsWith(`${root}/`)));
}

/** Interfaces enslaved to the bridge: each pod's host-side veth. */
export function vethsOf(bridge: string): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' });
  if (out.status !== 0) return []; // no bridge, no veth
  return out.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
}

/** Child cgroups of `parent` in every mounted hierarchy, as "<hierarchy>:<path>". */
export function cgroupsUnder(parent: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const hierarchy of entries('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', hierarchy, parent);
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const walk = (d: string, rel: string) => {
      for (const e of entries(d)) {
        const child = path.join(d, e);
        if (!fs.statSync(child, { throwIfNoEntry: false })?.isDirectory()) continue;
        found.push(`${hierarchy}:${parent}${rel}/${e}`);
        walk(child, `${rel}/${e}`);
      }
    };
    walk(dir, '');
  }
  return found;
}

function pids(): number[] {
  return entries('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Processes (with their command) in any cgroup at or under `parent`. */
export function processesIn(parent: string): string[] {
  const found: string[] = [];
  for (const pid of pids()) {
    let cgroups: string;
    try {
      cgroups = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    const inside = cgroups.split('\n').some((l) => {
      const p = l.split(':')[2];
      return p === parent || p?.startsWith(`${parent}/`);
    });
    if (inside) found.push(describe(pid));
  }
  return found;
}

/** Processes whose cwd is in the root or whose command line names it. */
export function processesOfRoot(root: string, spared: Set<number> = new Set()): string[] {
  const found: string[] = [];
  for (const pid of pids()) {
    if (pid === process.pid || spared.has(pid)) continue;
    let cwd = '';
    let cmdline = '';
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cwd === root || cwd.startsWith(`${root}/`) || cmdline.includes(root)) found.push(describe(pid));
  }
  return found;
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Every process below `pid`, from each process's parent in /proc/<pid>/stat. */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of pids()) {
    const stat = readFile(`/proc/${p}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(p);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function describe(pid: number): string {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return `${pid} (${cmd.slice(0, 120)})`;
  } catch {
    return String(pid);
  }
}

/**
 * The safety net of a test's teardown, after leftovers() was asserted: kills the processes of the
 * root and of its cgroup parent, unmounts what is under the root, removes the cgroups, the bridge
 * and the root. Touches only what belongs to this node.
 */
export async function removeNode(node: NodeRoots): Promise<void> {
  const config = readConfig(node.root);
  const cgroupParent = String(config.cgroupParent ?? '');
  for (let i = 0; i < 20; i++) {
    const victims = [
      ...processesOfRoot(node.root),
      ...(cgroupParent.startsWith('/nodelet-test-') ? processesIn(cgroupParent) : []),
    ].map((p) => Number(p.split(' ')[0]));
    if (victims.length === 0) break;
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const m of mountsUnder(node.root).reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  if (cgroupParent.startsWith('/nodelet-test-')) {
    for (const c of [...cgroupsUnder(cgroupParent)].reverse()) {
      const [hierarchy, cgroup] = [c.slice(0, c.indexOf(':')), c.slice(c.indexOf(':') + 1)];
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', hierarchy, cgroup));
      } catch {
        // already removed through another hierarchy name
      }
    }
    for (const hierarchy of entries('/sys/fs/cgroup')) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', hierarchy, cgroupParent));
      } catch {
        // absent, or shared through a symlinked hierarchy already removed
      }
    }
  }
  if (config.cniBridge) spawnSync('ip', ['link', 'delete', String(config.cniBridge)], { stdio: 'ignore' });
  fs.rmSync(node.root, { recursive: true, force: true });
}
