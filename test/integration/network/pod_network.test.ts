// Root and the real kernel: pods on a bridge through Debian's CNI plugins.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN_DIRS, createHarness, freeSubnet, Harness } from './harness';
import { inNetns, removeNetns } from '../../support/netns';

jest.setTimeout(120_000);

let h: Harness;
beforeAll(() => {
  h = createHarness();
  h.manager().installDefaultConflist();
});
afterAll(() => h.cleanup());

const pod = (name: string, netnsPath: string) => ({
  podId: `pod-${name}-${Math.random().toString(36).slice(2, 8)}`,
  name,
  namespace: 'default',
  uid: `uid-${name}`,
  netnsPath,
});

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function allocatedIps(h: Harness): string[] {
  const dir = path.join(h.cacheDir, 'networks', 'nodelet');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n));
}

describe('pod networks through the default conflist', () => {
  test('the network is ready once the default conflist is installed', () => {
    expect(h.manager().condition()).toMatchObject({ type: 'NetworkReady', status: true });
  });

  test('two pods get distinct IPs on the bridge and reach each other', async () => {
    const manager = h.manager();
    const a = pod('a', h.netns('a'));
    const b = pod('b', h.netns('b'));
    const sa = await manager.setUp(a);
    const sb = await manager.setUp(b);
    try {
      expect(sa.ips).toHaveLength(1);
      expect(sb.ips).toHaveLength(1);
      expect(sa.ips[0]).not.toEqual(sb.ips[0]);
      expect(sa.ips[0].startsWith(h.podCidr.split('.').slice(0, 3).join('.'))).toBe(true);
      expect(inNetns(a.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '5', sb.ips[0]])).toContain(
        '1 packets received',
      );
      expect(inNetns(b.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '5', sa.ips[0]])).toContain(
        '1 packets received',
      );
      expect(manager.status(a.podId)?.ips).toEqual(sa.ips);
    } finally {
      await manager.tearDown(a.podId);
      await manager.tearDown(b.podId);
    }
    expect(manager.status(a.podId)).toBeUndefined();
  });

  test('tearDown removes the veth and the IP allocation, and a second tearDown succeeds', async () => {
    const manager = h.manager();
    const p = pod('del', h.netns('del'));
    const s = await manager.setUp(p);
    const veth = s.interfaces.find((i) => !i.sandbox && i.name !== h.bridge)?.name;
    expect(veth).toBeDefined();
    expect(linkExists(veth!)).toBe(true);
    expect(allocatedIps(h)).toContain(s.ips[0]);

    await manager.tearDown(p.podId);
    expect(linkExists(veth!)).toBe(false);
    expect(allocatedIps(h)).not.toContain(s.ips[0]);
    await expect(manager.tearDown(p.podId)).resolves.toBeUndefined();
  });

  test('a fresh manager (a restarted daemon) tears down a pod whose netns is already gone', async () => {
    const p = pod('gone', h.netns('gone'));
    const s = await h.manager().setUp(p);
    removeNetns(p.netnsPath);

    const restarted = h.manager();
    expect(restarted.status(p.podId)?.ips).toEqual(s.ips);
    await restarted.tearDown(p.podId);
    expect(allocatedIps(h)).not.toContain(s.ips[0]);
    expect(restarted.status(p.podId)).toBeUndefined();
    await expect(restarted.tearDown(p.podId, p.netnsPath)).resolves.toBeUndefined();
  });

  test('CHECK passes for a pod that is set up', async () => {
    const manager = h.manager();
    const p = pod('check', h.netns('check'));
    await manager.setUp(p);
    try {
      await expect(manager.check(p.podId)).resolves.toBeUndefined();
    } finally {
      await manager.tearDown(p.podId);
    }
  });

  test('twenty pods set up in parallel all get distinct IPs', async () => {
    const manager = h.manager();
    const pods = Array.from({ length: 20 }, (_, i) => pod(`par${i}`, h.netns(`par${i}`)));
    const results = await Promise.allSettled(pods.map((p) => manager.setUp(p)));
    try {
      const failures = results.filter((r) => r.status === 'rejected');
      expect(failures).toEqual([]);
      const ips = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.ips : []));
      expect(new Set(ips).size).toBe(20);
    } finally {
      await Promise.all(pods.map((p) => manager.tearDown(p.podId)));
    }
    expect(allocatedIps(h)).toEqual([]);
  });

  test('after the pod CIDR changes, new pods get IPs from the new range and old ones still tear down', async () => {
    const manager = h.manager();
    const old = pod('oldcidr', h.netns('oldcidr'));
    const oldStatus = await manager.setUp(old);
    const next = freeSubnet();
    manager.setPodCidr(next);
    const fresh = pod('newcidr', h.netns('newcidr'));
    try {
      const freshStatus = await manager.setUp(fresh);
      expect(freshStatus.ips[0].startsWith(next.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    } finally {
      await manager.tearDown(fresh.podId);
      await manager.tearDown(old.podId);
      manager.setPodCidr(h.podCidr);
    }
    expect(allocatedIps(h)).not.toContain(oldStatus.ips[0]);
  });

  test('NetworkReady is false, naming the plugins, when the bin dirs lack them', () => {
    const empty = path.join(h.root, 'no-plugins');
    fs.mkdirSync(empty, { recursive: true });
    const condition = h.manager({ binDirs: [empty] }).condition();
    expect(condition).toMatchObject({ status: false, reason: 'NetworkPluginNotReady' });
    expect(condition.message).toContain("'bridge', 'portmap', 'bandwidth'");
    expect(h.manager({ binDirs: BIN_DIRS }).condition().status).toBe(true);
  });

  test('a pod whose netns is not a network namespace is refused and leaves no record', async () => {
    const manager = h.manager();
    const file = path.join(h.root, 'not-a-netns');
    fs.writeFileSync(file, '');
    const p = pod('bad', file);
    await expect(manager.setUp(p)).rejects.toThrow(/is not a netns/);
    expect(manager.status(p.podId)).toBeUndefined();
  });
});
