import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { notFound } from '../../common/errors';
import { StatsCollector } from './collector';
import { parseNetDev } from './netdev';
import type { CgroupStats } from './types';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    5000      40    1    0    0     0          0         0     3000      30    2    0    0     0       0          0
`;

/** A fake manager whose cgroup uses half a core: 0.5 s of CPU per wall second. */
function fakeManager() {
  const calls: string[] = [];
  let t = 0n;
  const gone = new Set<string>();
  return {
    calls,
    gone,
    stats(cgroup: string): CgroupStats {
      calls.push(cgroup);
      if (gone.has(cgroup)) throw notFound(`Cannot find cgroup '${cgroup}'`);
      t += 1_000_000_000n;
      return {
        timestampNs: t,
        cpu: { usageNs: Number(t) / 2 },
        memory: {
          usageBytes: 100,
          workingSetBytes: 60,
          rssBytes: 50,
          cacheBytes: 50,
          pageFaults: 0,
          majorPageFaults: 0,
          limitBytes: 1000,
        },
      };
    },
  };
}

describe('StatsCollector', () => {
  it('derives usage_nano_cores from the last two samples', async () => {
    const m = fakeManager();
    const c = new StatsCollector(m);
    c.track('c1', { cgroup: '/n/c1' });
    await c.refresh();
    expect(c.sample('c1')?.cpu.usageNanoCores).toBeUndefined();
    await c.refresh();
    expect(c.sample('c1')?.cpu.usageNanoCores).toBe(500_000_000);
    expect(c.sample('c1')?.memory?.availableBytes).toBe(940);
  });

  it('serves cached samples without reading the cgroup again', async () => {
    const m = fakeManager();
    const c = new StatsCollector(m);
    c.track('c1', { cgroup: '/n/c1' });
    await c.refresh();
    c.sample('c1');
    c.sample('c1');
    expect(c.samples()).toHaveLength(1);
    expect(m.calls).toEqual(['/n/c1']);
  });

  it('reads a container that has no sample yet at once', () => {
    const c = new StatsCollector(fakeManager());
    c.track('new', { cgroup: '/n/new' });
    expect(c.sample('new')?.cpu.usageNs).toBeGreaterThan(0);
    expect(c.sample('unknown')).toBeUndefined();
  });

  it('drops the sample of a cgroup that disappeared without reporting an error', async () => {
    const m = fakeManager();
    const errors: unknown[] = [];
    const c = new StatsCollector(m, { onError: (_id, e) => errors.push(e) });
    c.track('c1', { cgroup: '/n/c1' });
    await c.refresh();
    m.gone.add('/n/c1');
    await c.refresh();
    expect(c.samples()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('adds the pod’s network counters from /proc/<pid>/net/dev', async () => {
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-proc-'));
    try {
      fs.mkdirSync(path.join(proc, '42', 'net'), { recursive: true });
      fs.writeFileSync(path.join(proc, '42', 'net', 'dev'), NET_DEV);
      const c = new StatsCollector(fakeManager(), { procRoot: proc });
      c.track('pod', { cgroup: '/n/pod', netPid: () => 42 });
      await c.refresh();
      expect(c.sample('pod')?.network?.defaultInterface).toEqual({
        name: 'eth0',
        rxBytes: 5000,
        rxErrors: 1,
        txBytes: 3000,
        txErrors: 2,
      });
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });

  it('refreshes on its own once started, until stopped', async () => {
    const m = fakeManager();
    const c = new StatsCollector(m, { periodMs: 5 });
    c.track('c1', { cgroup: '/n/c1' });
    c.start();
    while (m.calls.length < 3) await new Promise((r) => setTimeout(r, 5));
    c.stop();
    const n = m.calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(m.calls.length).toBeLessThanOrEqual(n + 1);
  });
});

describe('parseNetDev', () => {
  it('reads bytes and errors of every interface', () => {
    expect(parseNetDev(NET_DEV).map((i) => i.name)).toEqual(['lo', 'eth0']);
  });
});
