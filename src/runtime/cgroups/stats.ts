// One reading of a cgroup's counters: about a dozen small files, the ones the CRI stats and the
// cAdvisor-style metrics need (limits are known from the spec and not re-read). Each file is optional: a controller the host lacks leaves its
// part out instead of failing the whole reading. Working set is usage - inactive_file, as kubelet
// and cAdvisor compute it.
import path from 'node:path';
import { nowNs } from '../../common/time';
import { parseFlatKeyed, readNumber, readOptional } from './files';
import { dirIn } from './trees';
import type { CgroupStats, CgroupSystem, PsiData, PsiStats } from './types';

/** v1 memory.limit_in_bytes reads ~2^63 when unlimited. */
const UNLIMITED = 2 ** 62;
/** cpuacct.stat counts USER_HZ ticks, 100 a second on Linux. */
const NS_PER_TICK = 10_000_000;

export function readStats(system: CgroupSystem, cgroup: string): CgroupStats {
  const v2 = system.unified === undefined ? undefined : dirIn(system.unified, cgroup);
  const stats: CgroupStats =
    system.mode === 'v2' ? readV2(dirIn(system.unified as string, cgroup)) : readV1(system, cgroup, v2);
  const psi = v2 && system.psi ? readPsiDir(v2) : undefined;
  if (psi) stats.psi = psi;
  return stats;
}

function readV1(system: CgroupSystem, cgroup: string, v2: string | undefined): CgroupStats {
  const at = (controller: string, file: string) => {
    const mount = system.v1[controller];
    return mount === undefined ? undefined : path.join(dirIn(mount, cgroup), file);
  };
  const num = (controller: string, file: string) => {
    const p = at(controller, file);
    return p === undefined ? undefined : readNumber(p);
  };
  const keyed = (controller: string, file: string) => {
    const p = at(controller, file);
    return parseFlatKeyed(p === undefined ? undefined : readOptional(p));
  };
  const stats: CgroupStats = { timestampNs: nowNs(), cpu: { usageNs: 0 } };

  const usage = num('cpuacct', 'cpuacct.usage');
  if (usage !== undefined) {
    const ticks = keyed('cpuacct', 'cpuacct.stat');
    stats.cpu = { usageNs: usage, userNs: tick(ticks.get('user')), systemNs: tick(ticks.get('system')) };
  } else if (v2 !== undefined) {
    stats.cpu = readV2Cpu(v2);
  }
  const throttle = keyed('cpu', 'cpu.stat');
  if (throttle.has('nr_throttled')) {
    stats.cpu.throttledPeriods = throttle.get('nr_throttled');
    stats.cpu.throttledNs = throttle.get('throttled_time');
  }

  const memUsage = num('memory', 'memory.usage_in_bytes');
  if (memUsage !== undefined) {
    const m = keyed('memory', 'memory.stat');
    const get = (key: string) => m.get(`total_${key}`) ?? m.get(key) ?? 0;
    const limit = num('memory', 'memory.limit_in_bytes');
    const memsw = num('memory', 'memory.memsw.usage_in_bytes');
    stats.memory = {
      usageBytes: memUsage,
      workingSetBytes: Math.max(0, memUsage - get('inactive_file')),
      rssBytes: get('rss'),
      cacheBytes: get('cache'),
      pageFaults: get('pgfault'),
      majorPageFaults: get('pgmajfault'),
      limitBytes: limit === undefined || limit >= UNLIMITED ? undefined : limit,
      swapUsageBytes: memsw === undefined ? undefined : Math.max(0, memsw - memUsage),
    };
  }

  const pids = num('pids', 'pids.current');
  if (pids !== undefined) stats.pids = { current: pids };

  const bytes = at('blkio', 'blkio.throttle.io_service_bytes_recursive');
  const ops = at('blkio', 'blkio.throttle.io_serviced_recursive');
  if (bytes !== undefined && ops !== undefined) {
    const b = sumBlkio(readOptional(bytes));
    const o = sumBlkio(readOptional(ops));
    stats.io = { readBytes: b.read, writeBytes: b.write, readOps: o.read, writeOps: o.write };
  }
  return stats;
}

function readV2(dir: string): CgroupStats {
  const stats: CgroupStats = { timestampNs: nowNs(), cpu: readV2Cpu(dir) };
  const usage = readNumber(path.join(dir, 'memory.current'));
  if (usage !== undefined) {
    const m = parseFlatKeyed(readOptional(path.join(dir, 'memory.stat')));
    stats.memory = {
      usageBytes: usage,
      workingSetBytes: Math.max(0, usage - (m.get('inactive_file') ?? 0)),
      rssBytes: m.get('anon') ?? 0,
      cacheBytes: m.get('file') ?? 0,
      pageFaults: m.get('pgfault') ?? 0,
      majorPageFaults: m.get('pgmajfault') ?? 0,
      limitBytes: readNumber(path.join(dir, 'memory.max')),
      swapUsageBytes: readNumber(path.join(dir, 'memory.swap.current')),
    };
  }
  const pids = readNumber(path.join(dir, 'pids.current'));
  if (pids !== undefined) stats.pids = { current: pids };
  const io = readOptional(path.join(dir, 'io.stat'));
  if (io !== undefined) stats.io = sumIoStat(io);
  return stats;
}

/** cpu.stat exists on every cgroup2 cgroup, with or without the cpu controller. */
function readV2Cpu(dir: string): CgroupStats['cpu'] {
  const c = parseFlatKeyed(readOptional(path.join(dir, 'cpu.stat')));
  const us = (key: string) => (c.has(key) ? (c.get(key) as number) * 1000 : undefined);
  return {
    usageNs: us('usage_usec') ?? 0,
    userNs: us('user_usec'),
    systemNs: us('system_usec'),
    throttledPeriods: c.get('nr_throttled'),
    throttledNs: us('throttled_usec'),
  };
}

function tick(n: number | undefined): number | undefined {
  return n === undefined ? undefined : n * NS_PER_TICK;
}

/** "8:0 Read 4096" lines (v1 blkio), summed over devices. */
function sumBlkio(text: string | undefined): { read: number; write: number } {
  const sum = { read: 0, write: 0 };
  for (const line of (text ?? '').split('\n')) {
    const [dev, op, value] = line.trim().split(/\s+/);
    if (!dev?.includes(':') || value === undefined) continue;
    if (op === 'Read') sum.read += Number(value);
    if (op === 'Write') sum.write += Number(value);
  }
  return sum;
}

/** "8:0 rbytes=1 wbytes=2 rios=3 wios=4 …" lines (v2 io.stat), summed over devices. */
function sumIoStat(text: string): NonNullable<CgroupStats['io']> {
  const io = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split('=');
      const n = Number(value);
      if (key === 'rbytes') io.readBytes += n;
      if (key === 'wbytes') io.writeBytes += n;
      if (key === 'rios') io.readOps += n;
      if (key === 'wios') io.writeOps += n;
    }
  }
  return io;
}

/** "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and a "full" line, as the kernel writes them. */
function parsePsi(text: string | undefined): PsiStats | undefined {
  if (!text) return undefined;
  const lines = new Map<string, PsiData>();
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    const f = new Map(fields.map((x) => x.split('=') as [string, string]));
    lines.set(kind, {
      avg10: Number(f.get('avg10') ?? 0),
      avg60: Number(f.get('avg60') ?? 0),
      avg300: Number(f.get('avg300') ?? 0),
      total: Number(f.get('total') ?? 0),
    });
  }
  const some = lines.get('some');
  return some === undefined ? undefined : { some, full: lines.get('full') };
}

function readPsiDir(dir: string): CgroupStats['psi'] {
  const cpu = parsePsi(readOptional(path.join(dir, 'cpu.pressure')));
  const memory = parsePsi(readOptional(path.join(dir, 'memory.pressure')));
  const io = parsePsi(readOptional(path.join(dir, 'io.pressure')));
  return cpu || memory || io ? { cpu, memory, io } : undefined;
}
